// Customers of a reseller (or the provider): a tree to browse, a search
// across every level, and creating a customer (then inviting its owner).

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, debounce, emptyState, h, humanise, loadingNote, table } from "../dom.js";
import { formDialog, openDialog } from "../forms.js";
import { t, tn } from "../i18n.js";
import { navigate, reload } from "../router.js";
import { can, loadOrganisation, orgPath, state } from "../state.js";
import { inviteDialog } from "./users.js";

const CHILDREN = `query Children($id: ID!, $after: String) {
  organisation(id: $id) {
    children(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { id name kind status children { totalCount } }
    }
  }
}`;

const SEARCH = `query Search($search: String!) {
  organisations(search: $search, first: 50) {
    totalCount
    nodes { id name kind status parent { id name } }
  }
}`;

async function childrenOf(id) {
  const all = [];
  let after = null;
  do {
    const { organisation } = await gql(CHILDREN, { id, after });
    const page = organisation.children;
    all.push(...page.nodes);
    after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  } while (after);
  return all;
}

function orgLabel(org) {
  return [
    h("a", { href: orgPath("", org.id) }, org.name),
    org.kind !== "CUSTOMER" ? h("span", { class: "badge info" }, humanise(org.kind)) : null,
    org.status !== "ACTIVE" ? badge(org.status) : null,
  ];
}

/** One tree level: a list whose items expand (disclosure buttons) to their children. */
function treeLevel(nodes) {
  return h("ul", { role: "list" }, nodes.map((org) => {
    const count = org.children?.totalCount ?? 0;
    const item = h("li", {});
    const childBox = h("div", { hidden: true });
    const toggle = count
      ? h("button", {
        type: "button",
        class: "toggle",
        "aria-expanded": "false",
        "aria-label": tn("Show the customer of {name}", "Show the {count} customers of {name}", count, { count, name: org.name }),
        onclick: async (e) => {
          const button = e.currentTarget;
          const open = button.getAttribute("aria-expanded") === "true";
          button.setAttribute("aria-expanded", String(!open));
          button.textContent = open ? "▸" : "▾";
          if (!open && !childBox.firstChild) childBox.append(treeLevel(await childrenOf(org.id)));
          childBox.hidden = open;
        },
      }, "▸")
      : h("span", { class: "toggle-spacer", "aria-hidden": "true" });
    item.append(h("div", { class: "node" }, toggle, orgLabel(org),
      count ? h("span", { class: "muted" }, tn("{count} customer", "{count} customers", count, { count })) : null), childBox);
    return item;
  }));
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
  const results = h("div", {});
  const treeBox = h("div", { class: "card tree" });
  const search = async (text) => {
    if (!text.trim()) {
      results.hidden = true;
      treeBox.hidden = false;
      return;
    }
    results.setAttribute("aria-busy", "true");
    status.textContent = t("Searching…");
    const { organisations } = await gql(SEARCH, { search: text.trim() });
    if (!current()) return;
    results.removeAttribute("aria-busy");
    // The search spans everything the viewer sees; keep this organisation's subtree.
    const rows = organisations.nodes.filter((o) => o.id !== org.id).map((o) => [
      h("span", {}, orgLabel(o)), o.parent?.name ?? "—", badge(o.status)]);
    clear(results, h("h2", {}, tn("{count} match", "{count} matches", rows.length, { count: rows.length })),
      table([t("Organisation"), t("Parent"), t("Status")], rows, { caption: t("Matching organisations"), empty: emptyState(t("No organisation matches."), { hint: t("Try another part of the name.") }) }).el);
    status.textContent = tn("{count} match", "{count} matches", rows.length, { count: rows.length });
    results.hidden = false;
    treeBox.hidden = true;
  };
  const create = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const status = h("p", { class: "visually-hidden", "aria-live": "polite" });
  const newCustomer = () => createCustomerDialog(org, { onCreated: reloadTree });
  const reloadTree = async () => {
    treeBox.setAttribute("aria-busy", "true");
    if (!treeBox.firstChild) treeBox.append(loadingNote(t("Loading customers…")));
    status.textContent = t("Loading customers…");
    const children = await childrenOf(org.id);
    treeBox.removeAttribute("aria-busy");
    status.textContent = tn("{count} customer", "{count} customers", children.length, { count: children.length });
    clear(treeBox, children.length ? treeLevel(children) : emptyState(t("No customers yet."), create
      ? { hint: t("Create the first customer, then invite its owner."), action: h("button", { type: "button", onclick: newCustomer }, t("Create the first customer")) }
      : {}));
  };
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Customers of {name}", { name: org.name })),
      create ? h("button", { type: "button", class: "primary", onclick: newCustomer }, t("Create customer")) : null),
    h("form", { class: "filters", role: "search", "aria-label": t("Search customers"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" },
        h("label", { for: "customer-search" }, t("Search all levels")),
        h("input", { id: "customer-search", type: "search", placeholder: t("Customer name"), oninput: debounce((e) => search(e.target.value)) }))),
    status, results, treeBox);
  results.hidden = true;
  await reloadTree();
}
