// Ticket access (UKCloud's "My Calls Admin"): a ticket administrator without
// the Users page sees the organisation's people by name and sets their ticket
// access (ticketAccessMembers, setTicketAccess).

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, debounce, emptyState, formatNumber, h, listRegion, table, toast } from "../dom.js";
import { N_, t, tx } from "../i18n.js";
import { state } from "../state.js";

const PAGE = 50;
const LIST = `query TicketAccessMembers($org: ID!, $search: String, $after: String) {
  ticketAccessMembers(organisationId: $org, search: $search, first: ${PAGE}, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { membershipId displayName ticketAccess }
  }
}`;
// The levels in the same words wherever they appear (this list, a member's page, the invite form).
export const TICKET_ACCESS = [["NONE", N_("None")], ["OWN", N_("Own tickets")], ["ACCOUNT", N_("All tickets of the account")], ["ADMIN", N_("Ticket administrator")]];
const LEVELS = TICKET_ACCESS;

export function ticketAccessLabel(level) {
  const found = TICKET_ACCESS.find(([value]) => value === level);
  return found ? t(found[1]) : level;
}

export async function list(section, params, { current }) {
  const org = state.org;
  const results = listRegion(t("Loading people…"));
  const more = h("button", { type: "button", hidden: true }, t("Load more"));
  let search = "";
  let cursor = null;
  let shown = 0;
  let addRows = null;

  const control = (row) => {
    const select = h("select", { "aria-label": t("Ticket access of {name}", { name: row.displayName }), value: row.ticketAccess },
      LEVELS.map(([value, label]) => h("option", { value }, t(label))));
    select.addEventListener("change", async () => {
      select.disabled = true;
      try {
        const payload = await mutate(`mutation SetTicketAccess($input: SetTicketAccessInput!) {
          setTicketAccess(input: $input) { membership { ticketAccess } ${USER_ERROR} } }`,
        { input: { membershipId: row.membershipId, ticketAccess: select.value } }, "setTicketAccess");
        if (payload.errors.length) {
          toast(payload.errors[0].message);
          select.value = row.ticketAccess;
        } else {
          row.ticketAccess = payload.membership.ticketAccess;
          toast(t("Ticket access of {name} saved.", { name: row.displayName }));
        }
      } catch (error) {
        if (error.code !== "CANCELLED") toast(error.message);
        select.value = row.ticketAccess;
      } finally {
        select.disabled = false;
      }
    });
    return select;
  };
  const cells = (row) => [row.displayName, control(row)];

  async function load(append = false) {
    results.loading();
    const { ticketAccessMembers: page } = await gql(LIST, {
      org: org.id, search: search.trim() || null, after: append ? cursor : null,
    });
    if (!current()) return;
    cursor = page.pageInfo.endCursor;
    let listed = null;
    if (append) {
      addRows(page.nodes.map(cells));
      shown += page.nodes.length;
    } else {
      const empty = search.trim()
        ? emptyState(t("Nobody matches."), { hint: t("Try another part of the name.") })
        : emptyState(t("Nobody here yet."), { hint: t("People appear here once an administrator of {name} adds them.", { name: org.name }) });
      listed = table([t("Name"), t("Ticket access")], page.nodes.map(cells), { caption: t("People and their ticket access"), empty });
      addRows = listed.addRows;
      shown = page.nodes.length;
    }
    results.show(listed?.el ?? null, t("Showing {shown} of {count}.", { shown: formatNumber(shown), count: formatNumber(page.totalCount) }));
    more.hidden = !page.pageInfo.hasNextPage;
  }
  more.addEventListener("click", () => load(true));

  clear(section,
    h("div", { class: "page-head" }, h("h1", {}, t("Ticket access"))),
    h("p", { class: "muted" }, t("Who may raise and see support tickets in {name}.", { name: org.name })),
    h("form", { class: "filters", role: "search", "aria-label": t("Find people"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" },
        h("label", { for: "ticket-access-search" }, t("Search")),
        h("input", { id: "ticket-access-search", type: "search", placeholder: t("Name"), oninput: debounce((e) => { search = e.target.value; load(); }) }))),
    results.el,
    h("div", { class: "list-footer" }, results.status, more));
  await load();
}
