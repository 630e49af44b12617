// The official MCP Apps host bridge: AppBridge from @modelcontextprotocol/ext-apps (the version
// scripts/install-node-clients pins), bundled for the browser as /app-bridge.mjs. It is set as
// strictly as it allows: strict capabilities, no MCP client to forward anything on its own, and only
// the handlers the views need; every tool call goes through the harness's app-visibility check.
import { AppBridge, PostMessageTransport } from "/app-bridge.mjs";

export async function start(host) {
  const bridge = new AppBridge(null, host.hostInfo, host.hostCapabilities, {
    hostContext: host.hostContext,
    enforceStrictCapabilities: true,
  });
  bridge.oncalltool = (params) => host.callTool(params);
  bridge.onmessage = (params) => host.message(params);
  bridge.onsizechange = (size) => host.resize(size);
  bridge.oninitialized = async () => {
    const result = await host.toolResult();
    await bridge.sendToolInput({ arguments: host.scenario.arguments });
    await bridge.sendToolResult(result);
  };
  const view = host.frame.contentWindow;
  await bridge.connect(new PostMessageTransport(view, view));
  let context = host.hostContext;
  return (update) => {
    context = { ...context, ...update };
    bridge.setHostContext(context);
  };
}
