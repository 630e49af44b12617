// The Contact card view (get-contact, create-contact, update-contact).
function fieldValue(value) {
  if (value === null || value === undefined || value === "") return "—";
  if (Array.isArray(value)) return value.join(", ");
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function fieldRows(label, entries) {
  return entries.flatMap((entry) => [
    bridge.h("dt", {}, entry.name ? `${label} (${entry.name})` : label),
    bridge.h("dd", {}, fieldValue(entry.value)),
  ]);
}

function contactCard(contact) {
  const fields = contact.defaultFields || {};
  const name = [fields.firstName, fields.lastName].filter(Boolean).join(" ") || "Unnamed contact";
  const work = [fields.role, fields.company].filter(Boolean).join(" · ");
  const custom = (contact.customFields || []).map((field) => ({ name: field.name || field.key, value: field.value }));
  const rows = [
    ...fieldRows("Phone", fields.phoneNumbers || []),
    ...fieldRows("Email", fields.emails || []),
    ...custom.flatMap((field) => [bridge.h("dt", {}, field.name || "Field"), bridge.h("dd", {}, fieldValue(field.value))]),
  ];
  return bridge.h("section", { class: "card contact" },
    bridge.h("div", { class: "toolbar" }, bridge.h("h1", {}, name), contact.source ? bridge.h("span", { class: "chip" }, contact.source) : null),
    work ? bridge.h("p", {}, work) : null,
    rows.length ? bridge.h("dl", { class: "fields" }, ...rows) : bridge.notice("No phone numbers, emails or custom fields."),
    bridge.h("p", { class: "muted" }, contact.externalId ? `id ${contact.id} · external id ${contact.externalId}` : `id ${contact.id}`));
}

bridge.start("contact", (data) => (data.id && data.defaultFields ? contactCard(data) : null));
