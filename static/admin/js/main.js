// The app shell: routes, the frame (top bar, navigation, impersonation
// banner), the sign-in guard and the step-up prompt.

import { ApiError, gql, onReauthRequired, onUnauthenticated } from "./api.js";
import { applyBrand, brandMark, hostBrand, viewerBrand } from "./brand.js";
import { announce, clear, h, loadingNote } from "./dom.js";
import { buildForm, openDialog } from "./forms.js";
import {
  chosenLanguage, language, LANGUAGES, N_, negotiate, rememberLanguage, t, tn, tx, useLanguage,
} from "./i18n.js";
import { passkeysSupported, reauthenticateWithPasskey } from "./passkeys.js";
import { match, navigate, reload, route, start } from "./router.js";
import { defaultLanding, freshSignInAsked, oidcReturn, signOut } from "./session.js";
import {
  can, impersonating, isSupportDesk, loadOrganisation, loadViewer, orgPath, ownMembership, refreshRights,
  state,
} from "./state.js";

// --- screens, loaded on first use -------------------------------------------

// Each screen is a module of its own, imported when a route first needs it (the
// server bundles the first screen with this shell: server/admin_assets.py). The
// specifiers are literal so that the bundle can find them.
const SCREENS = {
  account: () => import("./screens/account.js"),
  audit: () => import("./screens/audit.js"),
  brand: () => import("./screens/brand.js"),
  contacts: () => import("./screens/contacts.js"),
  customers: () => import("./screens/customers.js"),
  extensions: () => import("./screens/extensions.js"),
  invitation: () => import("./screens/invitation.js"),
  person: () => import("./screens/person.js"),
  settings: () => import("./screens/settings.js"),
  signin: () => import("./screens/signin.js"),
  signinApps: () => import("./screens/signin-apps.js"),
  ticketAccess: () => import("./screens/ticket-access.js"),
  tickets: () => import("./screens/tickets.js"),
  tokens: () => import("./screens/tokens.js"),
  users: () => import("./screens/users.js"),
  webhooks: () => import("./screens/webhooks.js"),
};
const PATHS = {
  account: "./screens/account.js", audit: "./screens/audit.js", brand: "./screens/brand.js",
  contacts: "./screens/contacts.js", customers: "./screens/customers.js", extensions: "./screens/extensions.js",
  invitation: "./screens/invitation.js", person: "./screens/person.js", settings: "./screens/settings.js",
  signin: "./screens/signin.js", signinApps: "./screens/signin-apps.js", ticketAccess: "./screens/ticket-access.js", tickets: "./screens/tickets.js",
  tokens: "./screens/tokens.js", users: "./screens/users.js", webhooks: "./screens/webhooks.js",
};
const loadedScreens = new Map(); // name → Promise of the module
let retries = 0;

/** A screen's module. A failed import (offline, a dropped connection) is the app's
 * network error, so the offline page shows; the next attempt asks the server again. */
function loadScreen(name) {
  let loading = loadedScreens.get(name);
  if (!loading) {
    // After a failure the browser may keep the failed address: retry at a fresh one.
    loading = (retries ? import(`${PATHS[name]}?retry=${retries}`) : SCREENS[name]()).catch(() => {
      loadedScreens.delete(name);
      throw new ApiError("NETWORK", t("The server cannot be reached. Check your connection and try again."));
    });
    loadedScreens.set(name, loading);
  }
  return loading;
}

/** A route handler calling `name`'s export `fn`, loading the module first. */
function lazy(name, fn) {
  const handler = async (...args) => (await loadScreen(name))[fn](...args);
  handler.preload = () => loadScreen(name).catch(() => {});
  return handler;
}

// Navigation of an organisation: shown only where the viewer holds the permission.
const SECTIONS = [
  { path: "/users", label: N_("Users"), permission: "MEMBERS_VIEW" },
  { path: "/phone", label: N_("My phone"), permission: "OWN_EXTENSION", only: "own" },
  { path: "/customers", label: N_("Customers"), permission: "CUSTOMERS_MANAGE", notKind: "CUSTOMER" },
  { path: "/contacts", label: N_("Contacts"), permission: "CONTACTS_VIEW" },
  { path: "/tickets", label: N_("Tickets"), permission: "TICKETS_USE" },
  // My Calls Admin: ticket administrators who do not manage users (who set it there).
  { path: "/ticket-access", label: N_("Ticket access"), permission: "TICKETS_USE", ticketAdmin: true },
  { path: "/extensions", label: N_("Extensions"), permission: "EXTENSIONS_VIEW" },
  { path: "/audit", label: N_("Audit log"), permission: "AUDIT_VIEW" },
  { path: "/tokens", label: N_("API tokens"), permission: "API_TOKENS_MANAGE" },
  { path: "/webhooks", label: N_("Webhooks"), permission: "WEBHOOKS_MANAGE" },
  // A provider or reseller registers them (the server refuses a customer).
  { path: "/sign-in-apps", label: N_("Sign-in apps"), permission: "OIDC_CLIENTS_MANAGE", notKind: "CUSTOMER" },
  { path: "/settings", label: N_("Settings"), permission: "ORGANISATION_MANAGE" },
];

function visibleSections(org = state.org) {
  if (!org) return [];
  const own = state.viewer?.memberships.some((m) => m.organisation.id === org.id);
  return SECTIONS.filter((s) => can(s.permission, org)
    && (s.notKind === undefined || org.kind !== s.notKind)
    && (s.only !== "own" || own)
    && (!s.ticketAdmin || (ownMembership(org.id)?.ticketAccess === "ADMIN" && !can("MEMBERS_MANAGE", org))));
}

function orgHome(org = state.org) {
  const sections = visibleSections(org);
  // A desk member (no user administration) starts on the ticket queue, not an empty phone page.
  const queue = isSupportDesk(org) && !can("MEMBERS_MANAGE", org)
    ? sections.find((s) => s.path === "/tickets") : null;
  const first = queue || sections[0];
  return first ? orgPath(first.path, org.id) : "/admin/account";
}

// --- routes ---------------------------------------------------------------

const PUBLIC = { public: true, bare: true };
route("/admin/sign-in", lazy("signin", "signIn"), PUBLIC);
route("/admin/forgot-password", lazy("signin", "forgotPassword"), PUBLIC);
route("/admin/reset-password", lazy("signin", "resetPassword"), PUBLIC);
route("/admin/verify-sender", lazy("brand", "verifySender"), PUBLIC);
route("/admin/accept-invitation", lazy("invitation", "acceptInvitation"), { ...PUBLIC, allowSignedIn: true });
route("/admin/change-password", lazy("signin", "forcedPasswordChange"), { bare: true, forced: true });
route("/admin/two-factor-setup", lazy("account", "forcedEnrolment"), { bare: true, forced: true });
route("/admin/confirm-email", lazy("person", "confirmEmail"), { ...PUBLIC, allowSignedIn: true });
route("/admin/account", lazy("account", "myAccount"));
route("/admin/o/:org/users", lazy("users", "list"), { org: true, section: "/users" });
route("/admin/o/:org/users/:member", lazy("users", "detail"), { org: true, section: "/users" });
route("/admin/o/:org/customers", lazy("customers", "tree"), { org: true, section: "/customers" });
route("/admin/o/:org/settings", lazy("settings", "organisationSettings"), { org: true, section: "/settings" });
route("/admin/o/:org/audit", lazy("audit", "log"), { org: true, section: "/audit", wide: true });
route("/admin/activity", lazy("audit", "myActivity"), { wide: true });
route("/admin/o/:org/tokens", lazy("tokens", "list"), { org: true, section: "/tokens" });
route("/admin/o/:org/webhooks", lazy("webhooks", "list"), { org: true, section: "/webhooks" });
route("/admin/o/:org/sign-in-apps", lazy("signinApps", "list"), { org: true, section: "/sign-in-apps" });
route("/admin/o/:org/contacts", lazy("contacts", "list"), { org: true, section: "/contacts" });
route("/admin/o/:org/tickets", lazy("tickets", "list"), { org: true, section: "/tickets" });
route("/admin/o/:org/tickets/:ticket", lazy("tickets", "detail"), { org: true, section: "/tickets" });
route("/admin/o/:org/ticket-access", lazy("ticketAccess", "list"), { org: true, section: "/ticket-access" });
route("/admin/o/:org/extensions", lazy("extensions", "list"), { org: true, section: "/extensions" });
route("/admin/o/:org/extensions/:extension", lazy("extensions", "detail"), { org: true, section: "/extensions" });
route("/admin/o/:org/phone", lazy("extensions", "myPhone"), { org: true, section: "/phone" });

// --- frame ------------------------------------------------------------------

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const topbar = document.getElementById("topbar");
const banner = document.getElementById("banner");
const layout = document.querySelector(".layout");
let bannerTimer = null;

function renderTopbar(bare) {
  if (bare || !state.viewer) {
    clear(topbar);
    return;
  }
  const v = state.viewer;
  const options = v.memberships.map((m) => [m.organisation.id, m.organisation.name]);
  if (state.org && !options.some(([id]) => id === state.org.id)) {
    options.push([state.org.id, t("{name} (customer)", { name: state.org.name })]);
  }
  const switcher = options.length
    ? h("div", { class: "org-switch" },
      h("label", { for: "org-switcher" }, t("Organisation")),
      h("select", {
        id: "org-switcher",
        value: state.org?.id ?? "",
        onchange: async (e) => {
          const org = await loadOrganisation(e.target.value);
          navigate(orgHome(org));
        },
      }, state.org ? null : h("option", { value: "" }, t("Choose…")),
      options.map(([id, name]) => h("option", { value: id }, name))))
    : null;
  clear(topbar,
    h("button", {
      type: "button",
      class: "menu-toggle",
      "aria-controls": "nav",
      "aria-expanded": "false",
      onclick: (e) => {
        const open = nav.classList.toggle("open");
        e.currentTarget.setAttribute("aria-expanded", String(open));
      },
    }, t("Menu")),
    brandMark(viewerBrand(), { href: state.org ? orgHome() : "/admin/" }),
    switcher,
    h("span", { class: "spacer" }),
    h("span", { class: "who" }, v.user.displayName),
    h("a", { class: "button account-link", href: "/admin/account" }, t("My account")),
    h("button", { type: "button", onclick: signOut }, t("Sign out")));
}

function renderNav(match) {
  const items = visibleSections();
  nav.classList.remove("open");
  clear(nav,
    state.org ? h("p", { class: "org-name" }, state.org.name) : null,
    h("ul", {}, items.map((s) => h("li", {},
      h("a", {
        href: orgPath(s.path),
        "aria-current": match?.options.section === s.path ? "page" : null,
      }, t(s.label)))),
    h("li", {}, h("a", {
      href: "/admin/activity",
      "aria-current": match?.regex.source.includes("activity") ? "page" : null,
    }, t("My activity"))),
    h("li", {}, h("a", {
      href: "/admin/account",
      "aria-current": match?.regex.source.includes("account") ? "page" : null,
    }, t("My account")))));
}

function minutesLeft(iso) {
  const ms = new Date(iso).getTime() - Date.now();
  if (ms <= 0) return t("expired");
  const minutes = Math.floor(ms / 60000);
  return minutes >= 1 ? tn("{count} min left", "{count} min left", minutes, { count: minutes }) : t("less than a minute left");
}

async function stopImpersonation() {
  const back = sessionStorage.getItem("frontdesk.impersonation.return");
  try {
    await gql("mutation { endImpersonation { ended errors { message } } }");
  } catch { /* expired already */ }
  sessionStorage.removeItem("frontdesk.impersonation.return");
  state.org = null;
  await loadViewer();
  navigate(back || "/admin/");
}

function renderBanner() {
  clearInterval(bannerTimer);
  const imp = state.viewer?.impersonation;
  if (!imp) {
    clear(banner);
    return;
  }
  const left = h("strong", { class: "time-left" }, minutesLeft(imp.expiresAt));
  bannerTimer = setInterval(() => {
    left.textContent = minutesLeft(imp.expiresAt);
    if (new Date(imp.expiresAt) <= new Date()) {
      clearInterval(bannerTimer);
      stopImpersonation();
    }
  }, 15000);
  const acting = {
    impersonator: imp.impersonatorName,
    name: h("strong", {}, state.viewer.user.displayName),
    email: state.viewer.user.email,
    organisation: imp.organisation?.name,
    left,
    reason: imp.reason,
  };
  clear(banner, h("section", { class: "banner", "aria-label": t("Impersonation") },
    h("p", {}, imp.organisation
      ? tx("You ({impersonator}) are acting as {name} ({email}) in {organisation}. {left}. Reason: {reason}", acting)
      : tx("You ({impersonator}) are acting as {name} ({email}). {left}. Reason: {reason}", acting)),
    h("button", { type: "button", onclick: stopImpersonation }, t("Stop impersonating"))));
}

// --- step-up --------------------------------------------------------------

let pendingStepUp = null;

function stepUp() {
  pendingStepUp ??= new Promise((resolve, reject) => {
    let done = false;
    const methods = state.viewer?.twoFactor?.methods || [];
    const hasApp = methods.includes("TOTP");
    openDialog(t("Confirm it's you"), (close) => {
      const form = buildForm({
        label: t("Confirm it's you"),
        submitLabel: t("Confirm"),
        fields: [
          { name: "password", label: t("Password"), type: "password", required: true, autocomplete: "current-password", autofocus: true },
          {
            name: "code",
            label: hasApp ? t("Code from your authenticator app (or a recovery code)") : t("Code"),
            autocomplete: "one-time-code",
            inputmode: "text",
            hidden: !hasApp,
          },
        ],
        secondary: [h("button", { type: "button", onclick: close }, t("Cancel"))],
        onSubmit: async ({ password, code }) => {
          const data = await gql(
            `mutation Reauth($input: ReauthenticateInput!) {
              reauthenticate(input: $input) { codeSent errors { field code message } }
            }`,
            { input: { password, code: code || null } },
            { stepUp: false });
          return data.reauthenticate;
        },
        onSuccess: (payload, values, api) => {
          if (payload.codeSent) {
            const { input, spec } = api.fields.code;
            spec.hidden = false;
            input.closest(".field").hidden = false;
            api.setError("");
            input.closest(".field").querySelector(".hint")?.remove();
            input.after(h("p", { class: "hint" }, t("We emailed you a code. Enter it here.")));
            input.focus();
            return;
          }
          done = true;
          close();
        },
      });
      const withPasskey = async () => {
        try {
          const payload = await reauthenticateWithPasskey();
          if (form.showErrors(payload.errors)) return;
          done = true;
          close();
        } catch (error) {
          form.setError(error.message);
        }
      };
      return h("div", {},
        h("p", {}, t("For your security, this action needs a recent sign-in. Enter your password to continue.")),
        form.el,
        methods.includes("PASSKEY") && passkeysSupported()
          ? h("div", { class: "actions" }, h("button", { type: "button", class: "link-button", onclick: withPasskey }, t("Use a passkey instead")))
          : null);
    }, {
      onClose: () => {
        pendingStepUp = null;
        if (done) resolve();
        else reject(new ApiError("CANCELLED", t("Cancelled.")));
      },
    });
  });
  return pendingStepUp;
}

onReauthRequired(stepUp);
onUnauthenticated(() => {
  state.viewer = null;
  const here = window.location.pathname + window.location.search;
  if (!here.startsWith("/admin/sign-in")) navigate(`/admin/sign-in?next=${encodeURIComponent(here)}`, { replace: true });
});

// --- language ---------------------------------------------------------------

/** The person's language (their profile's), else the one chosen in this browser,
 * else their organisation's default (its brand's), else the browser's, else English. While
 * impersonating, the member's profile does not count: the app keeps speaking the
 * language of the person at the keyboard. */
async function preferredLanguage() {
  const own = impersonating() ? null : state.viewer?.language;
  // Signed in: the organisation's brand (the open one, else the first membership's);
  // signed out: the brand of the host name the page was reached by.
  const organisation = state.viewer ? viewerBrand().language : (await hostBrand()).language;
  return negotiate(own, chosenLanguage(), organisation);
}

/** index.html's own text. */
function translateFrame() {
  document.querySelector(".skip-link").textContent = t("Skip to main content");
  nav.setAttribute("aria-label", t("Main"));
}

/** Links to the other languages, for the pages before and around sign-in. */
function languageSwitch() {
  return h("nav", { class: "language-switch", "aria-label": t("Language") },
    Object.entries(LANGUAGES).filter(([code]) => code !== language()).map(([code, name]) => h("button", {
      type: "button",
      class: "link-button",
      lang: code,
      onclick: () => {
        rememberLanguage(code);
        reload();
      },
    }, name)));
}

// --- rendering a route --------------------------------------------------------

let generation = 0;
let firstRender = true;
let rightsJustChecked = false; // a focus check found a change and re-renders: no second check

function notFound(section) {
  clear(section, h("h1", { tabindex: "-1" }, t("Page not found")),
    h("p", {}, t("This page does not exist or you cannot see it."), " ", h("a", { href: "/admin/" }, t("Go to the start page"))));
}

/** The server could not be reached (a request failed, or a screen's module did not
 * load): say so, with a button that tries the same page again. */
function offline(section, error) {
  clear(section, h("h1", { tabindex: "-1" }, t("You seem to be offline")),
    h("p", { class: "notice danger", role: "alert" }, error.message),
    h("p", {}, h("button", {
      type: "button",
      class: "primary",
      onclick: () => {
        retries += 1;
        reload();
      },
    }, t("Try again"))));
}

function noOrganisation(section) {
  clear(section, h("h1", { tabindex: "-1" }, t("No organisation yet")),
    h("p", {}, t("Your account is not active in any organisation. When someone invites you, the link in their mail brings you in.")),
    h("p", {}, h("a", { href: "/admin/account" }, t("Manage your account"))));
}

async function render(location) {
  const mine = ++generation;
  const current = () => mine === generation;
  const path = location.pathname.replace(/\/+$/, "") || "/admin";
  let found = match(path);
  // The screen's module loads while the viewer and organisation do.
  found?.handler.preload?.();
  const hadViewer = state.viewer !== null;
  const rightsFresh = rightsJustChecked;
  rightsJustChecked = false;

  if (state.viewer === null && !found?.options.public) {
    try {
      await loadViewer();
    } catch { /* shown as signed out */ }
    if (!current()) return;
  }
  // An OpenID Connect sign-in (server/oidc) that finds the person signed in goes straight back.
  if (state.viewer === null && path === "/admin/sign-in" && oidcReturn() && !freshSignInAsked()) {
    try {
      await loadViewer();
    } catch { /* signed out: the form */ }
    if (!current()) return;
  }
  const v = state.viewer;
  if (!v && !found?.options.public) {
    return navigate(`/admin/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  }
  if (v && !found?.options.public) {
    if (v.mustChangePassword && !impersonating() && path !== "/admin/change-password") {
      return navigate("/admin/change-password", { replace: true });
    }
    if (!v.mustChangePassword && !v.memberships.length && v.awaitingTwoFactor.length && path !== "/admin/two-factor-setup" && path !== "/admin/account") {
      return navigate("/admin/two-factor-setup", { replace: true });
    }
  }
  if (v && path === "/admin/sign-in" && !freshSignInAsked()) {
    if (oidcReturn()) return window.location.replace(oidcReturn());
    return navigate(defaultLanding(), { replace: true });
  }

  // /admin and /admin/o/:org go to the first section the viewer may use.
  if (path === "/admin" || /^\/admin\/o\/[^/]+$/.test(path)) {
    if (path !== "/admin") {
      const org = await loadOrganisation(decodeURIComponent(path.split("/")[3])).catch(() => null);
      if (!current()) return;
      return navigate(org ? orgHome(org) : "/admin/account", { replace: true });
    }
    return navigate(defaultLanding(), { replace: true });
  }

  const section = h("div", { class: "screen" });
  clear(main, section);
  if (found?.options.org) {
    try {
      await loadOrganisation(found.params.org);
    } catch (error) {
      state.org = null;
      if (error.code !== "FORBIDDEN") throw error;
    }
    if (!current()) return;
    if (!state.org) found = null;
  }
  // Rights may have changed since the viewer was loaded (an owner granted or took
  // something): a navigation re-reads them, cheaply, before showing the page.
  if (hadViewer && state.viewer && !found?.options.public && !rightsFresh) {
    await refreshRights().catch(() => false);
    if (!current()) return;
    if (!state.viewer) return navigate(`/admin/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    if (found?.options.org && !state.org) found = null;
  }
  await useLanguage(await preferredLanguage());
  if (!current()) return;
  translateFrame();
  const bare = !v || !!found?.options.bare;
  applyBrand(v && !found?.options.public ? viewerBrand() : await hostBrand());
  if (!current()) return;
  layout.classList.toggle("bare", bare);
  if (bare) section.after(languageSwitch());
  main.classList.toggle("wide", !!found?.options.wide); // long rows use the page's width
  renderTopbar(bare);
  renderBanner();
  if (!bare) renderNav(found);

  if (!found) {
    notFound(section);
  } else if (state.viewer && !bare && !state.viewer.memberships.length && found.options.org) {
    noOrganisation(section);
  } else {
    // A screen still waiting for its data after a moment says so (and is busy).
    section.setAttribute("aria-busy", "true");
    const slow = setTimeout(() => {
      if (section.firstChild) return;
      section.append(loadingNote());
      announce(t("Loading…"));
    }, 200);
    try {
      await found.handler(section, found.params, { current });
    } catch (error) {
      if (!current()) return;
      if (error instanceof ApiError && error.code === "UNAUTHENTICATED") return;
      if (error instanceof ApiError && error.code === "NETWORK") offline(section, error);
      else clear(section, h("h1", { tabindex: "-1" }, t("Something went wrong")),
        h("p", { class: "notice danger", role: "alert" }, error.message || String(error)));
    } finally {
      clearTimeout(slow);
      section.removeAttribute("aria-busy");
    }
  }
  if (!current()) return;
  const heading = section.querySelector("h1");
  document.title = t("{page} · {portal} admin", { page: heading ? heading.textContent : state.portalName, portal: state.portalName });
  // After a navigation, move focus to the new page's heading (screen readers
  // announce it); on the first load, leave it at the top (the skip link comes first).
  const moveFocus = !firstRender;
  if (firstRender) performance.mark("frontdesk-ready"); // the first page is shown (bench/first_load.py)
  firstRender = false;
  if (heading && moveFocus && !main.contains(document.activeElement)) {
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }
}

// Back to the window (another tab granted something, or time passed): re-read the
// viewer's rights and re-render only when they changed.
async function recheckRights() {
  if (!state.viewer || document.visibilityState === "hidden") return;
  if (match(window.location.pathname.replace(/\/+$/, ""))?.options.public) return;
  const changed = await refreshRights().catch(() => false);
  if (changed) {
    rightsJustChecked = true;
    reload();
  }
}
window.addEventListener("focus", recheckRights);
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible") recheckRights();
});

start(render);
