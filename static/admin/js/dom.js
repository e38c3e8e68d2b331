// DOM building blocks: elements from data (never HTML strings), badges,
// formatting, toasts. Everything user-supplied goes in as text.

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
    enabled ? h("span", { text: "2FA" }) : h("span", { text: "No 2FA" }));
}

const TONES = {
  ACTIVE: "ok", INVITED: "info", DISABLED: "danger", SUSPENDED: "danger", PENDING: "info",
  EXPIRED: "warn", REVOKED: "danger", ACCEPTED: "ok", NEW: "info", IN_PROGRESS: "warn",
  WAITING_ON_CUSTOMER: "warn", RESOLVED: "ok", CLOSED: "", URGENT: "danger", HIGH: "warn",
};

export function badge(value, label = humanise(value)) {
  const tone = TONES[value] ?? "";
  return h("span", { class: `badge ${tone}`.trim() }, label);
}

/** "WAITING_ON_CUSTOMER" -> "Waiting on customer" */
export function humanise(value) {
  if (!value) return "";
  const text = String(value).replaceAll("_", " ").toLowerCase();
  return text.charAt(0).toUpperCase() + text.slice(1);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

export function formatDateTime(iso) {
  return iso ? dateTime.format(new Date(iso)) : "—";
}

export function formatDate(iso) {
  return iso ? dateOnly.format(new Date(iso)) : "—";
}

export function timeEl(iso, { date = false } = {}) {
  if (!iso) return h("span", { class: "muted" }, "Never");
  return h("time", { datetime: iso }, date ? formatDate(iso) : formatDateTime(iso));
}

export function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
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
export function table(columns, rows, { caption, empty = "Nothing here yet." } = {}) {
  const labels = columns.map((c) => (typeof c === "string" ? c : c.label));
  const body = h("tbody");
  const t = h("table", { class: "responsive" },
    caption ? h("caption", { class: "visually-hidden" }, caption) : null,
    h("thead", {}, h("tr", {}, labels.map((label) => h("th", { scope: "col" }, label)))),
    body);
  const addRows = (more) => {
    for (const cells of more) {
      body.append(h("tr", {}, cells.map((cell, i) => h("td", { "data-label": labels[i] }, cell))));
    }
  };
  addRows(rows);
  const wrap = h("div", { class: "table-wrap" }, rows.length ? t : h("p", { class: "empty" }, empty));
  return { el: wrap, table: t, addRows };
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
