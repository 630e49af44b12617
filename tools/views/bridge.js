"use strict";
// The view side of MCP Apps (io.modelcontextprotocol/ui, 2026-01-26): JSON-RPC 2.0 over postMessage
// with the host window only. Text from OpenPhone is written by strangers, so the DOM is built with
// text nodes and attributes, never parsed from markup. The spec promises a view nothing beyond
// scripts, and strict hosts sandbox it with `allow-scripts` alone (as the SDK's AppBridge documents):
// so no form submission, modal dialog or popup, and nothing that needs an origin (storage, cookies).
const bridge = (() => {
  const PROTOCOL_VERSION = "2026-01-26";
  const pending = new Map();
  const app = document.getElementById("app");
  let nextId = 1;
  let context = {};
  let toolArguments = {};
  let render = null;
  let held = null;
  let lastSize = "";

  function post(message) {
    // A sandboxed view has an opaque origin, so the host cannot be named; messages carry nothing private.
    window.parent.postMessage(message, "*");
  }

  function request(method, params) {
    const id = nextId++;
    post({ jsonrpc: "2.0", id, method, params });
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  }

  function notify(method, params) {
    post(params === undefined ? { jsonrpc: "2.0", method } : { jsonrpc: "2.0", method, params });
  }

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === undefined || child === null || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function applyContext(update) {
    context = { ...context, ...update };
    const root = document.documentElement;
    if (context.theme === "light" || context.theme === "dark") {
      root.dataset.theme = context.theme;
      root.style.colorScheme = context.theme;
    }
    const variables = (context.styles && context.styles.variables) || {};
    for (const [name, value] of Object.entries(variables)) {
      if (name.startsWith("--") && typeof value === "string") root.style.setProperty(name, value);
    }
  }

  function formatTime(iso) {
    const moment = new Date(iso);
    if (!iso || Number.isNaN(moment.getTime())) return "";
    const options = { dateStyle: "medium", timeStyle: "short" };
    try {
      return new Intl.DateTimeFormat(context.locale || undefined, { ...options, timeZone: context.timeZone }).format(moment);
    } catch (error) {
      return new Intl.DateTimeFormat(undefined, options).format(moment);
    }
  }

  function textOf(result) {
    const block = (result && Array.isArray(result.content) ? result.content : []).find((item) => item && item.type === "text");
    return block ? String(block.text) : "";
  }

  // The view reads structuredContent and falls back to the JSON text copy: some hosts drop the former.
  function dataOf(result) {
    if (result && result.structuredContent && typeof result.structuredContent === "object") return result.structuredContent;
    try {
      const parsed = JSON.parse(textOf(result));
      return parsed && typeof parsed === "object" ? parsed : null;
    } catch (error) {
      return null;
    }
  }

  function show(...nodes) {
    app.replaceChildren(...nodes);
  }

  function notice(text, kind) {
    return h("p", { class: `notice ${kind || ""}`.trim(), role: kind === "error" ? "alert" : "status" }, text);
  }

  function showResult(result) {
    const waiting = held && held.heldOf(result);
    if (waiting) {
      show(held.render(waiting));
      return;
    }
    if (!result || result.isError) {
      show(notice(textOf(result) || "The tool call failed.", "error"));
      return;
    }
    const data = dataOf(result);
    const node = data && render(data, toolArguments);
    show(node || h("pre", { class: "fallback" }, textOf(result)));
  }

  async function callTool(name, args) {
    const result = await request("tools/call", { name, arguments: args });
    if (!result || result.isError) throw new Error(textOf(result) || `${name} failed.`);
    const data = dataOf(result);
    if (!data) throw new Error(`${name} returned no data.`);
    return data;
  }

  async function sendMessage(text) {
    const result = await request("ui/message", { role: "user", content: [{ type: "text", text }] });
    if (result && result.isError) throw new Error("The host did not take the message.");
    return result;
  }

  function reportSize() {
    const rect = document.body.getBoundingClientRect();
    const size = { width: Math.ceil(rect.width), height: Math.ceil(rect.height) };
    const key = `${size.width}x${size.height}`;
    if (key === lastSize) return;
    lastSize = key;
    notify("ui/notifications/size-changed", size);
  }

  function answer(message) {
    if (message.method === "ui/resource-teardown" || message.method === "ping") {
      post({ jsonrpc: "2.0", id: message.id, result: {} });
    } else {
      post({ jsonrpc: "2.0", id: message.id, error: { code: -32601, message: `Method not found: ${message.method}` } });
    }
  }

  function receive(event) {
    if (event.source !== window.parent) return;
    const message = event.data;
    if (!message || message.jsonrpc !== "2.0") return;
    if (message.method === undefined) {
      const waiter = pending.get(message.id);
      if (!waiter) return;
      pending.delete(message.id);
      if (message.error) waiter.reject(new Error(message.error.message || "The host refused the request."));
      else waiter.resolve(message.result);
    } else if (message.id !== undefined) {
      answer(message);
    } else if (message.method === "ui/notifications/tool-input") {
      toolArguments = (message.params && message.params.arguments) || {};
    } else if (message.method === "ui/notifications/tool-result") {
      showResult(message.params);
    } else if (message.method === "ui/notifications/tool-cancelled") {
      show(notice("The tool call was cancelled.", "error"));
    } else if (message.method === "ui/notifications/host-context-changed") {
      applyContext(message.params || {});
    }
  }

  // The order of the SDK's App.connect(): ui/initialize, then ui/notifications/initialized (no
  // params), and only then the size; nothing else goes to the host before initialized.
  // `heldSends` (confirm.js) renders a result that holds a send for the person, when the view has one.
  async function start(name, renderData, heldSends) {
    render = renderData;
    held = heldSends || null;
    window.addEventListener("message", receive);
    show(notice("Waiting for the result…"));
    const result = await request("ui/initialize", {
      protocolVersion: PROTOCOL_VERSION,
      appInfo: { name: `openphone-${name}`, version: "1" },
      appCapabilities: { availableDisplayModes: ["inline"] },
    });
    applyContext((result && result.hostContext) || {});
    notify("ui/notifications/initialized");
    new ResizeObserver(reportSize).observe(document.body);
  }

  return { h, notice, formatTime, callTool, sendMessage, start };
})();
