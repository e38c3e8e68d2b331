// The admin app's language: the viewer's choice (My account), else the browser's,
// else English. English is written in the code, marked t("…") where it is shown
// (N_("…") where it is only defined, translated with t() when shown); other
// languages come from static/admin/locale/<language>.po, served as
// /admin/locale/<language>.json. Values fill {placeholders} after translation.

const LANGUAGES = ["en", "de"];
let messages = {};
let current = "en";

function supported(tag) {
  const base = String(tag || "").toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(base) ? base : null;
}

/** The language to use: the person's choice, then the browser's, then English. */
export function chooseLanguage(chosen, browser = navigator.languages || [navigator.language]) {
  return supported(chosen) || browser.map(supported).find(Boolean) || "en";
}

export function language() {
  return current;
}

/** Switch to the viewer's (or the browser's) language, loading its messages once. */
export async function useLanguage(chosen) {
  const next = chooseLanguage(chosen);
  if (next === current) return;
  let loaded = {};
  if (next !== "en") {
    try {
      const response = await fetch(`/admin/locale/${next}.json`, { credentials: "same-origin" });
      loaded = response.ok ? await response.json() : {};
    } catch { /* offline: English */ }
  }
  messages = loaded;
  current = next;
  document.documentElement.lang = next;
}

/** The translation of an English text, with {name} placeholders filled from `values`. */
export function t(text, values) {
  const pattern = messages[text] || text;
  if (!values) return pattern;
  return pattern.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

/** Marks a text for translation where it is defined; show it with t(). */
export function N_(text) {
  return text;
}
