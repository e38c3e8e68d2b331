// The GraphQL helper: POST /graphql as JSON with the session cookie, each
// operation named by its trusted-document id.
//
// GraphQL errors become an ApiError carrying `extensions.code`. On
// REAUTH_REQUIRED the registered step-up handler asks for the password (and
// code), then the request is sent again; UNAUTHENTICATED goes to sign-in.
// The messages the app writes itself are translated; the server's come as sent.

import { language, N_, t } from "./i18n.js";

export class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const MESSAGES = {
  FORBIDDEN: N_("You don't have permission to do that."),
  IMPERSONATION_FORBIDDEN: N_("That is not possible while you are acting as someone else."),
  UNAUTHENTICATED: N_("Your session has ended. Please sign in again."),
  REAUTH_REQUIRED: N_("Please confirm your password to continue."),
};

const handlers = { reauth: null, unauthenticated: null };

/** `reauth()` resolves when the person re-authenticated, rejects when they gave up. */
export function onReauthRequired(fn) { handlers.reauth = fn; }
export function onUnauthenticated(fn) { handlers.unauthenticated = fn; }

// Operations go by id, as trusted documents (README, "Trusted documents"): the
// SHA-256 of the exact text, which static/admin/documents.json lists
// (`make documents`). Where the browser has no WebCrypto (a page not served
// over https or from localhost) the text goes in full; the server accepts a
// manifest document's exact text too.
const ids = new Map(); // text → Promise of "sha256:…"
const unknown = new Set(); // texts the server's manifest lacks: sent in full from then on

function documentId(query) {
  if (unknown.has(query) || !globalThis.crypto?.subtle) return null;
  let id = ids.get(query);
  if (!id) {
    id = crypto.subtle.digest("SHA-256", new TextEncoder().encode(query)).then((digest) =>
      "sha256:" + Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join(""));
    ids.set(query, id);
  }
  return id;
}

async function send(payload) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      // The app's language, not the browser's: what the server writes in words
      // (audit summaries) then matches the page when the profile names none.
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": language() },
      body: JSON.stringify(payload),
    });
  } catch {
    throw new ApiError("NETWORK", t("The server cannot be reached. Check your connection and try again."));
  }
  let body;
  try {
    body = await response.json();
  } catch {
    throw new ApiError("HTTP_" + response.status, t("The server answered {status}.", { status: response.status }));
  }
  return body;
}

async function post(query, variables) {
  const id = await documentId(query);
  if (!id) return send({ query, variables });
  const body = await send({ documentId: id, variables });
  if (body.errors?.[0]?.extensions?.code !== "TRUSTED_DOCUMENT_NOT_FOUND") return body;
  // The manifest was not brought up to date with the app (`make documents`): the
  // text, which runs unless the server enforces trusted documents.
  unknown.add(query);
  return send({ query, variables });
}

/** Run a query or mutation; returns `data`. */
export async function gql(query, variables = {}, { stepUp = true } = {}) {
  const body = await post(query, variables);
  const error = body.errors?.[0];
  if (!error) return body.data;
  const code = error.extensions?.code ?? "ERROR";
  if (code === "REAUTH_REQUIRED" && stepUp && handlers.reauth) {
    await handlers.reauth(); // throws ApiError("CANCELLED") when dismissed
    return gql(query, variables, { stepUp: false });
  }
  if (code === "UNAUTHENTICATED" && handlers.unauthenticated) handlers.unauthenticated();
  throw new ApiError(code, MESSAGES[code] ? t(MESSAGES[code]) : error.message);
}

/** Run a mutation and return its payload (`{errors, ...}`) by field name. */
export async function mutate(query, variables, field) {
  const data = await gql(query, variables);
  return data[field];
}

export const USER_ERROR = "errors { field code message }";
