// Who is signed in, which organisation is open, and what the viewer may do there.

import { gql } from "./api.js";

export const ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER", "SUPPORT_ONLY"];
const RANK = { OWNER: 5, ADMIN: 4, MEMBER: 3, VIEWER: 2, SUPPORT_ONLY: 1 };

const VIEWER = `query Viewer {
  viewer {
    mustChangePassword
    sessionExpiresAt
    language
    user { id email pendingEmail displayName firstName lastName title officePhone mobilePhone fax }
    memberships {
      id role ticketAccess canImpersonate
      organisation { id name kind viewerPermissions brand { effective { portalName logoUrl colour language } } }
    }
    awaitingTwoFactor { id role organisation { id name requireTotpForAdmins requirePasskeysForAdmins allowEmailCodes } }
    impersonation { impersonatorName impersonatorEmail reason expiresAt organisation { id name } }
    twoFactor { totpEnabled emailEnabled methods recoveryCodesLeft }
  }
}`;

const ORGANISATION = `query Organisation($id: ID!) {
  organisation(id: $id) {
    id name kind status requireTwoFactor allowEmailCodes requireTotpForAdmins requirePasskeysForAdmins ticketAccessAfterFirstSignIn viewerPermissions
    parent { id name }
    seats { limit used available }
  }
}`;

export const state = {
  viewer: null, // null: signed out
  org: null, // the organisation open now
  portalName: "Frontdesk", // of the brand the app wears now (brand.js)
};

export async function loadViewer() {
  const data = await gql(VIEWER);
  state.viewer = data.viewer;
  return state.viewer;
}

export async function loadOrganisation(id) {
  if (state.org?.id === id) return state.org;
  const data = await gql(ORGANISATION, { id }).catch((error) => {
    if (error.code !== "FORBIDDEN") throw error;
    return { organisation: null };
  });
  // Without ORGANISATION_VIEW (support-only users) the viewer's membership
  // still says the organisation's name and what they may do there.
  const own = (state.viewer?.memberships || []).find((m) => m.organisation.id === id);
  state.org = data.organisation ?? (own ? { seats: {}, ...own.organisation } : null);
  if (state.org) localStorage.setItem("frontdesk.org", state.org.id);
  return state.org;
}

// What the viewer may do, re-read when it may have changed (a navigation, the
// window regaining focus): cheap, one request, nothing but rights.
const RIGHT_FIELDS = "memberships { id role ticketAccess canImpersonate organisation { id viewerPermissions } } impersonation { expiresAt }";
const RIGHTS = `query Rights { viewer { ${RIGHT_FIELDS} } }`;
const RIGHTS_HERE = `query Rights($org: ID!) { viewer { ${RIGHT_FIELDS} } organisation(id: $org) { id viewerPermissions } }`;

const rightsOf = (viewer, org) => JSON.stringify([
  viewer?.memberships.map((m) => [m.id, m.role, m.ticketAccess, m.canImpersonate, m.organisation.id, m.organisation.viewerPermissions]),
  !!viewer?.impersonation,
  org?.viewerPermissions ?? null,
]);

let rightsUnderWay = null;

/** Re-read the viewer's memberships and the open organisation's permissions into
 * `state`; resolves true when anything the app shows by them changed. When
 * memberships came or went, or the organisation is out of reach, the whole
 * viewer is loaded again. */
export function refreshRights() {
  rightsUnderWay ??= checkRights().finally(() => { rightsUnderWay = null; });
  return rightsUnderWay;
}

async function checkRights() {
  const viewer = state.viewer;
  const org = state.org;
  if (!viewer) return false;
  // A customer's delegated administrator has no membership there: ask the organisation.
  const foreign = !!org && !viewer.memberships.some((m) => m.organisation.id === org.id);
  let data;
  try {
    data = await gql(foreign ? RIGHTS_HERE : RIGHTS, foreign ? { org: org.id } : {});
  } catch (error) {
    if (error.code !== "FORBIDDEN") throw error;
    data = { viewer: { ...viewer, memberships: [] }, organisation: null }; // out of reach now
  }
  if (viewer !== state.viewer || org !== state.org) return false; // moved on meanwhile
  const fresh = data.viewer;
  if (!fresh) { // signed out elsewhere, or the session ended
    state.viewer = null;
    state.org = null;
    return true;
  }
  const here = !org ? null
    : foreign ? data.organisation : fresh.memberships.find((m) => m.organisation.id === org.id)?.organisation;
  if (rightsOf(viewer, org) === rightsOf(fresh, org && { viewerPermissions: here?.viewerPermissions ?? null })) return false;
  const sameMemberships = viewer.memberships.map((m) => m.id).join() === fresh.memberships.map((m) => m.id).join()
    && !!viewer.impersonation === !!fresh.impersonation;
  if (org && !here) state.org = null;
  if (!sameMemberships || (org && !here)) {
    await loadViewer();
    return true;
  }
  fresh.memberships.forEach((m, i) => {
    const own = viewer.memberships[i];
    Object.assign(own, { role: m.role, ticketAccess: m.ticketAccess, canImpersonate: m.canImpersonate });
    own.organisation.viewerPermissions = m.organisation.viewerPermissions;
  });
  if (org) org.viewerPermissions = here.viewerPermissions;
  return true;
}

export function refreshOrganisation() {
  const id = state.org?.id;
  state.org = null;
  return id ? loadOrganisation(id) : null;
}

/** The organisation to open by default: the last one used, else the first membership's. */
export function defaultOrganisationId() {
  const memberships = state.viewer?.memberships || [];
  const last = localStorage.getItem("frontdesk.org");
  if (last && (memberships.some((m) => m.organisation.id === last) || state.org?.id === last)) return last;
  return memberships[0]?.organisation.id ?? null;
}

export function can(permission, org = state.org) {
  return !!org?.viewerPermissions?.includes(permission);
}

/** The viewer's own membership in an organisation, if they have one there. */
export function ownMembership(orgId = state.org?.id) {
  return (state.viewer?.memberships || []).find((m) => m.organisation.id === orgId) ?? null;
}

/** Whether the viewer is a support desk here: a provider's or reseller's people who
 * handle tickets (ACCOUNT or ADMIN ticket access), whose queue holds their customers' tickets. */
export function isSupportDesk(org = state.org) {
  if (!org || org.kind === "CUSTOMER") return false;
  const access = ownMembership(org.id)?.ticketAccess;
  return access === "ACCOUNT" || access === "ADMIN" || can("CUSTOMERS_MANAGE", org);
}

/** The viewer's role rank in the open organisation; delegated administrators rank as owners. */
export function viewerRank(org = state.org) {
  const own = ownMembership(org?.id);
  if (own) return RANK[own.role];
  return can("CUSTOMERS_MANAGE", org) ? RANK.OWNER : 0;
}

export const rank = (role) => RANK[role] ?? 0;

/** Roles the viewer may hand out here (never above their own). */
export function grantableRoles(org = state.org) {
  const mine = viewerRank(org);
  return ROLES.filter((role) => RANK[role] <= mine);
}

export function impersonating() {
  return !!state.viewer?.impersonation;
}

/** Whether some membership lets the viewer open members' portals at all. */
export function mayImpersonate() {
  return (state.viewer?.memberships || []).some((m) => m.canImpersonate && RANK[m.role] >= RANK.ADMIN);
}

export function orgPath(rest = "", orgId = state.org?.id) {
  return `/admin/o/${encodeURIComponent(orgId)}${rest}`;
}
