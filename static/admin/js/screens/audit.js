// The audit log: filters (action, dates, who did it and whom it was about, picked
// by name; a reseller's customers included unless it narrows the view), 50 events
// a page newest first, each as a sentence with its before and after side by side;
// the same filters as a CSV download. And
// "My activity": what was done to the viewer (viewer.auditEvents), for everyone.

import { gql } from "../api.js";
import { clear, debounce, emptyState, formatNumber, h, humanise, listRegion, table, timeEl } from "../dom.js";
import { N_, t, tn } from "../i18n.js";
import { can, state } from "../state.js";

const FIELDS = "id createdAt action summary clientIp details";

const EVENTS = `query Audit($org: ID!, $descendants: Boolean!, $action: String, $actor: ID, $target: ID, $since: DateTime, $until: DateTime, $after: String) {
  auditEvents(organisationId: $org, includeDescendants: $descendants, action: $action, actorId: $actor, targetId: $target, since: $since, until: $until, order: NEWEST_FIRST, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ${FIELDS} organisation { name } }
  }
}`;

// The people a filter may name: the members of the organisations listed.
const PEOPLE = `query AuditPeople($org: ID!, $descendants: Boolean!, $search: String) {
  members(organisationId: $org, includeDescendants: $descendants, search: $search, first: 8) {
    nodes { id user { id displayName email } organisation { name } }
  }
}`;

const MINE = `query MyActivity($after: String) {
  viewer { auditEvents(first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { ${FIELDS} organisation { name } }
  } }
}`;

const ACTIONS = ["member.", "invitation.", "organisation.", "auth.", "two_factor.", "impersonation.", "api_token.", "ticket.", "extension.", "contact."];

// Field names of before/after in words (the rest: camelCase split into words).
const FIELD_WORDS = {
  canImpersonate: N_("May open members' portals"),
  restrictRecordingDeletion: N_("May not delete call recordings"),
  portalAccess: N_("Portal access"),
  doNotDisturb: N_("Do not disturb"),
  ticketAccess: N_("Ticket access"),
  seatLimit: N_("Seat limit"),
  member: N_("Assigned to"),
  url: N_("Address"),
};
const CONDITIONS = {
  ALWAYS: N_("always"), BUSY: N_("when busy"), NO_ANSWER: N_("without answer"), UNAVAILABLE: N_("when unreachable"),
};

function fieldWords(key) {
  if (FIELD_WORDS[key]) return t(FIELD_WORDS[key]);
  const words = key.replace(/([a-z0-9])([A-Z])/g, "$1 $2").toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A stored value in words: switches as on/off, people by name, rules as sentences. */
export function valueWords(value) {
  if (value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length)) return t("none");
  if (value === true) return t("on");
  if (value === false) return t("off");
  if (Array.isArray(value)) return value.map(valueWords).join("; ");
  if (typeof value === "object") {
    if ("name" in value) return String(value.name);
    if ("condition" in value) {
      const condition = CONDITIONS[value.condition] ? t(CONDITIONS[value.condition]) : value.condition;
      return value.ringSeconds
        ? t("{condition} after {seconds} s to {destination}", { condition, seconds: value.ringSeconds, destination: value.destination })
        : t("{condition} to {destination}", { condition, destination: value.destination });
    }
    return Object.entries(value).map(([k, v]) => `${fieldWords(k)}: ${valueWords(v)}`).join(", ");
  }
  const text = String(value);
  return /^[A-Z_]+$/.test(text) ? humanise(text) : text; // enum values by their translated labels
}

/** Before and after as two lists side by side; only the fields the event names. */
function beforeAfter(details) {
  const before = details?.before;
  const after = details?.after;
  if (before === undefined && after === undefined) return null;
  const side = (label, values) => {
    const list = h("dl", { class: "facts" });
    if (values && typeof values === "object" && !Array.isArray(values)) {
      for (const [key, value] of Object.entries(values)) {
        list.append(h("dt", {}, fieldWords(key)), h("dd", {}, valueWords(value)));
      }
    } else {
      list.append(h("dt", {}, t("Value")), h("dd", {}, valueWords(values)));
    }
    return h("div", { class: "side" }, h("h3", { class: "side-label" }, label), list);
  };
  return h("div", { class: "before-after" }, side(t("Before"), before), side(t("After"), after));
}

function eventRows(withOrganisation) {
  return (e) => [
    timeEl(e.createdAt),
    h("div", { class: "event" },
      h("p", { class: "summary" }, e.summary),
      h("span", { class: "sub" }, h("code", {}, e.action)),
      beforeAfter(e.details),
      h("details", {}, h("summary", {}, t("Raw details")), h("pre", { class: "details" }, JSON.stringify(e.details, null, 2)))),
    ...(withOrganisation ? [e.organisation?.name ?? "—"] : []),
    e.clientIp || "—",
  ];
}

/** One list of events with "Load more": `fetchPage(after)` gives a connection;
 * `empty()` what an empty page says (nothing yet, or nothing matching the filters). */
function eventList({ fetchPage, current, columns, row, caption, empty }) {
  const results = listRegion(t("Loading events…"));
  const more = h("button", { type: "button", hidden: true }, t("Load more"));
  let cursor = null;
  let shown = 0;
  let addRows;

  async function load(append = false) {
    results.loading();
    const page = await fetchPage(append ? cursor : null);
    if (!current()) return;
    cursor = page.pageInfo.endCursor;
    let listed = null;
    if (append) {
      addRows(page.nodes.map(row()));
      shown += page.nodes.length;
    } else {
      listed = table(columns(), page.nodes.map(row()), { caption, empty: empty() });
      listed.table.classList.add("audit");
      addRows = listed.addRows;
      shown = page.nodes.length;
    }
    results.show(listed?.el ?? null, tn("Showing {shown} of {count} event, newest first.", "Showing {shown} of {count} events, newest first.", page.totalCount, { shown: formatNumber(shown), count: formatNumber(page.totalCount) }));
    more.hidden = !page.pageInfo.hasNextPage;
  }
  more.addEventListener("click", () => load(true));
  return { load, el: [results.el, h("div", { class: "list-footer" }, results.status, more)] };
}

/** "2026-11-03" (a date input) as the start of that day, local time, in ISO form. */
function dayStart(value, plusDays = 0) {
  if (!value) return null;
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d + plusDays).toISOString();
}

/** A person picked by name: a search field whose suggestions are the members of
 * the organisations listed ("Alice Acme (alice@acme.example.com)"). `person()` is
 * the one chosen (a User id) or null; `onChange` runs when that changes. */
function personPicker({ id, label, scope, onChange }) {
  const known = new Map(); // suggestion text → user id
  const options = h("datalist", { id: `${id}-people` });
  const hint = h("p", { class: "hint", id: `${id}-hint` }, t("Type a name or address, then choose the person."));
  const input = h("input", {
    id, type: "search", list: `${id}-people`, autocomplete: "off", "aria-describedby": `${id}-hint`,
  });
  let chosen = null;

  const say = (problem) => {
    input.setAttribute("aria-invalid", String(!!problem));
    hint.textContent = problem || t("Type a name or address, then choose the person.");
  };
  // A text that names nobody keeps the last choice and says so.
  const choose = (userId) => {
    say(input.value.trim() && !userId ? t("Choose a person from the suggestions.") : null);
    if (userId === chosen || (!userId && input.value.trim())) return;
    chosen = userId;
    onChange();
  };
  const suggest = debounce(async () => {
    const text = input.value.trim();
    if (!text || known.has(text)) return;
    const { org, descendants } = scope();
    const found = (await gql(PEOPLE, { org, descendants, search: text.replace(/[()<>,]/g, " ") })).members.nodes;
    const entries = [];
    for (const m of found) {
      const suggestion = descendants
        ? `${m.user.displayName} (${m.user.email}, ${m.organisation.name})`
        : `${m.user.displayName} (${m.user.email})`;
      if (!entries.some(([value]) => value === suggestion)) entries.push([suggestion, m.user.id]);
    }
    for (const [value, userId] of entries) known.set(value, userId);
    if (input.value.trim() !== text) return; // typed on meanwhile
    clear(options, entries.map(([value]) => h("option", { value })));
    if (known.has(text)) choose(known.get(text));
    else say(entries.length ? null : t("Nobody here has this name or address."));
  }, 200);
  const update = () => {
    const text = input.value.trim();
    if (!text) return choose(null);
    if (known.has(text)) return choose(known.get(text));
    suggest();
  };
  input.addEventListener("input", update);
  input.addEventListener("change", () => {
    const text = input.value.trim();
    choose(text ? known.get(text) ?? null : null);
  });
  return {
    person: () => chosen,
    el: h("div", { class: "field person-picker" }, h("label", { for: id }, label), input, options, hint),
  };
}

export async function log(section, params, { current }) {
  const org = state.org;
  const reseller = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const exportLink = h("a", { class: "button", download: "" }, t("Export CSV"));

  const controls = {
    action: h("input", { id: "audit-action", type: "search", list: "audit-actions", placeholder: t("e.g. member.") }),
    since: h("input", { id: "audit-since", type: "date" }),
    until: h("input", { id: "audit-until", type: "date" }),
    // A reseller sees its customers' events too (the customer it just created
    // included) until it narrows the view to itself.
    descendants: reseller ? h("input", { id: "audit-descendants", type: "checkbox", checked: true }) : null,
  };
  const scope = () => ({ org: org.id, descendants: !!controls.descendants?.checked });
  const pickers = can("MEMBERS_VIEW")
    ? {
      actor: personPicker({ id: "audit-actor", label: t("Done by"), scope, onChange: () => list.load() }),
      target: personPicker({ id: "audit-target", label: t("About"), scope, onChange: () => list.load() }),
    }
    : null;
  const filters = () => ({
    ...scope(),
    action: controls.action.value.trim() || null,
    actor: pickers?.actor.person() ?? null,
    target: pickers?.target.person() ?? null,
    since: dayStart(controls.since.value),
    until: dayStart(controls.until.value, 1),
  });

  const list = eventList({
    current,
    caption: t("Audit events, newest first"),
    empty: () => {
      const f = filters();
      return f.action || f.actor || f.target || f.since || f.until
        ? emptyState(t("No events match these filters."), { hint: t("Change or clear the filters to see more.") })
        : emptyState(t("Nothing recorded yet."), { hint: t("Sign-ins and every change to people, settings and tickets are listed here as they happen.") });
    },
    columns: () => [t("When"), t("What happened"), ...(filters().descendants ? [t("Organisation")] : []), t("Address")],
    row: () => eventRows(filters().descendants),
    async fetchPage(after) {
      const f = filters();
      const query = new URLSearchParams({ organisationId: f.org });
      if (f.descendants) query.set("includeDescendants", "true");
      if (f.action) query.set("action", f.action);
      if (f.actor) query.set("actorId", f.actor);
      if (f.target) query.set("targetId", f.target);
      if (f.since) query.set("since", f.since);
      if (f.until) query.set("until", f.until);
      exportLink.href = `/audit/export.csv?${query}`;
      return (await gql(EVENTS, { ...f, after })).auditEvents;
    },
  });
  for (const control of Object.values(controls)) control?.addEventListener("change", () => list.load());

  clear(section,
    h("div", { class: "page-head" }, h("h1", {}, t("Audit log")), exportLink),
    h("form", { class: "filters", role: "search", "aria-label": t("Filter the audit log"), onsubmit: (e) => { e.preventDefault(); list.load(); } },
      h("div", { class: "field grow" }, h("label", { for: "audit-action" }, t("Action (exact, or a prefix ending in a dot)")), controls.action,
        h("datalist", { id: "audit-actions" }, ACTIONS.map((a) => h("option", { value: a })))),
      pickers?.actor.el, pickers?.target.el,
      h("div", { class: "field" }, h("label", { for: "audit-since" }, t("From")), controls.since),
      h("div", { class: "field" }, h("label", { for: "audit-until" }, t("To")), controls.until),
      controls.descendants ? h("div", { class: "check" }, controls.descendants, h("label", { for: "audit-descendants" }, t("Include customers"))) : null,
      h("button", { type: "submit" }, t("Apply"))),
    list.el);
  await list.load();
}

export async function myActivity(section, params, { current }) {
  const list = eventList({
    current,
    caption: t("What was done to your account, newest first"),
    empty: () => emptyState(t("Nothing has been recorded about you yet."), { hint: t("Your sign-ins and changes to your account are listed here as they happen.") }),
    columns: () => [t("When"), t("What happened"), t("Organisation"), t("Address")],
    row: () => eventRows(true),
    async fetchPage(after) {
      return (await gql(MINE, { after })).viewer.auditEvents;
    },
  });
  clear(section,
    h("div", { class: "page-head" }, h("h1", {}, t("My activity"))),
    h("p", { class: "muted" }, t("Changes to your account and its settings, by you or by an administrator (also while acting as you), and your sign-ins.")),
    list.el);
  await list.load();
}
