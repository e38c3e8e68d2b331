// The brand the app wears: the signed-in person's organisation's (portal name,
// logo, colour), or, signed out, the brand of the host name the page was
// reached by (a reseller's own domain). The colour is a stripe, never a
// background behind text, so any colour keeps the text readable.

import { gql } from "./api.js";
import { h } from "./dom.js";
import { ownMembership, state } from "./state.js";

const DEFAULT = { portalName: "Frontdesk", logoUrl: null, colour: null };
let signInBrand = null;

/** The brand in the page itself (index.html as the server sends it), if any. */
function pageBrand() {
  try {
    return JSON.parse(document.getElementById("sign-in-brand")?.textContent || "null");
  } catch {
    return null;
  }
}

/** The brand of the sign-in page for this host name: the server writes it into the
 * page; else (the plain index.html) asked once per page load. */
export async function hostBrand() {
  const inPage = pageBrand();
  signInBrand ??= inPage ? Promise.resolve(inPage) : gql("{ signInBrand { portalName supportContact logoUrl colour language } }")
    .then((data) => data.signInBrand)
    .catch(() => ({ ...DEFAULT, supportContact: null }));
  return signInBrand;
}

/** The brand of the signed-in person's organisation: the open one when they belong
 * to it, else their first membership's (a customer opened from above keeps theirs). */
export function viewerBrand() {
  const memberships = state.viewer?.memberships || [];
  const own = ownMembership() ?? memberships[0];
  return own?.organisation.brand?.effective ?? DEFAULT;
}

export function applyBrand(brand) {
  const root = document.documentElement.style;
  // CSSOM, not a style attribute: allowed under the page's Content-Security-Policy.
  if (brand?.colour) root.setProperty("--brand-colour", brand.colour);
  else root.removeProperty("--brand-colour");
  state.portalName = brand?.portalName || DEFAULT.portalName;
}

/** The logo and portal name, as the top bar and the sign-in page show them. */
export function brandMark(brand, attrs = {}) {
  return h("a", { class: "brand", ...attrs },
    brand.logoUrl ? h("img", { src: brand.logoUrl, alt: "", class: "brand-logo" }) : null,
    h("span", {}, brand.portalName || DEFAULT.portalName));
}
