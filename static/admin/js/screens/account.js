// My account: profile, password, two-factor (app, emailed codes, recovery
// codes), sessions. Also the forced two-factor set-up after sign-in.

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, formatDateTime, h, table, timeEl, toast } from "../dom.js";
import { buildForm, confirmDialog, formDialog } from "../forms.js";
import { LANGUAGES, rememberLanguage, t, tn, tx } from "../i18n.js";
import { navigate, reload } from "../router.js";
import { signOut } from "../session.js";
import { impersonating, loadViewer, state } from "../state.js";
import { ownEmailCard } from "./person.js";
import { passkeysSupported, registerPasskey } from "../passkeys.js";

const RECOVERY = `recoveryCodes ${USER_ERROR}`;

/** Steps of setting up an authenticator app; calls onDone() when finished. */
export async function totpEnrolment(container, { onDone, onCancel }) {
  const data = await gql(`mutation { enrolTotp { secret qrSvg ${USER_ERROR} } }`);
  const { secret, qrSvg, errors } = data.enrolTotp;
  if (errors.length) {
    clear(container, h("p", { class: "notice danger", role: "alert" }, errors[0].message));
    return;
  }
  // The QR code as an image: the page's CSP allows data: images, not inline
  // styles. The API's SVG is meant for inlining: a standalone image needs its namespace.
  const svg = /<svg[^>]*\sxmlns=/.test(qrSvg) ? qrSvg : qrSvg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"');
  const qr = h("img", {
    class: "qr",
    src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`,
    alt: t("QR code to scan with your authenticator app"),
    width: "192",
    height: "192",
  });
  const groups = secret.match(/.{1,4}/g);
  const grouped = groups.join(" ");
  // Lines break between groups of four, never inside one.
  const key = groups.flatMap((group, i) => [i ? " " : null, h("span", { class: "nowrap" }, group)]).filter(Boolean);
  const form = buildForm({
    label: t("Confirm the authenticator app"),
    submitLabel: t("Turn on"),
    fields: [{ name: "code", label: t("6-digit code from the app"), required: true, autocomplete: "one-time-code", inputmode: "numeric", class: "code-input" }],
    // The secret stays pending through a reload until confirmed or cancelled here.
    secondary: onCancel ? [h("button", { type: "button", onclick: async () => {
      await mutate(`mutation { cancelTotpEnrolment { ok ${USER_ERROR} } }`, {}, "cancelTotpEnrolment").catch(() => null);
      onCancel();
    } }, t("Cancel"))] : [],
    onSubmit: ({ code }) => mutate(`mutation Confirm($input: CodeInput!) { confirmTotp(input: $input) { ${RECOVERY} } }`,
      { input: { code: code.trim() } }, "confirmTotp"),
    onSuccess: (payload) => showRecoveryCodes(container, payload.recoveryCodes, onDone),
  });
  clear(container,
    h("ol", {},
      h("li", {}, t("Open an authenticator app on your phone (for example Google Authenticator, Microsoft Authenticator, 1Password or Aegis).")),
      h("li", {}, t("Scan this QR code:"), qr,
        h("p", {}, tx("Can't scan it? Enter this key instead: {key}", { key: h("code", { class: "secret", "data-secret": secret, "aria-label": t("Secret key {key}", { key: grouped }) }, key) }))),
      h("li", {}, t("Enter the code the app shows to finish."))),
    form.el);
  form.fields.code.input.focus();
}

function showRecoveryCodes(container, codes, onDone) {
  const text = codes.join("\n");
  const heading = h("h3", { tabindex: "-1" }, t("Save your recovery codes"));
  clear(container,
    heading,
    h("p", { class: "notice warn" }, t("Each code signs you in once if you lose your phone. They are shown only now: store them somewhere safe, such as a password manager.")),
    h("ul", { class: "codes", "aria-label": t("Recovery codes") }, codes.map((c) => h("li", {}, c))),
    h("div", { class: "actions" },
      h("a", { class: "button", download: "frontdesk-recovery-codes.txt", href: `data:text/plain;charset=utf-8,${encodeURIComponent(text)}` }, t("Download")),
      h("button", { type: "button", onclick: async () => { await navigator.clipboard?.writeText(text); toast(t("Recovery codes copied.")); } }, t("Copy")),
      h("button", { type: "button", class: "primary", onclick: onDone }, t("I have saved them"))));
  heading.focus();
}

export async function forcedEnrolment(section) {
  const v = state.viewer;
  if (v.awaitingTwoFactor.some(needsPasskey)) return passkeyEnrolment(section);
  const names = v.awaitingTwoFactor.map((m) => m.organisation.name).join(", ");
  const steps = h("div", { class: "card" });
  clear(section,
    h("h1", {}, t("Set up two-step verification")),
    h("p", { class: "notice" }, names
      ? t("{names} requires two-step verification. Set up an authenticator app to continue.", { names })
      : t("Your organisation requires two-step verification. Set up an authenticator app to continue.")),
    steps,
    h("button", { type: "button", class: "link-button", onclick: signOut }, t("Sign out")));
  await totpEnrolment(steps, {
    onDone: async () => {
      await loadViewer();
      if (state.viewer.awaitingTwoFactor.length && !state.viewer.memberships.length) {
        clear(steps, h("p", { class: "notice warn" }, t("Two-step verification is on. Sign in again with a code from the app to continue.")),
          h("button", { type: "button", class: "primary", onclick: signOut }, t("Sign in again")));
        return;
      }
      navigate("/admin/", { replace: true });
    },
  });
}

function needsPasskey(m) {
  return m.organisation.requirePasskeysForAdmins && (m.role === "OWNER" || m.role === "ADMIN");
}

/** An organisation wants its owners and admins signed in with a passkey: add one. */
function passkeyEnrolment(section) {
  const names = state.viewer.awaitingTwoFactor.filter(needsPasskey).map((m) => m.organisation.name).join(", ");
  const error = h("p", { class: "form-error", role: "alert", tabindex: "-1" });
  const add = async () => {
    error.textContent = "";
    try {
      const payload = await registerPasskey(null);
      if (payload.errors.length) throw new Error(payload.errors[0].message);
      await loadViewer();
      toast(t("Passkey added."));
      navigate("/admin/", { replace: true });
    } catch (problem) {
      if (problem.code !== "CANCELLED") error.textContent = problem.message;
      error.focus();
    }
  };
  clear(section,
    h("h1", {}, t("Add a passkey")),
    h("p", { class: "notice" }, t("{names} requires owners and admins to sign in with a passkey. Add one to continue.", { names })),
    h("div", { class: "card" }, error,
      h("p", {}, t("Your browser or phone will ask you to confirm with your fingerprint, face, screen lock or security key.")),
      passkeysSupported()
        ? h("div", { class: "actions" }, h("button", { type: "button", class: "primary", onclick: add }, t("Add a passkey")))
        : h("p", { class: "notice warn" }, t("This browser cannot use passkeys."))),
    h("button", { type: "button", class: "link-button", onclick: signOut }, t("Sign out")));
}

// --- my account ----------------------------------------------------------------

function profileCard() {
  const u = state.viewer.user;
  const form = buildForm({
    label: t("Profile"),
    fields: [
      { row: [
        { name: "firstName", label: t("First name"), value: u.firstName, autocomplete: "given-name" },
        { name: "lastName", label: t("Last name"), value: u.lastName, autocomplete: "family-name" },
      ] },
      { name: "title", label: t("Job title"), value: u.title, autocomplete: "organization-title" },
      { row: [
        { name: "officePhone", label: t("Office phone"), type: "tel", value: u.officePhone, autocomplete: "work tel" },
        { name: "mobilePhone", label: t("Mobile phone"), type: "tel", value: u.mobilePhone, autocomplete: "mobile tel" },
      ] },
      { name: "fax", label: t("Fax"), type: "tel", value: u.fax },
      { name: "language", label: t("Language"), type: "select", value: state.viewer.language ?? "",
        hint: t("For this app and the mails you get."),
        options: [["", t("Your organisation's default")], ...Object.entries(LANGUAGES)] },
    ],
    submitLabel: t("Save profile"),
    onSubmit: (input) => mutate(`mutation Profile($input: UpdateProfileInput!) {
      updateProfile(input: $input) { user { id displayName } ${USER_ERROR} } }`, { input }, "updateProfile"),
    onSuccess: async (payload, values) => {
      const before = state.viewer.language ?? "";
      await loadViewer();
      if (values.language !== before) {
        // This browser follows too (the signed-out pages), and the page is redrawn in it.
        rememberLanguage(values.language);
        await reload();
      }
      toast(t("Profile saved."));
    },
  });
  return h("section", { class: "card", "aria-labelledby": "profile-h" },
    h("h2", { id: "profile-h" }, t("Profile")),
    h("p", { class: "muted" }, tx("Email (your sign-in name): {email}", { email: h("strong", {}, u.email) })),
    form.el);
}

function passwordCard() {
  const form = buildForm({
    label: t("Change password"),
    submitLabel: t("Change password"),
    fields: [
      { name: "currentPassword", label: t("Current password"), type: "password", required: true, autocomplete: "current-password" },
      { name: "newPassword", label: t("New password"), type: "password", required: true, autocomplete: "new-password", hint: t("At least 8 characters. Your other sessions will be signed out.") },
      { name: "confirm", label: t("Repeat the new password"), type: "password", required: true, autocomplete: "new-password" },
    ],
    onSubmit: ({ currentPassword, newPassword, confirm }) => (newPassword !== confirm
      ? { errors: [{ field: "confirm", message: t("The passwords do not match.") }] }
      : mutate(`mutation Change($input: ChangePasswordInput!) { changePassword(input: $input) { ${USER_ERROR} } }`,
        { input: { currentPassword, newPassword } }, "changePassword")),
    onSuccess: (payload, values, api) => {
      api.el.reset();
      toast(t("Password changed. Other sessions were signed out."));
    },
  });
  return h("section", { class: "card", "aria-labelledby": "password-h" }, h("h2", { id: "password-h" }, t("Password")), form.el);
}

function twoFactorCard(rerender) {
  const tf = state.viewer.twoFactor;
  const body = h("div", {});
  const run = async (query, field, message, variables = {}) => {
    const payload = await mutate(query, variables, field).catch((error) => {
      if (error.code !== "CANCELLED") toast(error.message);
      return null;
    });
    if (!payload) return null;
    if (payload.errors.length) {
      toast(payload.errors[0].message);
      return null;
    }
    if (message) toast(message);
    return payload;
  };
  const enrol = async () => {
    const panel = h("div", {});
    clear(body, panel);
    try {
      await totpEnrolment(panel, { onDone: rerender, onCancel: rerender });
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
      rerender();
    }
  };
  const regenerate = async () => {
    const payload = await run(`mutation { regenerateRecoveryCodes { ${RECOVERY} } }`, "regenerateRecoveryCodes");
    if (payload) showRecoveryCodes(body, payload.recoveryCodes, rerender);
  };
  const disable = async () => {
    const ok = await confirmDialog({
      title: t("Turn off two-step verification?"),
      message: t("Signing in will need only your password, and your other sessions will be signed out. Organisations that require two-step verification will ask you to set it up again."),
      confirmLabel: t("Turn off"),
      danger: true,
    });
    if (ok && await run(`mutation { disableTwoFactor { ${USER_ERROR} } }`, "disableTwoFactor", t("Two-step verification is off."))) rerender();
  };
  const emailToggle = h("input", {
    type: "checkbox",
    id: "email-codes",
    checked: tf.emailEnabled,
    onchange: async (e) => {
      const enabled = e.target.checked;
      const done = await run(`mutation Email($input: EmailTwoFactorInput!) { setEmailTwoFactor(input: $input) { ${USER_ERROR} } }`,
        "setEmailTwoFactor", enabled ? t("Emailed codes are on.") : t("Emailed codes are off."), { input: { enabled } });
      if (done) rerender();
      else e.target.checked = !enabled;
    },
  });
  clear(body,
    h("dl", { class: "facts" },
      h("dt", {}, t("Authenticator app")), h("dd", {}, tf.totpEnabled ? t("On") : t("Off")),
      h("dt", {}, t("Recovery codes left")), h("dd", {}, tf.totpEnabled ? String(tf.recoveryCodesLeft) : "—")),
    h("div", { class: "check" }, emailToggle, h("label", { for: "email-codes" }, t("Also accept a code sent to my email"))),
    h("div", { class: "actions" },
      h("button", { type: "button", class: tf.totpEnabled ? "" : "primary", onclick: enrol },
        tf.totpEnabled ? t("Set up a new app") : t("Set up an authenticator app")),
      tf.totpEnabled ? h("button", { type: "button", onclick: regenerate }, t("New recovery codes")) : null,
      tf.methods.length ? h("button", { type: "button", class: "danger", onclick: disable }, t("Turn off two-step verification")) : null));
  return h("section", { class: "card", "aria-labelledby": "tf-h" },
    h("h2", { id: "tf-h" }, t("Two-step verification")),
    h("p", { class: "muted" }, t("A code from your phone on top of your password keeps your account safe even if the password leaks.")),
    body);
}

/** Passkeys: add (named), rename, remove (step-up); when each was last used. */
async function passkeysCard(rerender) {
  const data = await gql("query { passkeys { id name createdAt lastUsedAt } }");
  const failed = (error) => {
    if (error.code !== "CANCELLED") toast(error.message);
    return null;
  };
  const add = () => formDialog(t("Add a passkey"), {
    label: t("Add a passkey"),
    submitLabel: t("Create passkey"),
    intro: t("Your browser or phone will ask you to confirm with your fingerprint, face, screen lock or security key."),
    fields: [{ name: "name", label: t("Passkey name"), hint: t("For example: Work laptop, Phone."), autocomplete: "off", autofocus: true }],
    onSubmit: ({ name }) => registerPasskey(name.trim()),
    onSuccess: () => {
      toast(t("Passkey added."));
      rerender();
    },
  });
  const rename = (p) => formDialog(t("Rename passkey"), {
    label: t("Rename passkey"),
    submitLabel: t("Save"),
    fields: [{ name: "name", label: t("Passkey name"), value: p.name, required: true, autocomplete: "off", autofocus: true }],
    onSubmit: ({ name }) => mutate(`mutation RenamePasskey($input: RenamePasskeyInput!) {
      renamePasskey(input: $input) { passkey { id name } ${USER_ERROR} } }`, { input: { passkeyId: p.id, name } }, "renamePasskey"),
    onSuccess: () => rerender(),
  });
  const remove = async (p) => {
    const ok = await confirmDialog({
      title: t("Remove the passkey {name}?", { name: p.name }),
      message: t("It will no longer sign you in, and your other sessions will be signed out."),
      confirmLabel: t("Remove passkey"),
      danger: true,
    });
    if (!ok) return;
    const payload = await mutate(`mutation RemovePasskey($input: PasskeyInput!) {
      removePasskey(input: $input) { ${USER_ERROR} } }`, { input: { passkeyId: p.id } }, "removePasskey").catch(failed);
    if (!payload) return;
    toast(payload.errors.length ? payload.errors[0].message : t("Passkey removed."));
    rerender();
  };
  const { el } = table([t("Name"), t("Added"), t("Last used"), ""],
    data.passkeys.map((p) => [
      p.name,
      timeEl(p.createdAt),
      p.lastUsedAt ? timeEl(p.lastUsedAt) : t("Never"),
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => rename(p), "aria-label": t("Rename the passkey {name}", { name: p.name }) }, t("Rename")),
        h("button", { type: "button", class: "danger", onclick: () => remove(p), "aria-label": t("Remove the passkey {name}", { name: p.name }) }, t("Remove"))),
    ]), { caption: t("Your passkeys"), empty: t("No passkeys yet.") });
  return h("section", { class: "card", "aria-labelledby": "passkeys-h" },
    h("h2", { id: "passkeys-h" }, t("Passkeys")),
    h("p", { class: "muted" }, t("A passkey signs you in without a password and counts as your second step. It cannot be phished: it only works on this site.")),
    el,
    passkeysSupported()
      ? h("div", { class: "actions" }, h("button", { type: "button", class: data.passkeys.length ? "" : "primary", onclick: add }, t("Add a passkey")))
      : h("p", { class: "hint" }, t("This browser cannot use passkeys.")));
}

function browserName(agent) {
  if (!agent) return t("Unknown client");
  const found = /(Edg|Firefox|Chrome|Chromium|Safari|curl|python-httpx)\/[\d.]+/.exec(agent);
  const os = /(Windows|Mac OS X|Android|iPhone|Linux)/.exec(agent);
  const browser = found ? found[0].split("/")[0].replace("Edg", "Edge") : agent.slice(0, 40);
  return os ? t("{browser} on {system}", { browser, system: os[0] }) : browser;
}

async function sessionsCard(rerender) {
  const data = await gql("query { sessions { id createdAt lastSeenAt expiresAt clientIp userAgent current } }");
  const revoke = async (s) => {
    const payload = await mutate(`mutation Revoke($input: SessionInput!) { revokeSession(input: $input) { ok ${USER_ERROR} } }`,
      { input: { sessionId: s.id } }, "revokeSession");
    toast(payload.errors.length ? payload.errors[0].message : t("Session signed out."));
    rerender();
  };
  const others = data.sessions.filter((s) => !s.current).length;
  const { el } = table([t("Device"), t("Address"), t("Signed in"), t("Last active"), ""],
    data.sessions.map((s) => [
      h("span", {}, browserName(s.userAgent), s.current ? [" ", h("span", { class: "badge ok" }, t("This session"))] : null),
      s.clientIp || "—",
      timeEl(s.createdAt),
      timeEl(s.lastSeenAt),
      s.current ? "" : h("button", { type: "button", onclick: () => revoke(s), "aria-label": t("Sign out the session from {when}", { when: formatDateTime(s.createdAt) }) }, t("Sign out")),
    ]), { caption: t("Your sessions") });
  const all = async () => {
    if (!await confirmDialog({ title: t("Sign out everywhere else?"), message: tn("This ends {count} other session.", "This ends {count} other sessions.", others, { count: others }), confirmLabel: t("Sign out others") })) return;
    await mutate(`mutation { revokeOtherSessions { ok ${USER_ERROR} } }`, {}, "revokeOtherSessions");
    toast(t("Other sessions signed out."));
    rerender();
  };
  return h("section", { class: "card", "aria-labelledby": "sessions-h" },
    h("h2", { id: "sessions-h" }, t("Where you're signed in")), el,
    others ? h("div", { class: "actions" }, h("button", { type: "button", onclick: all }, t("Sign out all other sessions"))) : null);
}

export async function myAccount(section) {
  const rerender = async () => {
    await loadViewer();
    await myAccount(section);
  };
  const cards = [profileCard()];
  if (impersonating()) {
    cards.push(h("p", { class: "notice" }, t("Sign-in address, password, two-step verification and sessions are not available while you view someone else's portal.")));
  } else {
    cards.push(ownEmailCard(state.viewer.user, { onDone: rerender }), passwordCard(), twoFactorCard(rerender), await sessionsCard(rerender));
    cards.splice(cards.length - 1, 0, await passkeysCard(rerender));
  }
  const focused = section.contains(document.activeElement);
  clear(section, h("h1", {}, t("My account")), cards);
  if (focused) section.querySelector("h1").focus();
}
