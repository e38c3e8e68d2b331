// The audit log: filters, 50 events a page, and the same filters as a CSV download.

import { gql } from "../api.js";
import { clear, formatNumber, h, table, timeEl } from "../dom.js";
import { t, tn } from "../i18n.js";
import { can, state } from "../state.js";

const EVENTS = `query Audit($org: ID!, $descendants: Boolean!, $action: String, $since: DateTime, $until: DateTime, $after: String) {
  auditEvents(organisationId: $org, includeDescendants: $descendants, action: $action, since: $since, until: $until, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id createdAt action actorLabel impersonatorLabel targetType targetLabel clientIp details organisation { name } }
  }
}`;

const ACTIONS = ["member.", "invitation.", "organisation.", "auth.", "two_factor.", "impersonation.", "api_token.", "ticket.", "extension.", "contact."];

/** "2026-11-03" (a date input) as the start of that day, local time, in ISO form. */
function dayStart(value, plusDays = 0) {
  if (!value) return null;
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

export async function log(section, params, { current }) {
  const org = state.org;
  const reseller = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const results = h("div", {});
  const summary = h("p", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, t("Load more"));
  const exportLink = h("a", { class: "button", download: "" }, t("Export CSV"));
  let cursor = null;
  let shown = 0;
  let addRows;

  const controls = {
    action: h("input", { id: "audit-action", type: "search", list: "audit-actions", placeholder: t("e.g. member.") }),
    since: h("input", { id: "audit-since", type: "date" }),
    until: h("input", { id: "audit-until", type: "date" }),
    descendants: reseller ? h("input", { id: "audit-descendants", type: "checkbox" }) : null,
  };
  const filters = () => ({
    org: org.id,
    descendants: !!controls.descendants?.checked,
    action: controls.action.value.trim() || null,
    since: dayStart(controls.since.value),
    until: dayStart(controls.until.value, 1),
  });

  const row = (e) => [
    timeEl(e.createdAt),
    h("code", {}, e.action),
    h("span", {}, e.actorLabel || "—", e.impersonatorLabel ? h("span", { class: "sub" }, t("via {name}", { name: e.impersonatorLabel })) : null),
    h("span", {}, e.targetLabel || "—", e.targetType ? h("span", { class: "sub" }, e.targetType) : null),
    ...(filters().descendants ? [e.organisation?.name ?? "—"] : []),
    e.clientIp || "—",
    Object.keys(e.details || {}).length
      ? h("details", {}, h("summary", {}, t("Details")), h("pre", { class: "details" }, JSON.stringify(e.details, null, 2)))
      : "",
  ];

  async function load(append = false) {
    const f = filters();
    const query = new URLSearchParams({ organisationId: f.org });
    if (f.descendants) query.set("includeDescendants", "true");
    if (f.action) query.set("action", f.action);
    if (f.since) query.set("since", f.since);
    if (f.until) query.set("until", f.until);
    exportLink.href = `/audit/export.csv?${query}`;
    const { auditEvents } = await gql(EVENTS, { ...f, after: append ? cursor : null });
    if (!current()) return;
    cursor = auditEvents.pageInfo.endCursor;
    if (append) {
      addRows(auditEvents.nodes.map(row));
      shown += auditEvents.nodes.length;
    } else {
      const columns = [t("When"), t("Action"), t("Who"), t("What"), ...(f.descendants ? [t("Organisation")] : []), t("Address"), ""];
      const listed = table(columns, auditEvents.nodes.map(row), { caption: t("Audit events"), empty: t("No events match these filters.") });
      addRows = listed.addRows;
      shown = auditEvents.nodes.length;
      clear(results, listed.el);
    }
    summary.textContent = tn("Showing {shown} of {count} event, newest first.", "Showing {shown} of {count} events, newest first.", auditEvents.totalCount, { shown: formatNumber(shown), count: formatNumber(auditEvents.totalCount) });
    more.hidden = !auditEvents.pageInfo.hasNextPage;
  }
  more.addEventListener("click", () => load(true));
  for (const control of Object.values(controls)) control?.addEventListener("change", () => load());

  clear(section,
    h("div", { class: "page-head" }, h("h1", {}, t("Audit log")), exportLink),
    h("form", { class: "filters", role: "search", "aria-label": t("Filter the audit log"), onsubmit: (e) => { e.preventDefault(); load(); } },
      h("div", { class: "field grow" }, h("label", { for: "audit-action" }, t("Action (exact, or a prefix ending in a dot)")), controls.action,
        h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a })))),
      h("div", { class: "field" }, h("label", { for: "audit-since" }, t("From")), controls.since),
      h("div", { class: "field" }, h("label", { for: "audit-until" }, t("To")), controls.until),
      controls.descendants ? h("div", { class: "check" }, controls.descendants, h("label", { for: "audit-descendants" }, t("Include customers"))) : null,
      h("button", { type: "submit" }, t("Apply"))),
    results,
    h("div", { class: "list-footer" }, summary, more));
  await load();
}
