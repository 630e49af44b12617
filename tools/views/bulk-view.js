// The Bulk send view (bulk-messages): one row per recipient with its outcome, and the totals.
const OUTCOMES = { sent: "sent", failed: "failed", duplicate: "duplicate", "not-sent": "not sent" };

function outcomeDetail(outcome) {
  if (outcome.status === "sent") return outcome.messageId ? `message ${outcome.messageId}` : "";
  if (outcome.status === "duplicate") return "Listed twice; sent once above.";
  const reason = outcome.error || "";
  return outcome.mayHaveBeenSent ? `${reason} It may have been sent: check before sending again.`.trim() : reason;
}

function bulkTable(data) {
  const totals = [["Sent", data.sent], ["Failed", data.failed], ["Duplicates", data.duplicates], ["Not sent", data.notSent]];
  const rows = data.results.map((outcome) => bridge.h("tr", {},
    bridge.h("td", {}, outcome.to),
    bridge.h("td", {}, bridge.h("span", { class: `chip ${outcome.status}` }, OUTCOMES[outcome.status] || outcome.status)),
    bridge.h("td", {}, outcomeDetail(outcome))));
  return bridge.h("div", {},
    bridge.h("h1", {}, "Bulk send"),
    bridge.h("p", { class: "totals" }, ...totals.map(([label, count]) => bridge.h("span", {}, `${label}: ${count}`))),
    bridge.h("table", {},
      bridge.h("thead", {}, bridge.h("tr", {}, ["Recipient", "Outcome", "Detail"].map((title) => bridge.h("th", { scope: "col" }, title)))),
      bridge.h("tbody", {}, ...rows)));
}

bridge.start("bulk", (data) => (Array.isArray(data.results) ? bulkTable(data) : null), confirmation);
