// The Send view (send-message): the sent message, or the held send waiting for the person.
function sentMessage(message) {
  const to = Array.isArray(message.to) ? message.to.join(", ") : String(message.to || "");
  return bridge.h("section", { class: "card sent" },
    bridge.h("h1", {}, "Text sent"),
    bridge.h("dl", { class: "fields" },
      bridge.h("dt", {}, "From"), bridge.h("dd", {}, String(message.from || "")),
      bridge.h("dt", {}, "To"), bridge.h("dd", {}, to),
      bridge.h("dt", {}, "Text"), bridge.h("dd", {}, bridge.h("p", { class: "text" }, String(message.text || "")))),
    bridge.h("p", { class: "muted" }, `${message.status || "queued"} · ${bridge.formatTime(message.createdAt)}`));
}

bridge.start("send", (data) => (data.id ? sentMessage(data) : null), confirmation);
