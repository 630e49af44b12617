// A held send (issue 23): who would send what to whom, with Send and Cancel. The token that settles
// it arrives only in the result's _meta, which the host gives the view and not the model; the view
// sends it back through the host's tools/call to the app-only confirm-send tool. No form: the view
// runs under sandbox="allow-scripts" alone, and the text is written with text nodes only.
const confirmation = (() => {
  const META_KEY = "openphone/confirmation";

  function heldOf(result) {
    const meta = result && result._meta;
    const held = meta && meta[META_KEY];
    return held && typeof held.token === "string" ? held : null;
  }

  function render(held) {
    const recipients = Array.isArray(held.recipients) ? held.recipients : [];
    const outcome = bridge.h("div", { class: "outcome" });
    const send = bridge.h("button", { type: "button", class: "primary" }, "Send");
    const cancel = bridge.h("button", { type: "button" }, "Cancel");

    async function settle(decision) {
      send.disabled = true;
      cancel.disabled = true;
      outcome.replaceChildren(bridge.notice(decision === "send" ? "Sending…" : "Cancelling…"));
      try {
        const data = await bridge.callTool("confirm-send", { token: held.token, decision });
        outcome.replaceChildren(bridge.notice(data.message));
      } catch (error) {
        outcome.replaceChildren(bridge.notice(error.message, "error"));
      }
    }

    send.addEventListener("click", () => settle("send"));
    cancel.addEventListener("click", () => settle("cancel"));
    return bridge.h("section", { class: "card held" },
      bridge.h("h1", {}, "Send this text?"),
      bridge.h("dl", { class: "fields" },
        bridge.h("dt", {}, "From"), bridge.h("dd", { class: "sender" }, held.sender),
        bridge.h("dt", {}, `To (${recipients.length})`),
        bridge.h("dd", {}, bridge.h("ul", { class: "recipients" }, ...recipients.map((number) => bridge.h("li", {}, number)))),
        bridge.h("dt", {}, "Text"), bridge.h("dd", {}, bridge.h("p", { class: "text" }, held.text))),
      bridge.h("p", { class: "muted" }, `Nothing is sent unless you press Send before ${bridge.formatTime(held.expiresAt)}.`),
      bridge.h("div", { class: "actions" }, send, cancel),
      outcome);
  }

  return { heldOf, render };
})();
