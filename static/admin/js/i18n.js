// Translations of the admin app, gettext style: a message is its English text.
//
//   t("Edit {name}", { name })                  translated, then {placeholders} filled
//   tn("{count} user", "{count} users", n, { count: n })   plural form chosen by Intl.PluralRules
//   tx("Signed in as {email}.", { email: h("strong", …) })  translated, as a list of
//                                                strings and elements (for h(…) children)
//   N_("Users")                                  marks text in a module-level constant;
//                                                translate it where it is shown: t(label)
//
// Catalogues are gettext files (static/admin/locale/<language>.po, kept with
// `make translations`); the server serves them as JSON at
// /admin/locale/<language>.json. English needs none. Message ids must be plain
// string literals so that extraction finds them.

/** The languages the app speaks, each named in itself (never translated). */
export const LANGUAGES = { en: "English", de: "Deutsch" };
export const DEFAULT_LANGUAGE = "en";
const CHOSEN_KEY = "frontdesk.language";
// Plural forms in catalogue order: gettext's for the languages above.
const CATEGORY_ORDER = ["one", "two", "few", "many", "other"];

let current = DEFAULT_LANGUAGE;
let messages = {};
let pluralRules = new Intl.PluralRules(DEFAULT_LANGUAGE);
let formCategories = ["one", "other"];
const loaded = new Map(); // language -> Promise of its messages

export const N_ = (message) => message;

function fill(text, values) {
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

export function t(message, values) {
  const translated = messages[message];
  return fill(typeof translated === "string" && translated ? translated : message, values);
}

/** Like t, but values may be elements: returns the pieces, for h(…) children. */
export function tx(message, values) {
  const translated = messages[message];
  const text = typeof translated === "string" && translated ? translated : message;
  return text.split(/(\{\w+\})/).filter(Boolean).map((piece) => {
    const name = /^\{(\w+)\}$/.exec(piece)?.[1];
    return name && name in values ? values[name] : piece;
  });
}

export function tn(singular, plural, count, values) {
  const forms = messages[singular];
  if (Array.isArray(forms)) {
    const index = formCategories.indexOf(pluralRules.select(count));
    const form = forms[index >= 0 ? index : forms.length - 1];
    if (form) return fill(form, values);
  }
  return fill(count === 1 ? singular : plural, values);
}

/** "de-CH" -> "de"; null for a language the app does not speak. */
export function supported(tag) {
  const base = String(tag || "").trim().replace("_", "-").split("-")[0].toLowerCase();
  return base in LANGUAGES ? base : null;
}

export const language = () => current;

/** The language a person chose in this browser (the switch on the sign-in page and in My account). */
export const chosenLanguage = () => supported(localStorage.getItem(CHOSEN_KEY));

export function rememberLanguage(tag) {
  const chosen = supported(tag);
  if (chosen) localStorage.setItem(CHOSEN_KEY, chosen);
  else localStorage.removeItem(CHOSEN_KEY);
}

/** The first language the app speaks among `preferences` (most important first),
 * then the browser's, then English. */
export function negotiate(...preferences) {
  for (const tag of [...preferences, ...(navigator.languages || [navigator.language])]) {
    const found = supported(tag);
    if (found) return found;
  }
  return DEFAULT_LANGUAGE;
}

function fetchMessages(lang) {
  if (lang === DEFAULT_LANGUAGE) return Promise.resolve({});
  if (!loaded.has(lang)) {
    // Beside the module: /admin/v/<version>/locale/… (cached for good) from the
    // versioned bundle, /admin/locale/… from the plain source.
    const request = fetch(new URL(`../locale/${lang}.json`, import.meta.url), { credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : { messages: {} }))
      .then((body) => body.messages || {})
      .catch(() => {
        loaded.delete(lang); // try again next time; English until then
        return {};
      });
    loaded.set(lang, request);
  }
  return loaded.get(lang);
}

/** Switch to `lang` (loading its catalogue once); returns whether it changed. */
export async function useLanguage(lang) {
  const next = supported(lang) || DEFAULT_LANGUAGE;
  if (next === current && (next === DEFAULT_LANGUAGE || Object.keys(messages).length)) return false;
  const found = await fetchMessages(next);
  current = next;
  messages = found;
  pluralRules = new Intl.PluralRules(next);
  const has = new Set(pluralRules.resolvedOptions().pluralCategories);
  formCategories = CATEGORY_ORDER.filter((category) => has.has(category));
  document.documentElement.lang = next;
  return true;
}
