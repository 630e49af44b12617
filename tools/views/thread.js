// A thread as bubbles, oldest at the top. "Older" pages back through the app-only read-thread tool;
// "Draft a reply" hands a request for a draft to the conversation (ui/message) and never sends.
function messageBubble(message) {
  const outgoing = message.direction === "outgoing";
  return bridge.h("li", { class: outgoing ? "bubble out" : "bubble in" },
    bridge.h("div", { class: "meta" },
      bridge.h("span", { class: "from" }, outgoing ? `You (${message.from})` : message.from),
      bridge.h("time", { datetime: message.createdAt }, bridge.formatTime(message.createdAt)),
      bridge.h("span", { class: `chip ${message.status}` }, message.status)),
    bridge.h("p", { class: "text" }, message.text));
}

// No form element: a host may sandbox the view with allow-scripts alone, and then a form's submission is
// blocked before any handler runs. A plain button works under every sandbox.
function draftPanel(participant, inbox) {
  const label = bridge.h("label", { for: "draft-text" }, "Ideas for a reply (optional)");
  const text = bridge.h("textarea", { id: "draft-text", rows: 2 });
  const status = bridge.h("p", { class: "muted", role: "status" });
  const button = bridge.h("button", { type: "button", onclick: askForDraft }, "Draft a reply");
  async function askForDraft() {
    const ideas = text.value.trim();
    const ask = `Draft a reply to ${participant} in my OpenPhone thread from ${inbox}`;
    const prompt = `${ask}${ideas ? `, based on this: "${ideas}"` : ""}. Show me the draft; do not send it until I confirm.`;
    button.disabled = true;
    try {
      await bridge.sendMessage(prompt);
      status.textContent = "Asked for a draft in the conversation. Nothing was sent.";
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  }
  return bridge.h("div", { class: "draft" }, label, text, button, status);
}

function threadPanel(page, args) {
  const messages = [...page.messages];
  const participant = args.participant;
  let next = page.nextPageToken;
  const list = bridge.h("ol", { class: "bubbles", "aria-label": "Messages, oldest first" });
  const status = bridge.h("p", { class: "muted", role: "status" });
  const older = bridge.h("button", { type: "button", class: "older", onclick: loadOlder }, "Older");
  const title = participant ? `Thread with ${participant}` : "Recent messages";
  const heading = bridge.h("h1", { tabindex: -1 }, title);

  function draw() {
    list.replaceChildren(...messages.slice().reverse().map(messageBubble));
    older.hidden = !(next && participant);
    status.textContent = messages.length ? `${messages.length} messages` : "No messages.";
  }

  async function loadOlder() {
    older.disabled = true;
    try {
      const request = { inbox: page.inboxId, participant, pageToken: next };
      for (const key of ["maxResults", "createdAfter", "createdBefore"]) {
        if (args[key] !== undefined) request[key] = args[key];
      }
      const earlier = await bridge.callTool("read-thread", request);
      messages.push(...earlier.messages);
      next = earlier.nextPageToken;
      draw();
    } catch (error) {
      status.textContent = error.message;
    } finally {
      older.disabled = false;
    }
  }

  draw();
  const panel = bridge.h("div", { class: "thread" },
    bridge.h("div", { class: "toolbar" }, heading, older), list, status);
  if (participant) panel.append(draftPanel(participant, page.inboxId));
  panel.focusHeading = () => heading.focus();
  return panel;
}
