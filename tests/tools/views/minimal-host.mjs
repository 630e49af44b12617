// A minimal MCP Apps host bridge (2026-01-26), written from the spec: it answers ui/initialize, sends
// the tool input and the real result once the view says it is initialized (never before: spec,
// "Lifecycle"), answers the view's tools/call and ui/message, and follows its size.
export async function start(host) {
  const view = host.frame.contentWindow;

  function send(message) {
    view.postMessage({ jsonrpc: "2.0", ...message }, "*");
  }

  async function answer(message) {
    if (message.method === "ui/initialize") {
      return {
        protocolVersion: "2026-01-26",
        hostInfo: host.hostInfo,
        hostCapabilities: host.hostCapabilities,
        hostContext: host.hostContext,
      };
    }
    if (message.method === "tools/call") return host.callTool(message.params);
    if (message.method === "ui/message") return host.message(message.params);
    throw new Error(`Method not found: ${message.method}`);
  }

  window.addEventListener("message", async (event) => {
    if (event.source !== view) return;
    const message = event.data;
    if (message.id !== undefined && message.method) {
      try {
        send({ id: message.id, result: await answer(message) });
      } catch (error) {
        send({ id: message.id, error: { code: -32603, message: error.message } });
      }
    } else if (message.method === "ui/notifications/initialized") {
      const result = await host.toolResult();
      send({ method: "ui/notifications/tool-input", params: { arguments: host.scenario.arguments } });
      send({ method: "ui/notifications/tool-result", params: result });
    } else if (message.method === "ui/notifications/size-changed") {
      host.resize(message.params);
    }
  });

  return (update) => send({ method: "ui/notifications/host-context-changed", params: update });
}
