// The GraphQL helper: POST /graphql as JSON with the session cookie.
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

async function post(query, variables) {
  let response;
  try {
    response = await fetch("/graphql", {
      method: "POST",
      credentials: "same-origin",
      // The app's language, not the browser's: what the server writes in words
      // (audit summaries) then matches the page when the profile names none.
      headers: { "Content-Type": "application/json", Accept: "application/json", "Accept-Language": language() },
      body: JSON.stringify({ query, variables }),
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
