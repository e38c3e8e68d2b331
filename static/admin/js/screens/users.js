// Users: the list (search, filters, 50 a page), the invite dialog, and one
// member's page (role, feature access, invitation, access, impersonation).

import { gql, mutate, USER_ERROR } from "../api.js";
import {
  badge, clear, debounce, h, humanise, table, timeEl, toast, twoFactorShield,
} from "../dom.js";
import { buildForm, confirmDialog, formDialog } from "../forms.js";
import { navigate } from "../router.js";
import {
  can, grantableRoles, impersonating, mayImpersonate, orgPath, rank, ROLES, state, viewerRank,
} from "../state.js";

const PAGE = 50;

const MEMBERS = `query Members($org: ID!, $search: String, $role: Role, $status: MembershipStatus,
  $twoFactor: Boolean, $descendants: Boolean!, $after: String) {
  members(organisationId: $org, search: $search, role: $role, status: $status, twoFactor: $twoFactor,
    includeDescendants: $descendants, first: ${PAGE}, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id role status
      organisation { id name }
      user { id email displayName lastLoginAt twoFactorEnabled }
    }
  }
}`;

const roleOptions = (roles) => roles.map((r) => [r, humanise(r)]);

/** Invite someone to `org` (or create them with an initial password). */
export function inviteDialog(org, { role = "MEMBER", onDone } = {}) {
  const roles = grantableRoles(org);
  const { form } = formDialog(`Invite someone to ${org.name}`, {
    label: "Invite a user",
    submitLabel: "Send invitation",
    intro: "They get an email with a link to choose their password. The link is valid for 7 days.",
    fields: [
      { name: "email", label: "Email", type: "email", required: true, autocomplete: "off", autofocus: true },
      { name: "role", label: "Role", type: "select", options: roleOptions(roles), value: roles.includes(role) ? role : roles.at(-1) },
      { row: [
        { name: "firstName", label: "First name (optional)", autocomplete: "off" },
        { name: "lastName", label: "Last name (optional)", autocomplete: "off" },
      ] },
      { name: "direct", label: "Create the user now instead of sending an invitation", type: "checkbox" },
      { name: "byLink", label: "Mail them a link to choose their password", type: "checkbox", value: true, hint: "Untick to set an initial password yourself." },
      { name: "password", label: "Initial password", type: "password", autocomplete: "new-password", hidden: true, hint: "They must change it when they first sign in. Give it to them in person or by phone." },
    ],
    onSubmit: async ({ email, role: chosen, firstName, lastName, direct, byLink, password }) => {
      const input = {
        organisationId: org.id, email: email.trim(), role: chosen, firstName: firstName.trim() || null, lastName: lastName.trim() || null,
      };
      if (direct) {
        return mutate(`mutation Create($input: CreateUserInput!) { createUser(input: $input) { membership { id } ${USER_ERROR} } }`,
          { input: { ...input, ...(byLink ? { sendSetPasswordLink: true } : { password }) } }, "createUser");
      }
      return mutate(`mutation Invite($input: InviteUserInput!) { inviteUser(input: $input) { invitation { id email } ${USER_ERROR} } }`,
        { input }, "inviteUser");
    },
    onSuccess: (payload, values) => {
      const created = values.byLink ? `${values.email} was mailed a link to choose their password.` : `${values.email} can now sign in.`;
      toast(values.direct ? created : `Invitation sent to ${values.email}.`);
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
    submit.textContent = direct.input.checked ? "Create user" : "Send invitation";
  };
  direct.input.addEventListener("change", update);
  byLink.input.addEventListener("change", update);
  update();
}

export async function list(section, params, { current }) {
  const org = state.org;
  const manage = can("MEMBERS_MANAGE") && !impersonating();
  const reseller = can("CUSTOMERS_MANAGE") && org.kind !== "CUSTOMER";
  const filters = { search: "", role: "", status: "", twoFactor: "", descendants: false };
  const results = h("div", {});
  const summary = h("p", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  let shown = 0;
  let addRows = null;

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
    results.setAttribute("aria-busy", "true");
    const { members } = await gql(MEMBERS, variables);
    results.removeAttribute("aria-busy");
    if (!current()) return;
    cursor = members.pageInfo.endCursor;
    if (append) {
      addRows(members.nodes.map(row));
      shown += members.nodes.length;
    } else {
      const columns = ["Name", "Role", "Status", "Two-step", ...(filters.descendants ? ["Organisation"] : []), "Last sign-in"];
      const t = table(columns, members.nodes.map(row), { caption: "Users", empty: "No users match these filters." });
      addRows = t.addRows;
      shown = members.nodes.length;
      clear(results, t.el);
    }
    summary.textContent = `Showing ${shown} of ${members.totalCount} ${members.totalCount === 1 ? "user" : "users"}.`;
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
    h("select", { id, onchange: setFilter(name) }, h("option", { value: "" }, "Any"), options.map(([v, l]) => h("option", { value: v }, l))));

  const seats = org.seats?.limit != null ? h("p", { class: "muted" }, `Seats: ${org.seats.used} of ${org.seats.limit} used.`) : null;
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, "Users"),
      manage ? h("button", { type: "button", class: "primary", onclick: () => inviteDialog(org, { onDone: () => load() }) }, "Invite user") : null),
    seats,
    h("form", { class: "filters", role: "search", "aria-label": "Filter users", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" },
        h("label", { for: "user-search" }, "Search"),
        h("input", { id: "user-search", type: "search", placeholder: "Name or email", oninput: debounce(setFilter("search")) })),
      select("user-role", "Role", "role", roleOptions(ROLES)),
      select("user-status", "Status", "status", [["INVITED", "Invited"], ["ACTIVE", "Active"], ["DISABLED", "Disabled"]]),
      select("user-2fa", "Two-step", "twoFactor", [["yes", "On"], ["no", "Off"]]),
      reseller ? h("div", { class: "check" },
        h("input", { id: "user-descendants", type: "checkbox", onchange: setFilter("descendants") }),
        h("label", { for: "user-descendants" }, "Include users of customers")) : null),
    results,
    h("div", { class: "list-footer" }, summary, more));
  await load();
}

// --- one member -------------------------------------------------------------------

const MEMBER = `query Member($id: ID!) {
  node(id: $id) {
    ... on Membership {
      id role status ticketAccess canImpersonate restrictRecordingDeletion createdAt
      organisation { id name }
      user {
        id email displayName title officePhone mobilePhone status lastLoginAt createdAt twoFactorEnabled
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

const MEMBERSHIP_FIELDS = `membership { id role status ticketAccess canImpersonate restrictRecordingDeletion } ${USER_ERROR}`;

export async function detail(section, params, { current }) {
  const data = await gql(MEMBER, { id: params.member });
  const m = data.node;
  if (!current()) return;
  if (!m || !m.user) {
    clear(section, h("h1", {}, "User not found"), h("p", {}, h("a", { href: orgPath("/users") }, "Back to users")));
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
    h("h2", { id: "details-h" }, "Details"),
    h("dl", { class: "facts" },
      h("dt", {}, "Email"), h("dd", {}, m.user.email),
      m.user.title ? [h("dt", {}, "Job title"), h("dd", {}, m.user.title)] : null,
      m.user.officePhone ? [h("dt", {}, "Office phone"), h("dd", {}, m.user.officePhone)] : null,
      m.user.mobilePhone ? [h("dt", {}, "Mobile phone"), h("dd", {}, m.user.mobilePhone)] : null,
      h("dt", {}, "Organisation"), h("dd", {}, m.organisation.name),
      h("dt", {}, "Role"), h("dd", {}, humanise(m.role)),
      h("dt", {}, "Ticket access"), h("dd", {}, humanise(m.ticketAccess)),
      h("dt", {}, "Two-step verification"), h("dd", {}, m.user.twoFactorEnabled ? "On" : "Off"),
      h("dt", {}, "Last sign-in"), h("dd", {}, timeEl(m.user.lastLoginAt)),
      h("dt", {}, "Member since"), h("dd", {}, timeEl(m.createdAt, { date: true })),
      others.length ? [h("dt", {}, "Also in"), h("dd", {}, others.map((x) => `${x.organisation.name} (${humanise(x.role)})`).join(", "))] : null)));

  if (manage && !isSelf && !above) {
    const roleForm = buildForm({
      label: "Role",
      submitLabel: "Change role",
      fields: [{ name: "role", label: "Role", type: "select", options: roleOptions(grantableRoles()), value: m.role, hint: "Owners have every right, including billing and ownership. Admins manage users and configuration. Members use their own extension and tickets. Viewers only look. Support-only users just raise tickets." }],
      onSubmit: ({ role }) => mutate(`mutation Role($input: ChangeRoleInput!) { changeRole(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        { input: { membershipId: m.id, role } }, "changeRole"),
      onSuccess: (payload) => {
        toast(`${name} is now ${humanise(payload.membership.role).toLowerCase()}.`);
        rerender();
      },
    });
    cards.push(h("section", { class: "card", "aria-labelledby": "role-h" }, h("h2", { id: "role-h" }, "Role"), roleForm.el));

    const neverSignedIn = !m.user.lastLoginAt;
    const featureForm = buildForm({
      label: "Feature access",
      submitLabel: "Save feature access",
      fields: [
        { name: "ticketAccess", label: "Ticket access", type: "select", value: m.ticketAccess, options: [
          ["NONE", "None"], ["OWN", "Own tickets"], ["ACCOUNT", "All tickets of the account"], ["ADMIN", "Ticket administrator"]] },
        ...(rank(m.role) >= rank("ADMIN") ? [{ name: "canImpersonate", label: "May open members' portals (impersonation)", type: "checkbox", value: m.canImpersonate }] : []),
        { name: "restrictRecordingDeletion", label: "May not delete call recordings", type: "checkbox", value: m.restrictRecordingDeletion },
      ],
      onSubmit: (values) => {
        const changes = { membershipId: m.id };
        for (const [key, value] of Object.entries(values)) if (value !== m[key]) changes[key] = value;
        return mutate(`mutation Features($input: SetFeatureAccessInput!) { setFeatureAccess(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
          { input: changes }, "setFeatureAccess");
      },
      onSuccess: () => {
        toast("Feature access saved.");
        rerender();
      },
    });
    if (neverSignedIn) for (const f of Object.values(featureForm.fields)) f.input.disabled = true;
    cards.push(h("section", { class: "card", "aria-labelledby": "features-h" },
      h("h2", { id: "features-h" }, "Feature access"),
      neverSignedIn ? h("p", { class: "notice" }, `Feature access can be given once ${name} has signed in for the first time.`) : null,
      featureForm.el));
  }

  if (invitation) {
    const pending = invitation.status === "PENDING" || invitation.status === "EXPIRED";
    cards.push(h("section", { class: "card", "aria-labelledby": "invite-h" },
      h("h2", { id: "invite-h" }, "Invitation"),
      h("dl", { class: "facts" },
        h("dt", {}, "Status"), h("dd", {}, badge(invitation.status)),
        h("dt", {}, "Sent"), h("dd", {}, timeEl(invitation.createdAt)),
        h("dt", {}, "Expires"), h("dd", {}, timeEl(invitation.expiresAt))),
      pending ? h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => act({
          query: `mutation Resend($input: InvitationInput!) { resendInvitation(input: $input) { invitation { id } ${USER_ERROR} } }`,
          field: "resendInvitation", input: { invitationId: invitation.id }, done: `A new invitation was sent to ${m.user.email}.`,
        }) }, "Resend invitation"),
        h("button", { type: "button", class: "danger", onclick: () => act({
          title: "Revoke the invitation?", message: `The link sent to ${m.user.email} will stop working.`, confirmLabel: "Revoke", danger: true,
          query: `mutation Revoke($input: InvitationInput!) { revokeInvitation(input: $input) { invitation { id } ${USER_ERROR} } }`,
          field: "revokeInvitation", input: { invitationId: invitation.id }, done: "Invitation revoked.",
          after: () => navigate(orgPath("/users")),
        }) }, "Revoke invitation")) : null));
  }

  const buttons = [];
  const canOpenPortal = can("MEMBERS_IMPERSONATE") && mayImpersonate() && !impersonating() && !isSelf
    && m.status === "ACTIVE" && rank(m.role) < viewerRank();
  if (canOpenPortal) buttons.push(h("button", { type: "button", class: "primary", onclick: () => impersonateDialog(m, name) }, "Open user's portal"));
  if (manage && !isSelf && !above) {
    if (m.user.twoFactorEnabled) {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: `Reset ${name}'s two-step verification?`,
        message: "Use this when they lost their phone. Their second factors are removed, every session of theirs ends, and they set it up again at their next sign-in.",
        confirmLabel: "Reset two-step verification", danger: true,
        query: `mutation Reset2FA($input: MembershipInput!) { resetTwoFactor(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "resetTwoFactor", input, done: "Two-step verification reset.",
      }) }, "Reset two-step verification"));
    }
    if (m.status === "ACTIVE") {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: `Disable ${name}?`,
        message: `They stay listed, but every session of theirs ends and they cannot sign in to ${m.organisation.name} until you enable them again.`,
        confirmLabel: "Disable", danger: true,
        query: `mutation Disable($input: MembershipInput!) { disableMember(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "disableMember", input, done: `${name} was disabled.`,
      }) }, "Disable"));
    } else if (m.status === "DISABLED") {
      buttons.push(h("button", { type: "button", onclick: () => act({
        title: `Enable ${name}?`, message: "They can sign in again with their password.", confirmLabel: "Enable",
        query: `mutation Enable($input: MembershipInput!) { enableMember(input: $input) { ${MEMBERSHIP_FIELDS} } }`,
        field: "enableMember", input, done: `${name} was enabled.`,
      }) }, "Enable"));
    }
    buttons.push(h("button", { type: "button", class: "danger", onclick: () => act({
      title: `Remove ${name} from ${m.organisation.name}?`,
      message: "They lose access to this organisation. Their account and the audit trail stay.",
      confirmLabel: "Remove", danger: true,
      query: `mutation Remove($input: MembershipInput!) { removeMember(input: $input) { removedMembershipId ${USER_ERROR} } }`,
      field: "removeMember", input, done: `${name} was removed.`, after: () => navigate(orgPath("/users")),
    }) }, "Remove from organisation"));
    buttons.push(h("button", { type: "button", class: "danger", onclick: () => act({
      title: `Delete ${name}'s account?`,
      message: "This erases the person and their personal data for good; audit entries keep a pseudonym. Only possible when this is their only organisation.",
      confirmLabel: "Delete for good", danger: true,
      query: `mutation Delete($input: MembershipInput!) { deleteUser(input: $input) { removedMembershipId ${USER_ERROR} } }`,
      field: "deleteUser", input, done: `${name} was deleted.`, after: () => navigate(orgPath("/users")),
    }) }, "Delete user"));
  }
  if (buttons.length) {
    cards.push(h("section", { class: "card", "aria-labelledby": "access-h" },
      h("h2", { id: "access-h" }, "Access"), actionError, h("div", { class: "actions" }, buttons)));
  }

  clear(section,
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: orgPath("/users") }, "Users"), " › ", name),
    h("div", { class: "page-head" },
      h("h1", {}, name),
      h("div", { class: "actions" }, badge(m.status), twoFactorShield(m.user.twoFactorEnabled))),
    cards);
}

function impersonateDialog(m, name) {
  formDialog(`Open ${name}'s portal`, {
    label: "Open user's portal",
    submitLabel: "Open portal",
    intro: `You will see and do exactly what ${name} can, for at most 30 minutes. ${name} gets an email saying who opened their portal and why, and everything you do is recorded under both names.`,
    fields: [{ name: "reason", label: "Reason", type: "textarea", required: true, autofocus: true, hint: "For example: \"Turn do-not-disturb off while they are on leave\"." }],
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
