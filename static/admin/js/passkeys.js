// Passkeys in the browser (WebAuthn): the server's options JSON in,
// navigator.credentials out, the answer back as JSON (README, "Passkeys").
// Used by the sign-in screens, the account screen and the step-up dialog.

import { ApiError, gql, USER_ERROR } from "./api.js";
import { t } from "./i18n.js";

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && !!navigator.credentials;
}

function fromBase64url(text) {
  const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4);
  return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
}

function toBase64url(buffer) {
  const bytes = new Uint8Array(buffer);
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function descriptors(list) {
  return (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));
}

function creationOptions(json) {
  const o = JSON.parse(json);
  return {
    ...o,
    challenge: fromBase64url(o.challenge),
    user: { ...o.user, id: fromBase64url(o.user.id) },
    excludeCredentials: descriptors(o.excludeCredentials),
  };
}

function requestOptions(json) {
  const o = JSON.parse(json);
  return { ...o, challenge: fromBase64url(o.challenge), allowCredentials: descriptors(o.allowCredentials) };
}

function answerJSON(credential) {
  if (typeof credential.toJSON === "function") return JSON.stringify(credential.toJSON());
  const r = credential.response;
  const response = { clientDataJSON: toBase64url(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toBase64url(r.attestationObject);
    response.transports = r.getTransports ? r.getTransports() : [];
  } else {
    response.authenticatorData = toBase64url(r.authenticatorData);
    response.signature = toBase64url(r.signature);
    if (r.userHandle) response.userHandle = toBase64url(r.userHandle);
  }
  return JSON.stringify({
    id: credential.id,
    rawId: toBase64url(credential.rawId),
    type: credential.type,
    response,
    clientExtensionResults: credential.getClientExtensionResults(),
    authenticatorAttachment: credential.authenticatorAttachment ?? undefined,
  });
}

async function browserCall(call) {
  if (!passkeysSupported()) throw new ApiError("PASSKEYS_UNSUPPORTED", t("This browser cannot use passkeys."));
  try {
    return await call();
  } catch (error) {
    // NotAllowedError: dismissed, timed out, or no passkey of this site at hand.
    throw new ApiError("PASSKEY_NOT_USED", error?.name === "InvalidStateError"
      ? t("This passkey is registered already.")
      : t("No passkey was used."));
  }
}

/** Run a `begin…` mutation, let the browser answer, return the answer's JSON (or a payload with errors). */
async function answer(beginQuery, field, variables, kind) {
  const data = await gql(beginQuery, variables);
  const begun = data[field];
  if (begun.errors.length) return { errors: begun.errors };
  const credential = await browserCall(() => kind === "create"
    ? navigator.credentials.create({ publicKey: creationOptions(begun.options) })
    : navigator.credentials.get({ publicKey: requestOptions(begun.options) }));
  return { response: answerJSON(credential) };
}

const OPTIONS = `options ${USER_ERROR}`;

/** Register a new passkey under `name`; returns the finish payload. */
export async function registerPasskey(name) {
  const got = await answer(`mutation { beginPasskeyRegistration { ${OPTIONS} } }`, "beginPasskeyRegistration", {}, "create");
  if (got.errors) return got;
  const data = await gql(`mutation FinishPasskey($input: FinishPasskeyRegistrationInput!) {
    finishPasskeyRegistration(input: $input) { passkey { id name } ${USER_ERROR} }
  }`, { input: { response: got.response, name: name || null } });
  return data.finishPasskeyRegistration;
}

/** Sign in with a passkey alone (the session comes as a cookie). */
export async function signInWithPasskey() {
  const got = await answer(`mutation { beginPasskeySignIn { ${OPTIONS} } }`, "beginPasskeySignIn", {}, "get");
  if (got.errors) return got;
  const data = await gql(`mutation PasskeySignIn($input: SignInWithPasskeyInput!) {
    signInWithPasskey(input: $input) { viewer { mustChangePassword } ${USER_ERROR} }
  }`, { input: { response: got.response, session: "COOKIE" } });
  return data.signInWithPasskey;
}

/** The second step of a log-in with a passkey. */
export async function verifyWithPasskey(challenge) {
  const got = await answer(`mutation PasskeyStep($input: PasskeyChallengeInput!) {
    beginPasskeyTwoFactor(input: $input) { ${OPTIONS} }
  }`, "beginPasskeyTwoFactor", { input: { challenge } }, "get");
  if (got.errors) return got;
  const data = await gql(`mutation VerifyPasskey($input: VerifyTwoFactorPasskeyInput!) {
    verifyTwoFactorPasskey(input: $input) { viewer { mustChangePassword } ${USER_ERROR} }
  }`, { input: { challenge, response: got.response, session: "COOKIE" } });
  return data.verifyTwoFactorPasskey;
}

/** Step-up with a passkey. */
export async function reauthenticateWithPasskey() {
  const got = await answer(`mutation { beginPasskeyReauthentication { ${OPTIONS} } }`, "beginPasskeyReauthentication", {}, "get");
  if (got.errors) return got;
  const data = await gql(`mutation PasskeyReauth($input: PasskeyResponseInput!) {
    reauthenticateWithPasskey(input: $input) { ${USER_ERROR} }
  }`, { input: { response: got.response } }, { stepUp: false });
  return data.reauthenticateWithPasskey;
}
