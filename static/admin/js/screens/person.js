// A person's profile as admins edit it (updateMember), sign-in address changes
// (changeMemberEmail, changeEmail) and the page their confirmation link opens
// (/admin/confirm-email#token=…; opening it changes nothing, the button does).

import { mutate, USER_ERROR } from "../api.js";
import { clear, h, toast } from "../dom.js";
import { buildForm } from "../forms.js";
import { t, tx } from "../i18n.js";

/** The profile fields, as the Add User form and the Edit form show them. */
export function profileFields(values = {}, { optional = false } = {}) {
  return [
    { name: "title", label: optional ? t("Job title (optional)") : t("Job title"), value: values.title, autocomplete: "off" },
    { row: [
      { name: "officePhone", label: optional ? t("Office phone (optional)") : t("Office phone"), type: "tel", value: values.officePhone, autocomplete: "off" },
      { name: "mobilePhone", label: optional ? t("Mobile phone (optional)") : t("Mobile phone"), type: "tel", value: values.mobilePhone, autocomplete: "off" },
    ] },
    { name: "fax", label: optional ? t("Fax (optional)") : t("Fax"), type: "tel", value: values.fax, autocomplete: "off" },
  ];
}

export const PROFILE_NAMES = ["title", "officePhone", "mobilePhone", "fax"];

/** "Waiting for confirmation" when a new sign-in address is pending. */
export function pendingNotice(user) {
  if (!user.pendingEmail) return null;
  return h("p", { class: "notice", role: "status" },
    tx("Waiting for confirmation: {pending}. The address changes when the link mailed there is opened; until then it stays {email}.",
      { pending: h("strong", {}, user.pendingEmail), email: user.email }));
}

/** The admin's Edit form for a member's person, and their sign-in address. */
export function editCards(m, { rerender }) {
  const u = m.user;
  const edit = buildForm({
    label: t("Edit details"),
    submitLabel: t("Save details"),
    fields: [
      { row: [
        { name: "firstName", label: t("First name"), value: u.firstName, autocomplete: "off" },
        { name: "lastName", label: t("Last name"), value: u.lastName, autocomplete: "off" },
      ] },
      ...profileFields(u),
    ],
    onSubmit: (values) => {
      const input = { membershipId: m.id };
      for (const [key, value] of Object.entries(values)) if (value.trim() !== (u[key] ?? "")) input[key] = value.trim();
      return mutate(`mutation UpdateMember($input: UpdateMemberInput!) {
        updateMember(input: $input) { membership { id } ${USER_ERROR} } }`, { input }, "updateMember");
    },
    onSuccess: () => {
      toast(t("Details saved."));
      rerender();
    },
  });
  const email = buildForm({
    label: t("Change sign-in address"),
    submitLabel: t("Send confirmation"),
    fields: [{ name: "newEmail", label: t("New email address"), type: "email", required: true, autocomplete: "off",
      hint: t("We send a link to the new address; the address changes once it is opened. The old address is told.") }],
    onSubmit: ({ newEmail }) => mutate(`mutation ChangeMemberEmail($input: ChangeMemberEmailInput!) {
      changeMemberEmail(input: $input) { membership { id } ${USER_ERROR} } }`,
    { input: { membershipId: m.id, newEmail: newEmail.trim() } }, "changeMemberEmail"),
    onSuccess: (payload, { newEmail }) => {
      toast(t("A confirmation link was sent to {email}.", { email: newEmail.trim() }));
      rerender();
    },
  });
  return [
    h("section", { class: "card", "aria-labelledby": "edit-h" },
      h("h2", { id: "edit-h" }, t("Edit details")),
      h("p", { class: "muted" }, t("These details are the person's own in every organisation they belong to.")),
      edit.el),
    h("section", { class: "card", "aria-labelledby": "email-h" },
      h("h2", { id: "email-h" }, t("Sign-in address")),
      h("p", {}, tx("Now: {email}", { email: h("strong", {}, u.email) })),
      pendingNotice(u),
      email.el),
  ];
}

/** One's own sign-in address (My account). */
export function ownEmailCard(user, { onDone }) {
  const form = buildForm({
    label: t("Change my sign-in address"),
    submitLabel: t("Send confirmation"),
    fields: [{ name: "newEmail", label: t("New email address"), type: "email", required: true, autocomplete: "email",
      hint: t("We send a link to the new address; it becomes your sign-in name once you open it.") }],
    onSubmit: ({ newEmail }) => mutate(`mutation ChangeEmail($input: ChangeEmailInput!) {
      changeEmail(input: $input) { user { id pendingEmail } ${USER_ERROR} } }`,
    { input: { newEmail: newEmail.trim() } }, "changeEmail"),
    onSuccess: async (payload, { newEmail }) => {
      toast(t("A confirmation link was sent to {email}.", { email: newEmail.trim() }));
      await onDone();
    },
  });
  return h("section", { class: "card", "aria-labelledby": "own-email-h" },
    h("h2", { id: "own-email-h" }, t("Sign-in address")),
    h("p", {}, tx("Now: {email}", { email: h("strong", {}, user.email) })),
    pendingNotice(user),
    form.el);
}

export function confirmEmail(section) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  if (!token) {
    clear(section, h("h1", {}, t("Confirmation link incomplete")),
      h("p", {}, t("Open the link from the email again, or ask for a new one.")));
    return;
  }
  const form = buildForm({
    label: t("Confirm the new address"),
    submitLabel: t("Confirm my new address"),
    fields: [],
    onSubmit: () => mutate(`mutation ConfirmEmail($input: ConfirmEmailChangeInput!) {
      confirmEmailChange(input: $input) { email ${USER_ERROR} } }`, { input: { token } }, "confirmEmailChange"),
    onSuccess: (payload) => {
      history.replaceState(null, "", "/admin/confirm-email"); // the token is spent
      clear(section, h("h1", {}, t("Address confirmed")),
        h("div", { class: "card" },
          h("p", { role: "status" }, tx("You now sign in with {email}.", { email: h("strong", {}, payload.email) })),
          h("p", {}, h("a", { href: "/admin/" }, t("Continue to Frontdesk")))));
    },
  });
  clear(section, h("h1", {}, t("Confirm your new sign-in address")),
    h("div", { class: "card" }, h("p", {}, t("Confirm that this email address is yours; your account then signs in with it.")), form.el));
}
