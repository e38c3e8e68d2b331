// The brand card of an organisation's settings (what it sets, what it inherits
// and from whom), and the page the sender verification mail links to.

import { gql, mutate, USER_ERROR } from "../api.js";
import { clear, h, toast } from "../dom.js";
import { buildForm } from "../forms.js";
import { N_, t } from "../i18n.js";
import { reload } from "../router.js";
import { loadViewer } from "../state.js";

const FIELDS = [
  { field: "PORTAL_NAME", name: "portalName", label: N_("Portal name"), hint: N_("Shown instead of “Frontdesk” in the app and in mails."), maxlength: 60, autocomplete: "off" },
  { field: "SENDER_NAME", name: "senderName", label: N_("Sender name"), hint: N_("The name mails come from (the portal name when empty)."), maxlength: 60, autocomplete: "off" },
  { field: "SENDER_ADDRESS", name: "senderAddress", label: N_("Sender address"), type: "email", hint: N_("Used once confirmed: we mail a link to it."), autocomplete: "off" },
  { field: "SUPPORT_CONTACT", name: "supportContact", label: N_("Support contact"), hint: N_("An address, web page or phone number, shown as you write it."), maxlength: 200, autocomplete: "off" },
  { field: "LOGO_URL", name: "logoUrl", label: N_("Logo address"), type: "url", hint: N_("An https:// address of an image."), maxlength: 500, autocomplete: "off" },
  { field: "COLOUR", name: "colour", label: N_("Colour"), hint: N_("As #rrggbb, for example #0a5fb4."), maxlength: 7, autocomplete: "off" },
  { field: "LANGUAGE", name: "language", label: N_("Default language"), type: "select", options: [["", N_("Inherited")], ["en", "English"], ["de", "Deutsch"]] },
];
const SETTINGS = "portalName senderName senderAddress senderVerified supportContact logoUrl colour language hostName";
const BRAND = `query Brand($id: ID!) {
  organisation(id: $id) {
    brand { values { field value setHere inheritedFrom } }
    brandSettings { ${SETTINGS} }
  }
}`;
const SET_BRAND = `mutation SetBrand($input: SetBrandInput!) { setBrand(input: $input) { ${USER_ERROR} } }`;
const CONFIRM = `mutation Confirm($input: ConfirmSenderAddressInput!) {
  confirmSenderAddress(input: $input) { senderAddress organisationName ${USER_ERROR} }
}`;

function source(value) {
  if (value.setHere) return t("Set here");
  if (value.inheritedFrom) return t("Inherited from {name}", { name: value.inheritedFrom });
  return t("Default");
}

function effectiveTable(values, labels) {
  return h("table", { class: "responsive" },
    h("caption", {}, t("What your people and customers see")),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, t("Setting")), h("th", { scope: "col" }, t("Value")), h("th", { scope: "col" }, t("Comes from")))),
    h("tbody", {}, values.map((v) => h("tr", {},
      h("th", { scope: "row" }, t(labels[v.field])),
      h("td", { "data-label": t("Value") },
        v.field === "COLOUR" && v.value ? [h("span", { class: "brand-swatch", "data-colour": v.value }), " "] : null,
        v.value ?? "—"),
      h("td", { "data-label": t("Comes from") }, source(v))))));
}

/** The brand card for an organisation the viewer may brand (BRAND_MANAGE). */
export async function brandCard(org) {
  const data = await gql(BRAND, { id: org.id });
  const { brand, brandSettings: own } = data.organisation;
  const labels = Object.fromEntries(FIELDS.map((f) => [f.field, f.label]));
  const initial = {};
  const fields = FIELDS.map((spec) => {
    initial[spec.name] = own[spec.name] ?? "";
    const options = spec.options?.map(([value, label]) => [value, value ? label : t(label)]);
    return { ...spec, label: t(spec.label), hint: spec.hint && t(spec.hint), options, value: initial[spec.name] };
  });
  initial.hostName = own.hostName ?? "";
  fields.push({ name: "hostName", label: t("Own host name"), value: initial.hostName, hint: t("For example portal.example.com: your customers sign in there. Its DNS and certificate are set up by your provider."), autocomplete: "off" });
  const form = buildForm({
    label: t("Brand"),
    submitLabel: t("Save brand"),
    fields: [h("p", { class: "hint" }, t("Leave a field empty to inherit it from the organisation above.")), ...fields],
    // Only what changed: giving an unconfirmed sender address again re-sends its link.
    onSubmit: (values) => {
      const changed = Object.fromEntries(Object.entries(values)
        .map(([k, v]) => [k, v.trim()])
        .filter(([k, v]) => v !== initial[k]));
      if (!Object.keys(changed).length) return { errors: [] };
      return mutate(SET_BRAND, { input: { organisationId: org.id, ...changed } }, "setBrand");
    },
    onSuccess: async () => {
      toast(t("Brand saved."));
      await loadViewer(); // the header wears the viewer's organisation's brand
      reload();
    },
  });
  const resend = async () => {
    const payload = await mutate(SET_BRAND, { input: { organisationId: org.id, senderAddress: own.senderAddress } }, "setBrand");
    toast(payload.errors.length ? payload.errors[0].message : t("We sent a new link to {address}.", { address: own.senderAddress }));
  };
  const pending = own.senderAddress && !own.senderVerified
    ? h("div", { class: "notice", role: "status" },
      h("p", {}, t("Mails go from the default sender until someone opens the link we sent to {address}.", { address: own.senderAddress })),
      h("button", { type: "button", onclick: resend }, t("Send the link again")))
    : null;
  const card = h("section", { class: "card", "aria-labelledby": "brand-h" },
    h("h2", { id: "brand-h" }, t("Brand")),
    effectiveTable(brand.values, labels),
    pending,
    form.el);
  // Swatches get their colour through the CSSOM (no inline styles under the CSP).
  for (const swatch of card.querySelectorAll(".brand-swatch")) swatch.style.background = swatch.dataset.colour;
  return card;
}

/** /admin/verify-sender#token=…: the link in the verification mail. */
export async function verifySender(section) {
  const token = new URLSearchParams(window.location.hash.slice(1)).get("token") || "";
  clear(section, h("h1", {}, t("Confirming the sender address…")));
  const payload = await mutate(CONFIRM, { input: { token } }, "confirmSenderAddress");
  history.replaceState(null, "", window.location.pathname); // the token is spent: drop it
  if (payload.errors.length) {
    clear(section, h("h1", { tabindex: "-1" }, t("Link not valid")),
      h("p", { class: "notice danger", role: "alert" }, payload.errors[0].message),
      h("p", {}, t("Ask the administrator to send a new link from the organisation's settings.")));
    return;
  }
  clear(section, h("h1", { tabindex: "-1" }, t("Sender address confirmed")),
    h("p", { class: "notice ok" },
      t("Mails of {organisation} now come from {address}.", { organisation: payload.organisationName, address: payload.senderAddress })),
    h("p", {}, h("a", { href: "/admin/" }, t("Go to the admin app"))));
}
