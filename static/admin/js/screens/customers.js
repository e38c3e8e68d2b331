// A reseller's console (or the provider's): its customers with their people,
// seats, status, two-step policy and last activity; search and sort; creating a
// customer (then inviting its owner).

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, debounce, emptyState, formatNumber, h, humanise, listRegion, table, timeEl } from "../dom.js";
import { formDialog, openDialog } from "../forms.js";
import { N_, t, tn } from "../i18n.js";
import { navigate, reload } from "../router.js";
import { can, loadOrganisation, orgPath, state } from "../state.js";
import { inviteDialog } from "./users.js";

const PAGE = 50;
const CUSTOMERS = `query Customers($id: ID!, $search: String, $sort: CustomerOrder, $after: String) {
  organisation(id: $id) {
    children(search: $search, sort: $sort, first: ${PAGE}, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id name kind status requireTwoFactor requireTotpForAdmins memberCount lastActivityAt
        seats { used limit }
      }
    }
  }
}`;

const SORTS = [
  ["NAME", N_("Name")],
  ["PEOPLE", N_("Most people")],
  ["LAST_ACTIVITY", N_("Last activity")],
  ["NEWEST", N_("Newest")],
];

const SVG = "http://www.w3.org/2000/svg";
const PATHS = {
  // A circle with a tick (active) or a pause sign (suspended).
  ACTIVE: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.9-4.9 1.4 1.4-6.3 6.3z",
  SUSPENDED: "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zM9 8h2v8H9V8zm4 0h2v8h-2V8z",
  // The shield: whole (required), half (owners and admins), outline (not required).
  REQUIRED: "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.9-4.9 1.4 1.4-6.3 6.3z",
  ADMINS: "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3zm0 2.2 6 2.2V11c0 3.9-2.5 7.6-6 8.9V4.2z",
  OPTIONAL: "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3zm0 2.2 6 2.2V11c0 3.9-2.5 7.6-6 8.9-3.5-1.3-6-5-6-8.9V6.4l6-2.2z",
};

/** An icon that says something: an image whose name is `label` (its tooltip too). */
function icon(shape, label) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "18");
  svg.setAttribute("height", "18");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  svg.setAttribute("focusable", "false");
  const title = document.createElementNS(SVG, "title");
  title.textContent = label;
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("fill-rule", "evenodd");
  path.setAttribute("d", PATHS[shape]);
  svg.append(title, path);
  return svg;
}

/** The status as a badge: green with a tick when active, red when suspended. */
function statusIcon(status) {
  const active = status === "ACTIVE";
  return h("span", { class: `badge status-icon ${active ? "ok" : "danger"}` },
    icon(active ? "ACTIVE" : "SUSPENDED", active ? t("Status: active") : t("Status: suspended")));
}

/** The two-step policy as the shield: required of everyone, of owners and admins, or not. */
function policyIcon(org) {
  if (org.requireTwoFactor) return h("span", { class: "shield" }, icon("REQUIRED", t("Two-step verification required of everyone")));
  if (org.requireTotpForAdmins) return h("span", { class: "shield" }, icon("ADMINS", t("Two-step verification required of owners and admins")));
  return h("span", { class: "shield off" }, icon("OPTIONAL", t("Two-step verification not required")));
}

function seatsText({ used, limit }) {
  return limit === null
    ? t("{used} (no limit)", { used: formatNumber(used) })
    : t("{used} of {limit}", { used: formatNumber(used), limit: formatNumber(limit) });
}

function customerRow(org) {
  return [
    h("span", {}, h("a", { href: orgPath("", org.id) }, org.name),
      org.kind !== "CUSTOMER" ? [" ", h("span", { class: "badge info" }, humanise(org.kind))] : null),
    formatNumber(org.memberCount),
    seatsText(org.seats),
    statusIcon(org.status),
    policyIcon(org),
    timeEl(org.lastActivityAt),
  ];
}

export function createCustomerDialog(parent, { onCreated } = {}) {
  const kinds = parent.kind === "PROVIDER" ? [["CUSTOMER", t("Customer")], ["RESELLER", t("Reseller")]] : [["CUSTOMER", t("Customer")]];
  formDialog(t("New customer of {name}", { name: parent.name }), {
    label: t("Create a customer"),
    submitLabel: t("Create customer"),
    fields: [
      { name: "name", label: t("Name"), required: true, autofocus: true, autocomplete: "organization" },
      ...(kinds.length > 1 ? [{ name: "kind", label: t("Kind"), type: "select", options: kinds, value: "CUSTOMER" }] : []),
      { name: "requireTwoFactor", label: t("Members must use two-step verification"), type: "checkbox" },
    ],
    onSubmit: ({ name, kind, requireTwoFactor }) => mutate(`mutation Create($input: CreateOrganisationInput!) {
      createOrganisation(input: $input) { organisation { id name kind status } ${USER_ERROR} } }`,
    { input: { parentId: parent.id, name: name.trim(), kind: kind || "CUSTOMER", requireTwoFactor } }, "createOrganisation"),
    onSuccess: (payload) => {
      const created = payload.organisation;
      onCreated?.(created);
      createdDialog(created);
    },
  });
}

function createdDialog(org) {
  openDialog(t("{name} was created", { name: org.name }), (close) => h("div", {},
    h("p", {}, t("Invite the person who will own the account of {name}. They choose their password from the email.", { name: org.name })),
    h("div", { class: "actions end" },
      h("button", { type: "button", onclick: () => { close(); navigate(orgPath("", org.id)); } }, t("Open {name}", { name: org.name })),
      h("button", {
        type: "button",
        class: "primary",
        autofocus: true,
        onclick: async () => {
          close();
          const full = await loadOrganisation(org.id);
          navigate(orgPath("/users", org.id));
          inviteDialog(full, { role: "OWNER", onDone: () => reload() });
        },
      }, t("Invite its owner")))));
}

export async function tree(section, params, { current }) {
  const org = state.org;
  const create = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const results = listRegion(t("Loading customers…"), h("p", { class: "visually-hidden", "aria-live": "polite" }));
  const searchInput = h("input", { id: "customer-search", type: "search", placeholder: t("Customer name"), oninput: debounce(() => load()) });
  const sortSelect = h("select", { id: "customer-sort", onchange: () => load() },
    SORTS.map(([value, label]) => h("option", { value }, t(label))));
  const newCustomer = () => createCustomerDialog(org, { onCreated: () => load() });
  const columns = [t("Customer"), t("People"), t("Seats"), t("Status"), t("Two-step"), t("Last activity")];
  let asked = 0;

  async function load() {
    const mine = ++asked;
    const search = searchInput.value.trim();
    const variables = { id: org.id, search: search || null, sort: sortSelect.value, after: null };
    results.loading();
    let page;
    try {
      page = (await gql(CUSTOMERS, variables)).organisation.children;
    } catch (error) {
      if (mine !== asked || !current()) return;
      results.show(h("p", { class: "notice danger", role: "alert" }, error.message), error.message);
      return;
    }
    if (mine !== asked || !current()) return;
    const empty = search
      ? emptyState(t("No customer matches."), { hint: t("Try another part of the name.") })
      : emptyState(t("No customers yet."), create
        ? { hint: t("Create the first customer, then invite its owner."), action: h("button", { type: "button", onclick: newCustomer }, t("Create the first customer")) }
        : {});
    const list = table(columns, page.nodes.map(customerRow), { caption: t("Customers of {name}", { name: org.name }), empty });
    const more = h("p", {});
    const showMore = (info) => clear(more, info.hasNextPage ? h("button", {
      type: "button",
      onclick: async (e) => {
        e.currentTarget.disabled = true;
        const next = (await gql(CUSTOMERS, { ...variables, after: info.endCursor })).organisation.children;
        if (mine !== asked || !current()) return;
        list.addRows(next.nodes.map(customerRow));
        showMore(next.pageInfo);
      },
    }, t("Load more")) : null);
    showMore(page.pageInfo);
    const count = tn("{count} customer", "{count} customers", page.totalCount, { count: page.totalCount });
    results.show(h("div", {}, list.el, more), search ? tn("{count} match", "{count} matches", page.totalCount, { count: page.totalCount }) : count);
  }

  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Customers of {name}", { name: org.name })),
      create ? h("button", { type: "button", class: "primary", onclick: newCustomer }, t("Create customer")) : null),
    h("form", { class: "filters", role: "search", "aria-label": t("Search and sort customers"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" }, h("label", { for: "customer-search" }, t("Search customers")), searchInput),
      h("div", { class: "field" }, h("label", { for: "customer-sort" }, t("Sort by")), sortSelect)),
    results.status, results.el);
  await load();
}
