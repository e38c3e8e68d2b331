// Contact persons (billing, technical, …): search, add, edit, delete, invite.

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, debounce, emptyState, formatNumber, h, humanise, listRegion, table, toast } from "../dom.js";
import { confirmDialog, formDialog } from "../forms.js";
import { t, tn } from "../i18n.js";
import { can, grantableRoles, impersonating, state } from "../state.js";

const KINDS = ["GENERAL", "BILLING", "TECHNICAL", "CONTRACTUAL"];
const FIELDS = "id kind firstName lastName title email officePhone mobilePhone notes displayName user { id }";

const CONTACTS = `query Contacts($org: ID!, $search: String, $kind: ContactKind) {
  contacts(organisationId: $org, search: $search, kind: $kind, first: 100) {
    totalCount
    nodes { ${FIELDS} }
  }
}`;

function contactDialog(org, contact, onDone) {
  const value = (name) => contact?.[name] ?? "";
  formDialog(contact ? t("Edit {name}", { name: contact.displayName }) : t("Add a contact"), {
    label: contact ? t("Edit contact") : t("Add contact"),
    submitLabel: contact ? t("Save contact") : t("Add contact"),
    fields: [
      { name: "kind", label: t("Contact for"), type: "select", options: KINDS.map((k) => [k, humanise(k)]), value: contact?.kind ?? "GENERAL" },
      { row: [
        { name: "firstName", label: t("First name"), value: value("firstName"), autofocus: true },
        { name: "lastName", label: t("Last name"), value: value("lastName") },
      ] },
      { name: "title", label: t("Job title"), value: value("title") },
      { name: "email", label: t("Email"), type: "email", value: value("email") },
      { row: [
        { name: "officePhone", label: t("Office phone"), type: "tel", value: value("officePhone") },
        { name: "mobilePhone", label: t("Mobile phone"), type: "tel", value: value("mobilePhone") },
      ] },
      { name: "notes", label: t("Notes"), type: "textarea", value: value("notes") },
    ],
    onSubmit: (values) => (contact
      ? mutate(`mutation Update($input: UpdateContactInput!) { updateContact(input: $input) { contact { id } ${USER_ERROR} } }`,
        { input: { contactId: contact.id, ...values } }, "updateContact")
      : mutate(`mutation Create($input: CreateContactInput!) { createContact(input: $input) { contact { id } ${USER_ERROR} } }`,
        { input: { organisationId: org.id, ...values } }, "createContact")),
    onSuccess: () => {
      toast(contact ? t("Contact saved.") : t("Contact added."));
      onDone();
    },
  });
}

function inviteContactDialog(org, contact, onDone) {
  const roles = grantableRoles(org);
  formDialog(t("Invite {name} to sign in", { name: contact.displayName }), {
    label: t("Invite contact"),
    submitLabel: t("Send invitation"),
    intro: t("{email} gets an invitation with the contact's names and phone numbers filled in.", { email: contact.email }),
    fields: [{ name: "role", label: t("Role"), type: "select", options: roles.map((r) => [r, humanise(r)]), value: roles.includes("MEMBER") ? "MEMBER" : roles.at(-1) }],
    onSubmit: ({ role }) => mutate(`mutation Invite($input: InviteContactInput!) { inviteContact(input: $input) { invitation { id } ${USER_ERROR} } }`,
      { input: { contactId: contact.id, role } }, "inviteContact"),
    onSuccess: () => {
      toast(t("Invitation sent to {email}.", { email: contact.email }));
      onDone();
    },
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  const manage = can("CONTACTS_MANAGE");
  const invite = can("MEMBERS_MANAGE") && !impersonating();
  const filters = { search: "", kind: "" };
  const results = listRegion(t("Loading contacts…"));
  /** Nothing yet (and how to add one) apart from nothing matching the filters. */
  const empty = () => {
    if (filters.search.trim() || filters.kind) {
      return emptyState(t("No contacts match these filters."), { hint: t("Change or clear the filters to see more.") });
    }
    return emptyState(t("No contacts yet."), manage
      ? { hint: t("Add who to call about billing, technical or contractual matters."),
        action: h("button", { type: "button", onclick: () => contactDialog(org, null, load) }, t("Add the first contact")) }
      : { hint: t("An administrator of {name} can add them.", { name: org.name }) });
  };

  async function load() {
    results.loading();
    const { contacts } = await gql(CONTACTS, { org: org.id, search: filters.search.trim() || null, kind: filters.kind || null });
    if (!current()) return;
    const remove = async (c) => {
      if (!await confirmDialog({ title: t("Delete {name}?", { name: c.displayName }), message: t("The contact person is removed. A user invited from them stays."), confirmLabel: t("Delete"), danger: true })) return;
      const payload = await mutate(`mutation Delete($input: ContactInput!) { deleteContact(input: $input) { deletedContactId ${USER_ERROR} } }`,
        { input: { contactId: c.id } }, "deleteContact");
      toast(payload.errors.length ? payload.errors[0].message : t("Contact deleted."));
      load();
    };
    const rows = contacts.nodes.map((c) => [
      h("span", {}, c.displayName || "—", c.title ? h("span", { class: "sub" }, c.title) : null),
      humanise(c.kind),
      c.email ? h("a", { href: `mailto:${c.email}` }, c.email) : "—",
      [c.officePhone, c.mobilePhone].filter(Boolean).join(" · ") || "—",
      h("div", { class: "actions" },
        manage ? h("button", { type: "button", onclick: () => contactDialog(org, c, load), "aria-label": t("Edit {name}", { name: c.displayName }) }, t("Edit")) : null,
        invite && c.email && !c.user ? h("button", { type: "button", onclick: () => inviteContactDialog(org, c, load), "aria-label": t("Invite {name}", { name: c.displayName }) }, t("Invite")) : null,
        c.user ? h("span", { class: "badge ok" }, t("Has an account")) : null,
        manage ? h("button", { type: "button", class: "danger", onclick: () => remove(c), "aria-label": t("Delete {name}", { name: c.displayName }) }, t("Delete")) : null),
    ]);
    results.show(table([t("Name"), t("Contact for"), t("Email"), t("Phone"), ""], rows, { caption: t("Contacts"), empty: empty() }).el,
      tn("{count} contact.", "{count} contacts.", contacts.totalCount, { count: formatNumber(contacts.totalCount) }));
  }
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Contacts")),
      manage ? h("button", { type: "button", class: "primary", onclick: () => contactDialog(org, null, load) }, t("Add contact")) : null),
    h("p", { class: "muted" }, t("The people to call about billing, technical or contractual matters. Contacts cannot sign in unless you invite them.")),
    h("form", { class: "filters", role: "search", "aria-label": t("Filter contacts"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" }, h("label", { for: "contact-search" }, t("Search")),
        h("input", { id: "contact-search", type: "search", placeholder: t("Name, email, title or phone"), oninput: debounce((e) => { filters.search = e.target.value; load(); }) })),
      h("div", { class: "field" }, h("label", { for: "contact-kind" }, t("Contact for")),
        h("select", { id: "contact-kind", onchange: (e) => { filters.kind = e.target.value; load(); } },
          h("option", { value: "" }, t("Any")), KINDS.map((k) => h("option", { value: k }, humanise(k)))))),
    results.el, results.status);
  await load();
}
