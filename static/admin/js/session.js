// Moving between signed-out and signed-in: where to land, and signing out.

import { gql } from "./api.js";
import { navigate } from "./router.js";
import { defaultOrganisationId, orgPath, state } from "./state.js";

function nextParam() {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/admin/") && !next.startsWith("/admin/sign-in") ? next : null;
}

/** An OpenID Connect authorization waiting for this sign-in (server/oidc): a
 *  same-site address the browser returns to with a full page load. */
export function oidcReturn() {
  const next = new URLSearchParams(window.location.search).get("next");
  return next && next.startsWith("/oidc/authorize?") ? next : null;
}

/** The authorization asked for a fresh sign-in (prompt=login, max_age, two-step):
 *  show the form even to someone signed in. */
export function freshSignInAsked() {
  return oidcReturn() !== null && new URLSearchParams(window.location.search).get("fresh") === "1";
}

/** Where a signed-in person starts (the viewer is loaded). */
export function defaultLanding() {
  const next = nextParam();
  if (next) return next;
  const id = defaultOrganisationId();
  return id ? orgPath("", id) : "/admin/account";
}

/** After a log-in: forget the previous person's state and open their start page. */
export function afterSignIn() {
  state.viewer = null;
  state.org = null;
  const oidc = oidcReturn();
  if (oidc) {
    window.location.assign(oidc);
    return Promise.resolve();
  }
  return navigate(nextParam() || "/admin/", { replace: true });
}

export async function signOut() {
  try {
    await gql("mutation { logout { ok } }");
  } catch { /* signed out already */ }
  // Inside a member's portal this signs the administrator out too: nothing to return to.
  sessionStorage.removeItem("frontdesk.impersonation.return");
  state.viewer = null;
  state.org = null;
  return navigate("/admin/sign-in");
}
