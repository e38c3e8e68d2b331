// The page an invitation link opens: /admin/accept-invitation#token=…
// Opening it changes nothing: it shows what the invitation is about (the public
// preview: who invites, to which organisation, as what) and accepts it on submit.

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, h, humanise } from "../dom.js";
import { buildForm } from "../forms.js";
import { t, tx } from "../i18n.js";
import { afterSignIn, signOut } from "../session.js";
import { loadViewer, state } from "../state.js";

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

const PREVIEW = `query Preview($token: String!) {
  invitationPreview(token: $token) { organisationName inviterName role maskedEmail hasAccount firstName lastName }
}`;

/** What the link is about, or null when it opens no pending invitation (one answer for all). */
async function preview(token) {
  try {
    return (await gql(PREVIEW, { token })).invitationPreview;
  } catch (error) {
    if (error.code === "INVITE_INVALID") return null;
    throw error;
  }
}

function invalidLink(section) {
  clear(section, h("h1", {}, t("This invitation link is not valid")),
    h("p", {}, t("It may have expired, been withdrawn or been used already. Ask the person who invited you to send a new invitation.")),
    h("p", {}, tx("Already accepted? {signIn}", { signIn: h("a", { href: "/admin/sign-in" }, t("Sign in")) })));
}

/** "Ann Admin invites you to Acme as Admin." and the address it went to. */
function summary(about) {
  const values = {
    inviter: h("strong", {}, about.inviterName ?? ""),
    organisation: h("strong", {}, about.organisationName),
    role: h("strong", {}, humanise(about.role)),
  };
  return h("div", { class: "invitation-summary" },
    h("p", { class: "lead" }, about.inviterName
      ? tx("{inviter} invites you to {organisation} as {role}.", values)
      : tx("You are invited to {organisation} as {role}.", values)),
    h("p", { class: "muted" }, t("Sent to {email}", { email: about.maskedEmail })));
}

export async function acceptInvitation(section) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  if (!token) {
    clear(section, h("h1", {}, t("Invitation link incomplete")),
      h("p", {}, t("Open the link from the invitation email again. If it still fails, ask the person who invited you to send a new invitation.")));
    return;
  }
  const [about, viewer] = await Promise.all([
    preview(token),
    state.viewer ? Promise.resolve(state.viewer) : loadViewer().catch(() => null),
  ]);
  if (!about) {
    invalidLink(section);
    return;
  }
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
        summary(about),
        h("p", {}, tx("You are signed in as {email}. Accept the invitation to add the organisation to your account.", { email: h("strong", {}, viewer.user.email) })),
        form.el,
        h("p", {}, tx("Not you? {signOut} and open the link again.", { signOut: h("button", { type: "button", class: "link-button", onclick: signOut }, t("Sign out")) }))));
    return;
  }

  // Someone new chooses a password; the names the inviter typed are filled in, to
  // check or correct. An existing account only proves it is theirs.
  const named = !!(about.firstName || about.lastName);
  const fields = about.hasAccount ? [] : [
    { row: [
      { name: "firstName", label: t("First name"), autocomplete: "given-name", value: about.firstName ?? "", autofocus: !named },
      { name: "lastName", label: t("Last name"), autocomplete: "family-name", value: about.lastName ?? "" },
    ] },
  ];
  const form = buildForm({
    label: t("Accept the invitation"),
    submitLabel: t("Accept and sign in"),
    fields: [
      ...fields,
      {
        name: "password",
        label: t("Password"),
        type: "password",
        required: true,
        autocomplete: about.hasAccount ? "current-password" : "new-password",
        autofocus: named || about.hasAccount,
        hint: about.hasAccount
          ? t("This address already has an account: enter its password to join.")
          : t("Choose a password of at least 8 characters."),
      },
      { name: "show", label: t("Show the password"), type: "checkbox" },
    ],
    onSubmit: ({ firstName, lastName, password }) => submit(about.hasAccount ? { password } : {
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
      summary(about),
      h("p", {}, about.hasAccount
        ? t("Enter your password to finish.")
        : named
          ? t("Check your name and choose a password to finish.")
          : t("Tell us your name and choose a password to finish.")),
      form.el),
    h("p", {}, tx("Already accepted? {signIn}", { signIn: h("a", { href: "/admin/sign-in" }, t("Sign in")) })));
}
