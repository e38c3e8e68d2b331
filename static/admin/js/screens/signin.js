// Signed-out screens: sign-in with the second factor, forgot and reset
// password; and the forced password change after an initial password.

import { mutate, USER_ERROR } from "../api.js";
import { brandMark, hostBrand } from "../brand.js";
import { clear, h, toast } from "../dom.js";
import { buildForm } from "../forms.js";
import { t, tx } from "../i18n.js";
import { navigate } from "../router.js";
import { afterSignIn, signOut } from "../session.js";
import { loadViewer, state } from "../state.js";
import { passkeysSupported, signInWithPasskey, verifyWithPasskey } from "../passkeys.js";

const LOGIN = `mutation Login($input: LoginInput!) {
  login(input: $input) { challenge { token methods } viewer { mustChangePassword } ${USER_ERROR} }
}`;
const VERIFY = `mutation Verify($input: VerifyTwoFactorInput!) {
  verifyTwoFactor(input: $input) { viewer { mustChangePassword } ${USER_ERROR} }
}`;
const SEND_EMAIL = `mutation SendCode($input: ChallengeInput!) {
  sendTwoFactorEmail(input: $input) { ok ${USER_ERROR} }
}`;

// The initial password just typed to sign in, held in memory only until the forced
// change that follows takes it (so it is not asked for twice); never stored.
let initialPassword = null;

function signedIn(payload, password) {
  initialPassword = payload.viewer?.mustChangePassword ? password : null;
  return afterSignIn();
}

function tokenFromHash() {
  return new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
}

export async function signIn(section) {
  initialPassword = null;
  const brand = await hostBrand();
  const reset = new URLSearchParams(window.location.search).get("reset");
  const form = buildForm({
    label: t("Sign in"),
    submitLabel: t("Sign in"),
    fields: [
      { name: "email", label: t("Email"), type: "email", required: true, autocomplete: "username", autofocus: true },
      { name: "password", label: t("Password"), type: "password", required: true, autocomplete: "current-password" },
    ],
    onSubmit: (input) => mutate(LOGIN, { input: { ...input, session: "COOKIE" } }, "login"),
    onSuccess: (payload, values) => (payload.challenge
      ? secondFactor(section, payload.challenge, values.password)
      : signedIn(payload, values.password)),
  });
  clear(section,
    h("div", { class: "sign-in-brand" }, brandMark(brand, { href: "/admin/sign-in" })),
    h("h1", {}, t("Sign in to {portal}", { portal: brand.portalName })),
    reset ? h("p", { class: "notice ok" }, t("Your password was changed. Sign in with the new one.")) : null,
    h("div", { class: "card" }, form.el, passkeySignIn(),
      h("p", {}, h("a", { href: "/admin/forgot-password" }, t("Forgot your password?"))),
      brand.supportContact ? h("p", { class: "hint" }, t("Help: {contact}", { contact: brand.supportContact })) : null));
}

/** "Sign in with a passkey": no email, no password (the browser offers this site's passkeys). */
function passkeySignIn() {
  if (!passkeysSupported()) return null;
  const error = h("p", { class: "form-error", role: "alert" });
  const start = async () => {
    error.textContent = "";
    try {
      const payload = await signInWithPasskey();
      if (payload.errors.length) error.textContent = payload.errors[0].message;
      else await signedIn(payload, null);
    } catch (problem) {
      error.textContent = problem.message;
    }
  };
  return h("div", { class: "passkey-sign-in" }, error,
    h("button", { type: "button", onclick: start }, t("Sign in with a passkey")));
}

/** Step two with a passkey: a button (the browser asks for the passkey). */
function passkeyStep(challenge, password, onError) {
  return h("button", {
    type: "button",
    class: "link-button",
    onclick: async () => {
      try {
        const payload = await verifyWithPasskey(challenge.token);
        if (payload.errors.length) onError(payload.errors[0].message);
        else await signedIn(payload, password);
      } catch (problem) {
        onError(problem.message);
      }
    },
  }, t("Use a passkey"));
}

/** Step two when a passkey is the only factor. */
function passkeyOnly(section, challenge, password) {
  const error = h("p", { class: "form-error", role: "alert", tabindex: "-1" });
  const button = passkeyStep(challenge, password, (message) => { error.textContent = message; error.focus(); });
  button.className = "primary";
  clear(section,
    h("h1", { tabindex: "-1" }, t("Two-step verification")),
    h("div", { class: "card" }, error,
      h("p", {}, t("Confirm with your passkey: your browser or phone will ask for it.")),
      h("div", { class: "actions" }, button),
      h("p", {}, h("a", { href: "/admin/sign-in" }, t("Start again")))));
  section.querySelector("h1").focus();
}

/** Step two: a code from the app, an emailed code or a recovery code (or a passkey). */
function secondFactor(section, challenge, password) {
  const { methods } = challenge;
  if (methods.includes("PASSKEY") && !methods.includes("TOTP") && !methods.includes("EMAIL")) {
    passkeyOnly(section, challenge, password);
    return;
  }
  const hasApp = methods.includes("TOTP");
  const hasEmail = methods.includes("EMAIL");
  let mode = hasApp ? "TOTP" : "EMAIL";
  const labels = {
    TOTP: [t("Code from your authenticator app"), t("Open the app and enter the 6-digit code it shows for Frontdesk.")],
    EMAIL: [t("Code from the email"), t("We sent a 6-digit code to your email address. It is valid for 5 minutes.")],
    RECOVERY_CODE: [t("Recovery code"), t("One of the recovery codes you saved when you set up two-factor authentication (xxxxxx-xxxxxx-xxxxxx-xxxxxx).")],
  };
  const form = buildForm({
    label: t("Two-step verification"),
    submitLabel: t("Verify"),
    fields: [{ name: "code", label: labels[mode][0], hint: labels[mode][1], required: true, autocomplete: "one-time-code", autofocus: true, class: "code-input", inputmode: "numeric" }],
    onSubmit: ({ code }) => mutate(VERIFY, { input: { challenge: challenge.token, code: code.trim(), session: "COOKIE" } }, "verifyTwoFactor"),
    onSuccess: (payload) => signedIn(payload, password),
  });
  const { input } = form.fields.code;
  const label = form.el.querySelector(`label[for="${input.id}"]`);
  const hint = form.el.querySelector(".hint");
  let offer = () => {};
  const switchTo = (next) => {
    mode = next;
    label.textContent = labels[mode][0];
    hint.textContent = labels[mode][1];
    input.inputMode = mode === "RECOVERY_CODE" ? "text" : "numeric";
    input.value = "";
    offer();
    input.focus();
  };
  const sendEmail = async () => {
    const payload = await mutate(SEND_EMAIL, { input: { challenge: challenge.token } }, "sendTwoFactorEmail");
    if (!form.showErrors(payload.errors)) {
      switchTo("EMAIL");
      toast(t("We emailed you a new code."));
    }
  };
  // Only the ways other than the one on screen.
  const useApp = hasApp ? h("button", { type: "button", class: "link-button", onclick: () => switchTo("TOTP") }, t("Use the authenticator app")) : null;
  const useEmail = hasEmail ? h("button", { type: "button", class: "link-button", onclick: sendEmail }) : null;
  const useRecovery = methods.includes("RECOVERY_CODE")
    ? h("button", { type: "button", class: "link-button", onclick: () => switchTo("RECOVERY_CODE") }, t("Use a recovery code")) : null;
  offer = () => {
    if (useApp) useApp.hidden = mode === "TOTP";
    if (useEmail) useEmail.textContent = mode === "EMAIL" ? t("Send a new code") : t("Email me a code instead");
    if (useRecovery) useRecovery.hidden = mode === "RECOVERY_CODE";
  };
  offer();
  const others = h("div", { class: "actions" }, useApp, useEmail, useRecovery,
    methods.includes("PASSKEY") && passkeysSupported() ? passkeyStep(challenge, password, (message) => form.setError(message)) : null);
  clear(section,
    h("h1", {}, t("Two-step verification")),
    h("div", { class: "card" }, form.el, h("h2", { class: "visually-hidden" }, t("Other ways to verify")), others,
      h("p", {}, h("a", { href: "/admin/sign-in" }, t("Start again")))));
  section.querySelector("h1").setAttribute("tabindex", "-1");
  section.querySelector("h1").focus();
  input.focus();
}

export function forgotPassword(section) {
  const form = buildForm({
    label: t("Reset your password"),
    submitLabel: t("Send the link"),
    fields: [{ name: "email", label: t("Email"), type: "email", required: true, autocomplete: "username", autofocus: true }],
    onSubmit: (input) => mutate(`mutation Forgot($input: RequestPasswordResetInput!) {
      requestPasswordReset(input: $input) { ok ${USER_ERROR} } }`, { input }, "requestPasswordReset"),
    onSuccess: () => {
      clear(section, h("h1", { tabindex: "-1" }, t("Check your email")),
        h("p", { class: "notice ok", role: "status" },
          t("If an account uses that address, we have sent it a link to choose a new password. The link is valid for 30 minutes.")),
        h("p", {}, h("a", { href: "/admin/sign-in" }, t("Back to sign-in"))));
      section.querySelector("h1").focus();
    },
  });
  clear(section, h("h1", {}, t("Forgot your password?")),
    h("div", { class: "card" },
      h("p", {}, t("Enter the email you sign in with and we'll send you a link to choose a new password.")),
      form.el,
      h("p", {}, h("a", { href: "/admin/sign-in" }, t("Back to sign-in")))));
}

function passwordPair(extra = []) {
  return [
    ...extra,
    { name: "newPassword", label: t("New password"), type: "password", required: true, autocomplete: "new-password", hint: t("At least 8 characters. A few words you'll remember work well.") },
    { name: "confirm", label: t("Repeat the new password"), type: "password", required: true, autocomplete: "new-password" },
  ];
}

function mismatch(values) {
  return values.newPassword !== values.confirm
    ? { errors: [{ field: "confirm", message: t("The passwords do not match.") }] }
    : null;
}

export function resetPassword(section) {
  const token = tokenFromHash();
  if (!token) {
    clear(section, h("h1", {}, t("Reset link incomplete")),
      h("p", {}, tx("Open the link from the email again, or {askAgain}.", { askAgain: h("a", { href: "/admin/forgot-password" }, t("ask for a new one")) })));
    return;
  }
  const form = buildForm({
    label: t("Choose a new password"),
    submitLabel: t("Set the new password"),
    fields: passwordPair(),
    onSubmit: (values) => mismatch(values) ?? mutate(`mutation Reset($input: ResetPasswordInput!) {
      resetPassword(input: $input) { ok ${USER_ERROR} } }`,
    { input: { token, newPassword: values.newPassword } }, "resetPassword"),
    onSuccess: () => navigate("/admin/sign-in?reset=1", { replace: true }),
  });
  clear(section, h("h1", {}, t("Choose a new password")), h("div", { class: "card" }, form.el));
}

export function forcedPasswordChange(section) {
  // Typed seconds ago to sign in: not asked again. After a reload it is gone, and asked.
  const known = initialPassword;
  initialPassword = null;
  const current = known ? [] : [{ name: "currentPassword", label: t("Current password"), type: "password", required: true, autocomplete: "current-password", autofocus: true }];
  const form = buildForm({
    label: t("Change your password"),
    submitLabel: t("Change password"),
    fields: passwordPair(current),
    onSubmit: (values) => mismatch(values) ?? mutate(`mutation Change($input: ChangePasswordInput!) {
      changePassword(input: $input) { ${USER_ERROR} } }`,
    { input: { currentPassword: known ?? values.currentPassword, newPassword: values.newPassword } }, "changePassword"),
    onSuccess: async () => {
      await loadViewer();
      toast(t("Password changed."));
      navigate("/admin/", { replace: true });
    },
  });
  clear(section, h("h1", {}, t("Choose your own password")),
    h("p", { class: "notice" }, t("Welcome, {name}. Your account was set up with an initial password; choose your own before you continue.", { name: state.viewer?.user.displayName || "" })),
    h("div", { class: "card" }, form.el),
    h("button", { type: "button", class: "link-button", onclick: signOut }, t("Sign out")));
}
