// Users: the list (search, filters, 50 a page), the invite dialog, and one
// member's page (role, feature access, invitation, access, impersonation).

import { gql, mutate, USER_ERROR } from "../api.js";
import {
  badge, clear, debounce, emptyState, formatNumber, formatTotal, h, humanise, listRegion, table, timeEl, toast,
  twoFactorShield,
} from "../dom.js";
import { buildForm, confirmDialog, formDialog } from "../forms.js";
import { N_, t, tn } from "../i18n.js";
import { navigate } from "../router.js";
import { editCards, pendingNotice, PROFILE_NAMES, profileFields } from "./person.js";
import { TICKET_ACCESS, ticketAccessLabel } from "./ticket-access.js";
import {
  can, grantableRoles, impersonating, mayImpersonate, orgPath, rank, ROLES, state, viewerRank,
} from "../state.js";

const PAGE = 50;

const MEMBERS = `query Members($org: ID!, $search: String, $role: Role, $status: MembershipStatus,
  $twoFactor: Boolean, $descendants: Boolean!, $after: String) {
  members(organisationId: $org, search: $search, role: $role, status: $status, twoFactor: $twoFactor,
    includeDescendants: $descendants, first: ${PAGE}, after: $after) {
    totalCount totalCountIsExact
    pageInfo { hasNextPage endCursor }
    nodes {
      id role status
      organisation { id name }
      user { id email displayName lastLoginAt twoFactorEnabled }
    }
  }
}`;

const roleOptions = (roles) => roles.map((r) => [r, humanise(r)]);
const NOW_IN_ROLE = {
  OWNER: N_("{name} is now owner."), ADMIN: N_("{name} is now admin."), MEMBER: N_("{name} is now member."),
  VIEWER: N_("{name} is now viewer."), SUPPORT_ONLY: N_("{name} is now support only."),
};

/** Invite someone to `org` (or create them with an initial password). */
export function inviteDialog(org, { role = "MEMBER", onDone } = {}) {
  const roles = grantableRoles(org);
  // What will happen, kept in step with the choices below and the button.
  const intro = h("span", {});
  const { form } = formDialog(t("Invite someone to {name}", { name: org.name }), {
    label: t("Invite a user"),
    submitLabel: t("Send invitation"),
    intro,
    fields: [
      { name: "email", label: t("Email"), type: "email", required: true, autocomplete: "off", autofocus: true },
      { name: "role", label: t("Role"), type: "select", options: roleOptions(roles), value: roles.includes(role) ? role : roles.at(-1) },
      { row: [
        { name: "firstName", label: t("First name (optional)"), autocomplete: "off" },
        { name: "lastName", label: t("Last name (optional)"), autocomplete: "off" },
      ] },
      ...profileFields({}, { optional: true }),
      // What they may do from their first sign-in on (the seed portals' Add User form).
      h("h3", {}, t("Access")),
      { name: "ticketAccess", label: t("Ticket access"), type: "select", value: "", options: [
        ["", t("The role's default")], ...TICKET_ACCESS.map(([value, label]) => [value, t(label)])] },
      { name: "restrictRecordingDeletion", label: t("May not delete call recordings"), type: "checkbox" },
      { name: "emailTwoFactor", label: t("Confirm each sign-in with a mailed code"), type: "checkbox" },
      { name: "canImpersonate", label: t("May open members' portals (impersonation)"), type: "checkbox", hint: t("Owners and administrators only.") },
      ...(can("EXTENSIONS_MANAGE", org) ? [{
        name: "extensionId", label: t("Extension"), type: "select", value: "", options: [["", t("No extension")]],
        hint: t("Theirs at once, before they first sign in; an extension someone has moves to them."),
      }] : []),
      { name: "direct", label: t("Create the user now instead of sending an invitation"), type: "checkbox" },
      { name: "byLink", label: t("Mail them a link to choose their password"), type: "checkbox", value: true, hint: t("Untick to set an initial password yourself.") },
      { name: "password", label: t("Initial password"), type: "password", autocomplete: "new-password", hidden: true, hint: t("They must change it when they first sign in. Give it to them in person or by phone.") },
    ],
    onSubmit: async (values) => {
      const { email, role: chosen, firstName, lastName, direct, byLink, password } = values;
      const input = {
        organisationId: org.id, email: email.trim(), role: chosen, firstName: firstName.trim() || null, lastName: lastName.trim() || null,
      };
      for (const name of PROFILE_NAMES) input[name] = values[name].trim() || null;
      if (values.ticketAccess) input.ticketAccess = values.ticketAccess;
      if (values.restrictRecordingDeletion) input.restrictRecordingDeletion = true;
      if (values.emailTwoFactor) input.emailTwoFactor = true;
      if (values.canImpersonate) input.canImpersonate = true;
      if (values.extensionId) input.extensionId = values.extensionId;
      if (direct) {
        return mutate(`mutation Create($input: CreateUserInput!) { createUser(input: $input) { membership { id } ${USER_ERROR} } }`,
          { input: { ...input, ...(byLink ? { sendSetPasswordLink: true } : { password }) } }, "createUser");
      }
      return mutate(`mutation Invite($input: InviteUserInput!) { inviteUser(input: $input) { invitation { id email } ${USER_ERROR} } }`,
        { input }, "inviteUser");
    },
    onSuccess: (payload, values) => {
      const created = values.byLink ? t("{email} was mailed a link to choose their password.", { email: values.email }) : t("{email} can now sign in.", { email: values.email });
      toast(values.direct ? created : t("Invitation sent to {email}.", { email: values.email }));
      onDone?.(payload);
    },
  });
  const { direct, byLink, password } = form.fields;
  const submit = form.el.querySelector("button[type=submit]");
  const update = () => {
    const typed = direct.input.checked && !byLink.input.checked;
    byLink.input.closest(".field").hidden = !direct.input.checked;
    password.spec.hidden = !typed;
    password.spec.required = typed;
    password.input.closest(".field").hidden = !typed;
    submit.textContent = direct.input.checked ? t("Create user") : t("Send invitation");
    intro.textContent = !direct.input.checked
      ? t("They get an email with a link to choose their password. The link is valid for 7 days.")
      : typed
        ? t("The user is created now with the initial password you set below. Their welcome email does not contain it.")
        : t("The user is created now and gets an email with a link to choose their password. The link is valid for 7 days.");
  };
  direct.input.addEventListener("change", update);
  byLink.input.addEventListener("change", update);
  update();
  if (form.fields.extensionId) extensionChoices(org, form.fields.extensionId.input);
}

/** The organisation's extensions as choices of the invite dialog, free ones first. */
async function extensionChoices(org, select) {
  const { extensions } = await gql(`query ExtensionChoices($org: ID!) {
    extensions(organisationId: $org, first: 100) { nodes { id number label member { user { displayName } } } } }`, { org: org.id });
  const free = (e) => (e.member ? 1 : 0);
  for (const e of [...extensions.nodes].sort((a, b) => free(a) - free(b))) {
    const label = [e.number, e.label].filter(Boolean).join(" · ");
    select.append(h("option", { value: e.id },
      e.member ? t("{extension} (now {name}'s)", { extension: label, name: e.member.user.displayName }) : label));
  }
}

export async function list(section, params, { current }) {
  const org = state.org;
  const manage = can("MEMBERS_MANAGE") && !impersonating();
  const reseller = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const filters = { search: "", role: "", status: "", twoFactor: "", descendants: false };
  const results = listRegion(t("Loading users…"));
  const more = h("button", { type: "button", hidden: true }, t("Load more"));
  let cursor = null;
  let shown = 0;
  let addRows = null;
  const invite = () => inviteDialog(org, { onDone: () => load() });

  /** Nothing yet (and how to add someone) apart from nothing matching the filters. */
  const empty = () => {
    if (filters.search.trim() || filters.role || filters.status || filters.twoFactor !== "") {
      return emptyState(t("No users match these filters."), { hint: t("Change or clear the filters to see more.") });
    }
    return manage
      ? emptyState(t("No users yet."), {
        hint: t("Invite the first person: they get an email with a link to join {name}.", { name: org.name }),
        action: h("button", { type: "button", onclick: invite }, t("Invite the first user")),
      })
      : emptyState(t("No users yet."), { hint: t("Nobody has been added to {name} yet.", { name: org.name }) });
  };

  const row = (m) => [
    h("span", {},
      h("a", { href: orgPath(`/users/${encodeURIComponent(m.id)}`, m.organisation.id) }, m.user.displayName || m.user.email),
      h("span", { class: "sub" }, m.user.email)),
    humanise(m.role),
    badge(m.status),
    twoFactorShield(m.user.twoFactorEnabled),
    ...(filters.descendants ? [m.organisation.name] : []),
    timeEl(m.user.lastLoginAt),
  ];

  async function load(append = false) {
    const variables = {
      org: org.id,
      search: filters.search.trim() || null,
      role: filters.role || null,
      status: filters.status || null,
      twoFactor: filters.twoFactor === "" ? null : filters.twoFactor === "yes",
      descendants: filters.descendants,
      after: append ? cursor : null,
    };
    results.loading();
    const { members } = await gql(MEMBERS, variables);
    if (!current()) return;
    cursor = members.pageInfo.endCursor;
    let listed = null;
    if (append) {
      addRows(members.nodes.map(row));
      shown += members.nodes.length;
    } else {
      const columns = [t("Name"), t("Role"), t("Status"), t("Two-step"), ...(filters.descendants ? [t("Organisation")] : []), t("Last sign-in")];
      listed = table(columns, members.nodes.map(row), { caption: t("Users"), empty: empty() });
      addRows = listed.addRows;
      shown = members.nodes.length;
    }
    results.show(listed?.el ?? null, tn("Showing {shown} of {count} user.", "Showing {shown} of {count} users.", members.totalCount, { shown: formatNumber(shown), count: formatTotal(members) }));
    more.hidden = !members.pageInfo.hasNextPage;
  }
  more.addEventListener("click", async () => {
    more.disabled = true;
    await load(true);
    more.disabled = false;
  });

  const setFilter = (name) => (e) => {
    filters[name] = e.target.type === "checkbox" ? e.target.checked : e.target.value;
    load();
  };
  const select = (id, label, name, options) => h("div", { class: "field" },
    h("label", { for: id }, label),
    h("select", { id, onchange: setFilter(name) }, h("option", { value: "" }, t("Any")), options.map(([v, l]) => h("option", { value: v }, l))));

  const seats = org.seats?.limit != null ? h("p", { class: "muted" }, t("Seats: {used} of {limit} used.", { used: org.seats.used, limit: org.seats.limit })) : null;
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Users")),
      manage ? h("button", { type: "button", class: "primary", onclick: invite }, t("Invite user")) : null),
    seats,
    h("form", { class: "filters", role: "search", "aria-label": t("Filter users"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" },
        h("label", { for: "user-search" }, t("Search")),
        h("input", { id: "user-search", type: "search", placeholder: t("Any part of a name, email, phone or organisation"), oninput: debounce(setFilter("search")) })),
      select("user-role", t("Role"), "role", roleOptions(ROLES)),
      select("user-status", t("Status"), "status", [["INVITED", t("Invited")], ["ACTIVE", t("Active")], ["DISABLED", t("Disabled")]]),
      select("user-2fa", t("Two-step"), "twoFactor", [["yes", t("On")], ["no", t("Off")]]),
      reseller ? h("div", { class: "check" },
        h("input", { id: "user-descendants", type: "checkbox", onchange: setFilter("descendants") }),
        h("label", { for: "user-descendants" }, t("Include users of customers"))) : null),
    results.el,
    h("div", { class: "list-footer" }, results.status, more));
  await load();
}

// --- one member -------------------------------------------------------------------

const MEMBER = `query Member($id: ID!) {
  node(id: $id) {
    ... on Membership {
      id role status ticketAccess canImpersonate restrictRecordingDeletion portalAccess createdAt
      organisation { id name }
      user {
        id email pendingEmail displayName firstName lastName title officePhone mobilePhone fax status lastLoginAt createdAt twoFactorEnabled
        memberships { id role status organisation { id name } }
      }
    }
  }
}`;

const INVITATIONS = `query Invitations($org: ID!, $after: String) {
  invitations(organisationId: $org, first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes { id status email expiresAt createdAt membership { id } }
  }
}`;

async function invitationOf(orgId, membershipId) {
  let after = null;
  for (let page = 0; page < 10; page += 1) {
    const { invitations } = await gql(INVITATIONS, { org: orgId, after });
    const found = invitations.nodes.find((i) => i.membership?.id === membershipId);
    if (found || !invitations.pageInfo.hasNextPage) return found ?? null;
    after = invitations.pageInfo.endCursor;
  }
  return null;
}

const MEMBERSHIP_FIELDS = `membership { id role status ticketAccess canImpersonate restrictRecordingDeletion portalAccess } ${USER_ERROR}`;

export async function detail(section, params, { current }) {
  const data = await gql(MEMBER, { id: params.member });
  const m = data.node;
  if (!current()) return;
  if (!m || !m.user) {
    clear(section, h("h1", {}, t("User not found")), h("p", {}, h("a", { href: orgPath("/users") }, t("Back to users"))));
    return;
  }
  const rerender = () => detail(section, params, { current });
  const manage = can("MEMBERS_MANAGE") && !impersonating();
  const isSelf = m.user.id === state.viewer.user.id;
  const above = rank(m.role) > viewerRank();
  const invitation = manage && m.status === "INVITED" ? await invitationOf(state.org.id, m.id) : null;
  if (!current()) return;
  const actionError = h("div", { class: "form-error", role: "alert", tabindex: "-1" });

  /** Confirm, run a membership mutation, show its errors, then re-render or go elsewhere. */
  const act = async ({ title, message, confirmLabel, danger, query, field, input, done, after }) => {
    if (title && !await confirmDialog({ title, message, confirmLabel, danger })) return;
    actionError.textContent = "";
    try {
      const payload = await mutate(query, { input }, field);
      if (payload.errors.length) {
        actionError.textContent = payload.errors.map((e) => e.message).join(" ");
        actionError.focus();
        return;
      }
      toast(done);
      if (after) after(payload);
      else rerender();
    } catch (error) {
      if (error.code === "CANCELLED") return;
      actionError.textContent = error.message;
      actionError.focus();
    }
  };
  const name = m.user.displayName || m.user.email;
  const input = { membershipId: m.id };

  const cards = [];
  const others = m.user.memberships.filter((x) => x.id !== m.id);
  cards.push(h("section", { class: "card", "aria-labelledby": "details-h" },
    h("h2", { id: "details-h" }, t("Details")),
    h("dl", { class: "facts" },
      h("dt", {}, t("Email")), h("dd", {}, m.user.email),
      m.user.title ? [h("dt", {}, t("Job title")), h("dd", {}, m.user.title)] : null,
      m.user.officePhone ? [h("dt", {}, t("Office phone")), h("dd", {}, m.user.officePhone)] : null,
      m.user.mobilePhone ? [h("dt", {}, t("Mobile phone")), h("dd", {}, m.user.mobilePhone)] : null,
      m.user.fax ? [h("dt", {}, t("Fax")), h("dd", {}, m.user.fax)] : null,
      h("dt", {}, t("Organisation")), h("dd", {}, m.organisation.name),
      h("dt", {}, t("Role")), h("dd", {}, humanise(m.role)),
      h("dt", {}, t("Ticket access")), h("dd", {}, ticketAccessLabel(m.ticketAccess)),
      h("dt", {}, t("Two-step verification")), h("dd", {}, m.user.twoFactorEnabled ? t("On") : t("Off")),
      h("dt", {}, t("Last sign-in")), h("dd", {}, timeEl(m.user.lastLoginAt)),
      h("dt", {}, t("Member since")), h("dd", {}, timeEl(m.createdAt, { date: true })),
      others.length ? [h("dt", {}, t("Also in")), h("dd", {}, others.map((x) => `${x.organisation.name} (${humanise(x.role)})`).join(", "))] : null),
    pendingNotice(m.user)));

  if (manage && !isSelf && !above) {
    const roleForm = buildForm({
      label: t("Role"),
      submitLabel: t("Change role"),
      fields: [{ name: "role", label: t("Role"), type: "select", options: roleOptions(grantableRoles()), value: m.role, hint: t("Owners have every right, including billing and ownership. Admins manage users and configuration. Members use their own extension and tickets. Viewers only look. Support-only users just raise tickets.") }],
      onSubmit: ({ role }) => mutate(`mutation Role($input: ChangeRoleInput!) { changeRole(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        { input: { membershipId: m.id, role } }, "changeRole").catch((error) => {
        // Step-up cancelled: the select shows the role they still have.
        if (error.code === "CANCELLED") roleForm.fields.role.input.value = m.role;
        throw error;
      }),
      onSuccess: (payload) => {
        toast(t(NOW_IN_ROLE[payload.membership.role], { name }));
        rerender();
      },
    });
    cards.push(h("section", { class: "card", "aria-labelledby": "role-h" }, h("h2", { id: "role-h" }, t("Role")), roleForm.el));

    const neverSignedIn = !m.user.lastLoginAt;
    const featureForm = buildForm({
      label: t("Feature access"),
      submitLabel: t("Save feature access"),
      fields: [
        { name: "ticketAccess", label: t("Ticket access"), type: "select", value: m.ticketAccess,
          options: TICKET_ACCESS.map(([value, label]) => [value, t(label)]) },
        ...(rank(m.role) >= rank("ADMIN") ? [{ name: "canImpersonate", label: t("May open members' portals (impersonation)"), type: "checkbox", value: m.canImpersonate }] : []),
        { name: "restrictRecordingDeletion", label: t("May not delete call recordings"), type: "checkbox", value: m.restrictRecordingDeletion },
        { name: "portalAccess", label: t("Portal access: may sign in to the sign-in apps that ask for it"), type: "checkbox", value: m.portalAccess,
          hint: t("Sign-in apps whose access rule says “Only people with portal access” let in only the people given this.") },
      ],
      onSubmit: (values) => {
        const changes = { membershipId: m.id };
        for (const [key, value] of Object.entries(values)) if (value !== m[key]) changes[key] = value;
        return mutate(`mutation Features($input: SetFeatureAccessInput!) { setFeatureAccess(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
          { input: changes }, "setFeatureAccess");
      },
      onSuccess: () => {
        toast(t("Feature access saved."));
        rerender();
      },
    });
    if (neverSignedIn) for (const f of Object.values(featureForm.fields)) f.input.disabled = true;
    cards.push(h("section", { class: "card", "aria-labelledby": "features-h" },
      h("h2", { id: "features-h" }, t("Feature access")),
      neverSignedIn ? h("p", { class: "notice" }, t("Feature access can be given once {name} has signed in for the first time.", { name })) : null,
      featureForm.el));
  }

  if (manage && !above && m.status !== "INVITED") cards.push(...editCards(m, { rerender }));

  if (invitation) {
    const pending = invitation.status === "PENDING" || invitation.status === "EXPIRED";
    cards.push(h("section", { class: "card", "aria-labelledby": "invite-h" },
      h("h2", { id: "invite-h" }, t("Invitation")),
      h("dl", { class: "facts" },
        h("dt", {}, t("Status")), h("dd", {}, badge(invitation.status)),
        h("dt", {}, t("Sent")), h("dd", {}, timeEl(invitation.createdAt)),
        h("dt", {}, t("Expires")), h("dd", {}, timeEl(invitation.expiresAt))),
      pending ? h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => act({
          query: `mutation Resend($input: InvitationInput!) { resendInvitation(input: $input) { invitation { id } ${USER_ERROR} } }`,
          field: "resendInvitation", input: { invitationId: invitation.id }, done: t("A new invitation was sent to {email}.", { email: m.user.email }),
        }) }, t("Resend invitation")),
        h("button", { type: "button", class: "danger", onclick: () => act({
          title: t("Revoke the invitation?"), message: t("The link sent to {email} will stop working.", { email: m.user.email }), confirmLabel: t("Revoke"), danger: true,
          query: `mutation Revoke($input: InvitationInput!) { revokeInvitation(input: $input) { invitation { id } ${USER_ERROR} } }`,
          field: "revokeInvitation", input: { invitationId: invitation.id }, done: t("Invitation revoked."),
          after: () => navigate(orgPath("/users")),
        }) }, t("Revoke invitation"))) : null));
  }

  const buttons = [];
  const canOpenPortal = can("MEMBERS_IMPERSONATE") && mayImpersonate() && !impersonating() && !isSelf
    && m.status === "ACTIVE" && rank(m.role) < viewerRank();
  if (canOpenPortal) buttons.push(h("button", { type: "button", class: "primary", onclick: () => impersonateDialog(m, name) }, t("Open user's portal")));
  if (manage && !isSelf && !above) {
    if (m.user.twoFactorEnabled) {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: t("Reset {name}'s two-step verification?", { name }),
        message: t("Use this when they lost their phone. Their second factors are removed, every session of theirs ends, and they set it up again at their next sign-in."),
        confirmLabel: t("Reset two-step verification"), danger: true,
        query: `mutation Reset2FA($input: MembershipInput!) { resetTwoFactor(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "resetTwoFactor", input, done: t("Two-step verification reset."),
      }) }, t("Reset two-step verification")));
    }
    if (m.status === "ACTIVE") {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: t("Disable {name}?", { name }),
        message: t("They stay listed, but every session of theirs ends and they cannot sign in to {organisation} until you enable them again.", { organisation: m.organisation.name }),
        confirmLabel: t("Disable"), danger: true,
        query: `mutation Disable($input: MembershipInput!) { disableMember(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "disableMember", input, done: t("{name} was disabled.", { name }),
      }) }, t("Disable")));
    } else if (m.status === "DISABLED") {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: t("Enable {name}?", { name }), message: t("They can sign in again with their password."), confirmLabel: t("Enable"),
        query: `mutation Enable($input: MembershipInput!) { enableMember(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "enableMember", input, done: t("{name} was enabled.", { name }),
      }) }, t("Enable")));
    }
    buttons.push(h("button", { type: "button", class: "danger", onclick: () => act({
      title: t("Remove {name} from {organisation}?", { name, organisation: m.organisation.name }),
      message: t("They lose access to this organisation. Their account and the audit trail stay."),
      confirmLabel: t("Remove"), danger: true,
      query: `mutation Remove($input: MembershipInput!) { removeMember(input: $input) { removedMembershipId ${USER_ERROR} } }`,
      field: "removeMember", input, done: t("{name} was removed.", { name }), after: () => navigate(orgPath("/users")),
    }) }, t("Remove from organisation")));
    buttons.push(h("button", { type: "button", class: "danger", onclick: () => act({
      title: t("Delete {name}'s account?", { name }),
      message: t("This erases the person and their personal data for good; audit entries keep a pseudonym. Only possible when this is their only organisation."),
      confirmLabel: t("Delete for good"), danger: true,
      query: `mutation Delete($input: MembershipInput!) { deleteUser(input: $input) { removedMembershipId ${USER_ERROR} } }`,
      field: "deleteUser", input, done: t("{name} was deleted.", { name }), after: () => navigate(orgPath("/users")),
    }) }, t("Delete user")));
  }
  if (buttons.length) {
    cards.push(h("section", { class: "card", "aria-labelledby": "access-h" },
      h("h2", { id: "access-h" }, t("Access")), actionError, h("div", { class: "actions" }, buttons)));
  }

  clear(section,
    h("nav", { class: "breadcrumb", "aria-label": t("Breadcrumb") }, h("a", { href: orgPath("/users") }, t("Users")), " › ", name),
    h("div", { class: "page-head" },
      h("h1", {}, name),
      h("div", { class: "actions" }, badge(m.status), twoFactorShield(m.user.twoFactorEnabled))),
    cards);
}

function impersonateDialog(m, name) {
  formDialog(t("Open {name}'s portal", { name }), {
    label: t("Open user's portal"),
    submitLabel: t("Open portal"),
    intro: t("You will see and do exactly what {name} can, for at most 30 minutes. {name} gets an email saying who opened their portal and why, and everything you do is recorded under both names.", { name }),
    fields: [{ name: "reason", label: t("Reason"), type: "textarea", required: true, autofocus: true, hint: t("For example: \"Turn do-not-disturb off while they are on leave\".") }],
    onSubmit: ({ reason }) => mutate(`mutation Impersonate($input: ImpersonateUserInput!) {
      impersonateUser(input: $input) { membership { id organisation { id } } ${USER_ERROR} } }`,
    { input: { membershipId: m.id, reason, session: "COOKIE" } }, "impersonateUser"),
    onSuccess: (payload) => {
      sessionStorage.setItem("frontdesk.impersonation.return", window.location.pathname);
      localStorage.setItem("frontdesk.org", payload.membership.organisation.id);
      state.viewer = null;
      state.org = null;
      navigate("/admin/");
    },
  });
}
