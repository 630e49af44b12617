// The Call view: a call summary (get-call-summary) or calls with their transcripts
// (fetch-call-transcripts), each turn labelled with its speaker and time, or the reason there is none.
function clock(seconds) {
  const whole = Math.max(0, Math.floor(Number(seconds) || 0));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

function points(title, items) {
  if (!Array.isArray(items) || !items.length) return null;
  return [bridge.h("h3", {}, title), bridge.h("ul", { class: "points" }, ...items.map((item) => bridge.h("li", {}, item)))];
}

function summaryCard(data) {
  const summary = data.summary || {};
  const body = [points("Summary", summary.summary), points("Next steps", summary.nextSteps)].filter(Boolean).flat();
  return bridge.h("section", { class: "card" },
    bridge.h("h1", {}, "Call summary"),
    bridge.h("p", { class: "muted" }, summary.callId ? `Call ${summary.callId}` : ""),
    ...(body.length ? body : [bridge.notice(data.note)]));
}

function turn(line) {
  const ours = Boolean(line.userId);
  return bridge.h("li", { class: ours ? "turn ours" : "turn" },
    bridge.h("span", { class: "speaker" }, ours ? "Your team" : line.identifier || "Unknown speaker",
      bridge.h("span", { class: "muted" }, ` ${clock(line.start)}`)),
    bridge.h("p", { class: "text" }, line.content));
}

function callCard(entry) {
  const call = entry.call;
  const minutes = call.duration ? ` · ${clock(call.duration)}` : "";
  const heading = `${call.direction === "outgoing" ? "Outgoing" : "Incoming"} call with ${call.participants.join(", ")}`;
  const dialogue = Array.isArray(entry.dialogue) && entry.dialogue.length
    ? bridge.h("ol", { class: "turns", "aria-label": "Transcript" }, ...entry.dialogue.map(turn))
    : bridge.notice(entry.note);
  return bridge.h("section", { class: "card" },
    bridge.h("h2", {}, heading),
    bridge.h("p", { class: "muted" }, `${bridge.formatTime(call.createdAt)}${minutes} · `, bridge.h("span", { class: `chip ${call.status}` }, call.status)),
    dialogue);
}

function callView(data) {
  if ("summary" in data && "availability" in data) return summaryCard(data);
  if (!Array.isArray(data.calls)) return null;
  const cards = data.calls.map(callCard);
  return bridge.h("div", {}, bridge.h("h1", {}, "Calls"), ...(cards.length ? cards : [bridge.notice("No calls.")]));
}

bridge.start("call", callView);
