// The Conversations view (list-conversations): a row with one participant opens its thread through the
// app-only read-thread tool, in place, with a way back.
function conversationRow(conversation, open) {
  const who = conversation.name || conversation.participants.join(", ");
  const parts = [
    bridge.h("span", { class: "who" }, who),
    bridge.h("span", { class: "when muted" }, bridge.formatTime(conversation.lastActivityAt)),
    bridge.h("span", { class: "muted" }, `${conversation.participants.join(", ")} · inbox ${conversation.phoneNumberId || "unknown"}`),
  ];
  if (conversation.participants.length !== 1 || !conversation.phoneNumberId) {
    return bridge.h("li", {}, bridge.h("div", { class: "row" }, ...parts));
  }
  const label = `Open the thread with ${who}`;
  return bridge.h("li", {}, bridge.h("button", { type: "button", class: "row", "aria-label": label, onclick: open }, ...parts));
}

function conversationList(data) {
  const root = bridge.h("div", { class: "conversations" });
  const status = bridge.h("p", { class: "muted", role: "status" });

  async function open(conversation, row) {
    status.textContent = "Opening the thread…";
    const args = { inbox: conversation.phoneNumberId, participant: conversation.participants[0] };
    try {
      const page = await bridge.callTool("read-thread", args);
      const back = bridge.h("button", { type: "button", onclick: () => { root.replaceChildren(...list); row.focus(); } }, "Back to conversations");
      const panel = threadPanel(page, args);
      root.replaceChildren(back, panel);
      panel.focusHeading();
    } catch (error) {
      status.textContent = error.message;
    }
  }

  const rows = data.conversations.map((conversation) => {
    const row = conversationRow(conversation, () => open(conversation, row.firstChild));
    return row;
  });
  const heading = bridge.h("h1", {}, "Conversations");
  const list = [heading, rows.length ? bridge.h("ul", { class: "rows" }, ...rows) : bridge.notice("No conversations."), status];
  root.replaceChildren(...list);
  return root;
}

bridge.start("conversations", (data) => (Array.isArray(data.conversations) ? conversationList(data) : null));
