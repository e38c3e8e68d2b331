// The page an invitation link opens: /admin/accept-invitation#token=…
// Opening it changes nothing; the form below accepts the invitation.

import { mutate, USER_ERROR } from "../api.js";
import { clear, h } from "../dom.js";
import { buildForm } from "../forms.js";
import { afterSignIn, signOut } from "../session.js";
import { loadViewer, state } from "../state.js";
import { t } from "../i18n.js";

const CONFIRM = `mutation Confirm($input: ConfirmInvitationInput!) {
  confirmInvitation(input: $input) {
    membership { role organisation { id name } }
    ${USER_ERROR}
  }
}`;

function accepted(payload) {
  const orgId = payload.membership?.organisation.id;
  if (orgId) localStorage.setItem("frontdesk.org", orgId);
  history.replaceState(null, "", "/admin/accept-invitation"); // the token is spent
  return afterSignIn();
}

export async function acceptInvitation(section) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  if (!token) {
    clear(section, h("h1", {}, t("Invitation link incomplete")),
      h("p", {}, t("Open the link from the invitation email again. If it still fails, ask the person who invited you to send a new invitation.")));
    return;
  }
  const viewer = state.viewer ?? await loadViewer().catch(() => null);
  const submit = (values) => mutate(CONFIRM, { input: { token, session: "COOKIE", ...values } }, "confirmInvitation");

  if (viewer) {
    const form = buildForm({
      label: t("Accept the invitation"),
      submitLabel: t("Accept the invitation"),
      fields: [],
      onSubmit: () => submit({}),
      onSuccess: accepted,
    });
    clear(section, h("h1", {}, t("Join an organisation")),
      h("div", { class: "card" },
        h("p", {}, t("You are signed in as "), h("strong", {}, viewer.user.email), t(". Accept the invitation to add the organisation to your account.")),
        form.el,
        h("p", {}, t("Not you? "), h("button", { type: "button", class: "link-button", onclick: signOut }, t("Sign out")), t(" and open the link again."))));
    return;
  }

  const form = buildForm({
    label: t("Accept the invitation"),
    submitLabel: t("Accept and sign in"),
    fields: [
      { row: [
        { name: "firstName", label: t("First name"), autocomplete: "given-name", autofocus: true },
        { name: "lastName", label: t("Last name"), autocomplete: "family-name" },
      ] },
      {
        name: "password",
        label: t("Password"),
        type: "password",
        required: true,
        autocomplete: "new-password",
        hint: t("New to Frontdesk? Choose a password of at least 8 characters. Already have an account? Enter its password."),
      },
      { name: "show", label: t("Show the password"), type: "checkbox" },
    ],
    onSubmit: ({ firstName, lastName, password }) => submit({
      password,
      firstName: firstName.trim() || null,
      lastName: lastName.trim() || null,
    }),
    onSuccess: accepted,
  });
  form.fields.show.input.addEventListener("change", (e) => {
    form.fields.password.input.type = e.target.checked ? "text" : "password";
  });
  clear(section, h("h1", {}, t("Accept your invitation")),
    h("div", { class: "card" },
      h("p", {}, t("You have been invited to Frontdesk. Tell us your name and choose a password to finish.")),
      form.el),
    h("p", {}, t("Already accepted? "), h("a", { href: "/admin/sign-in" }, t("Sign in"))));
}
