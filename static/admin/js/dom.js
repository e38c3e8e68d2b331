// DOM building blocks: elements from data (never HTML strings), badges,
// formatting, toasts. Everything user-supplied goes in as text.

import { language, N_, t } from "./i18n.js";

let uid = 0;
export const nextId = (prefix = "id") => `${prefix}-${++uid}`;

/** h("button", {class: "primary", onclick: fn}, "Save") */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  let initial;
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "value") { initial = value; continue; }
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = value;
    } else if (key === "text") {
      el.textContent = value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key in el && typeof value !== "string" && key !== "list") {
      el[key] = value; // properties such as checked, value, disabled
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  append(el, children);
  if (initial !== undefined && initial !== null) el.value = initial; // after a select's options
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const SVG = "http://www.w3.org/2000/svg";

/** A small shield icon (decorative: the text beside it says what it means). */
export function shieldIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", "M12 2 4 5v6c0 5 3.4 9.7 8 11 4.6-1.3 8-6 8-11V5l-8-3zm-1.2 14.2-3.5-3.5 1.4-1.4 2.1 2.1 4.9-4.9 1.4 1.4-6.3 6.3z");
  svg.append(path);
  return svg;
}

export function twoFactorShield(enabled) {
  return h("span", { class: enabled ? "shield" : "shield off" },
    enabled ? shieldIcon() : null,
    enabled ? h("span", { text: t("2FA") }) : h("span", { text: t("No 2FA") }));
}

const TONES = {
  ACTIVE: "ok", INVITED: "info", DISABLED: "danger", SUSPENDED: "danger", PENDING: "info",
  EXPIRED: "warn", REVOKED: "danger", ACCEPTED: "ok", NEW: "info", IN_PROGRESS: "warn",
  WAITING_ON_CUSTOMER: "warn", RESOLVED: "ok", CLOSED: "", URGENT: "danger", HIGH: "warn",
};

// What the API's enum values read as (humanise falls back to the value's words).
const LABELS = {
  ACTIVE: N_("Active"), INVITED: N_("Invited"), DISABLED: N_("Disabled"), SUSPENDED: N_("Suspended"),
  PENDING: N_("Pending"), EXPIRED: N_("Expired"), REVOKED: N_("Revoked"), ACCEPTED: N_("Accepted"),
  SENDING: N_("Sending"), SENT: N_("Sent"), DEAD: N_("Dead"), DELIVERED: N_("Delivered"),
  NEW: N_("New"), IN_PROGRESS: N_("In progress"), WAITING_ON_CUSTOMER: N_("Waiting on customer"),
  RESOLVED: N_("Resolved"), CLOSED: N_("Closed"),
  LOW: N_("Low"), NORMAL: N_("Normal"), HIGH: N_("High"), URGENT: N_("Urgent"),
  INCIDENT: N_("Incident"), REQUEST: N_("Request"),
  OWNER: N_("Owner"), ADMIN: N_("Admin"), MEMBER: N_("Member"), VIEWER: N_("Viewer"), SUPPORT_ONLY: N_("Support only"),
  NONE: N_("None"), OWN: N_("Own"), ACCOUNT: N_("Account"),
  BILLING: N_("Billing"), TECHNICAL: N_("Technical"), CONTRACTUAL: N_("Contractual"), GENERAL: N_("General"),
  INBOUND: N_("Inbound"), OUTBOUND: N_("Outbound"),
  PROVIDER: N_("Provider"), RESELLER: N_("Reseller"), CUSTOMER: N_("Customer"),
  TOTP: N_("Authenticator app"), EMAIL: N_("Email"),
  ORGANISATION_VIEW: N_("Organisation view"), ORGANISATION_MANAGE: N_("Organisation manage"),
  MEMBERS_VIEW: N_("Members view"), MEMBERS_MANAGE: N_("Members manage"), CUSTOMERS_MANAGE: N_("Customers manage"),
  AUDIT_VIEW: N_("Audit view"), BILLING_MANAGE: N_("Billing manage"), OWNERSHIP_MANAGE: N_("Ownership manage"),
  MEMBERS_IMPERSONATE: N_("Members impersonate"), API_TOKENS_MANAGE: N_("Api tokens manage"),
  WEBHOOKS_MANAGE: N_("Webhooks manage"), OIDC_CLIENTS_MANAGE: N_("Sign-in apps manage"), SCIM_MANAGE: N_("SCIM manage"), CONTACTS_VIEW: N_("Contacts view"), CONTACTS_MANAGE: N_("Contacts manage"),
  TICKETS_USE: N_("Tickets use"), EXTENSIONS_VIEW: N_("Extensions view"), EXTENSIONS_MANAGE: N_("Extensions manage"),
  OWN_EXTENSION: N_("Own extension"), RECORDINGS_DELETE: N_("Recordings delete"),
};

export function badge(value, label = humanise(value)) {
  const tone = TONES[value] ?? "";
  return h("span", { class: `badge ${tone}`.trim() }, label);
}

/** "WAITING_ON_CUSTOMER" -> "Waiting on customer" (in the current language) */
export function humanise(value) {
  if (!value) return "";
  if (LABELS[value]) return t(LABELS[value]);
  const text = String(value).replaceAll("_", " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// Dates and numbers in the app's language (the formatters are made once per language).
const formatters = new Map();
function formatter(kind) {
  const key = `${kind}:${language()}`;
  if (!formatters.has(key)) {
    const options = kind === "date" ? { dateStyle: "medium" } : kind === "number" ? {} : { dateStyle: "medium", timeStyle: "short" };
    const Format = kind === "number" ? Intl.NumberFormat : Intl.DateTimeFormat;
    formatters.set(key, new Format(language(), options));
  }
  return formatters.get(key);
}

export function formatDateTime(iso) {
  return iso ? formatter("dateTime").format(new Date(iso)) : "—";
}

export function formatDate(iso) {
  return iso ? formatter("date").format(new Date(iso)) : "—";
}

export const formatNumber = (n) => formatter("number").format(n);
/** A connection's totalCount as a person reads it: "200+" when the server only
 * counted that far (a search with many matches: totalCountIsExact false). */
export const formatTotal = (page) =>
  formatNumber(page.totalCount) + (page.totalCountIsExact === false ? "+" : "");

export function timeEl(iso, { date = false } = {}) {
  if (!iso) return h("span", { class: "muted" }, t("Never"));
  return h("time", { datetime: iso }, date ? formatDate(iso) : formatDateTime(iso));
}

export function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? t("{m} min {s} s", { m, s }) : t("{s} s", { s });
}

/** Announce to screen readers and show a short-lived toast. */
export function toast(message) {
  const box = document.getElementById("toasts");
  const item = h("div", { class: "toast" }, message);
  box.append(item);
  setTimeout(() => item.remove(), 5000);
}

export function announce(message) {
  const live = document.getElementById("live");
  live.textContent = "";
  setTimeout(() => { live.textContent = message; }, 50);
}

/** A table whose rows turn into cards on phones (each cell labelled). */
export function table(columns, rows, { caption, empty = t("Nothing here yet.") } = {}) {
  const labels = columns.map((c) => (typeof c === "string" ? c : c.label));
  const body = h("tbody");
  const tableEl = h("table", { class: "responsive" },
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, labels.map((label) => h("th", { scope: "col" }, label)))),
    body);
  const addRows = (more) => {
    for (const cells of more) {
      body.append(h("tr", {}, cells.map((cell, i) => h("td", { "data-label": labels[i] }, cell))));
    }
  };
  addRows(rows);
  const nothing = empty instanceof Node ? empty : h("p", { class: "empty" }, empty);
  const wrap = h("div", { class: "table-wrap" }, rows.length ? tableEl : nothing);
  return { el: wrap, table: tableEl, addRows };
}

/** What an empty list says. Nothing yet: what the list is for and how to add the
 * first (`action`, a button or link). Filters set: that nothing matches them. */
export function emptyState(message, { hint = null, action = null } = {}) {
  return h("div", { class: "empty" }, h("p", { class: "empty-title" }, message),
    hint ? h("p", {}, hint) : null, action ? h("p", {}, action) : null);
}

/** "Loading …" with a spinner, for where nothing is shown yet. */
export function loadingNote(text = t("Loading…")) {
  return h("p", { class: "loading-note" }, h("span", { class: "spinner", "aria-hidden": "true" }), text);
}

/** A list's results and its status line (a polite live region). `loading()` while a
 * query runs: aria-busy, a visible note where nothing is shown yet (what is shown
 * dims), and the status line says so; `show(content, status)` when it is back. */
export function listRegion(loadingText = t("Loading…"), status = h("p", { "aria-live": "polite" })) {
  const el = h("div", { class: "list-results" });
  return {
    el,
    status,
    loading() {
      el.setAttribute("aria-busy", "true");
      if (!el.firstChild) el.append(loadingNote(loadingText));
      else el.classList.add("stale");
      status.textContent = loadingText;
    },
    /** `content` null keeps what is shown (rows were added to it). */
    show(content, statusText = "") {
      if (content !== null) clear(el, content);
      el.removeAttribute("aria-busy");
      el.classList.remove("stale");
      status.textContent = statusText;
    },
  };
}

export function debounce(fn, ms = 300) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** Query-string helpers for filters kept in the URL. */
export function queryParams() {
  return new URLSearchParams(window.location.search);
}
