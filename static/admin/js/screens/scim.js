// SCIM provisioning (on the API tokens screen): the base URL an identity provider
// calls, how the people it creates join, and SCIM tokens (shown once, revocable).

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, h, table, timeEl, toast } from "../dom.js";
import { buildForm, confirmDialog, formDialog, openDialog } from "../forms.js";
import { t, tx } from "../i18n.js";
import { impersonating } from "../state.js";

const SCIM = `query Scim($org: ID!) {
  organisation(id: $org) { scimProvisioning { baseUrl newPeople } }
  scimTokens(organisationId: $org, first: 100) {
    nodes { id name hint createdAt expiresAt lastUsedAt revokedAt active createdBy { displayName } }
  }
}`;

function status(token) {
  if (token.revokedAt) return badge("REVOKED", t("Revoked"));
  if (!token.active) return badge("EXPIRED", t("Expired"));
  return badge("ACTIVE", t("Active"));
}

function isoDate(date) {
  return date.toISOString().slice(0, 10);
}

function createDialog(org, onDone) {
  const inDays = (n) => isoDate(new Date(Date.now() + n * 86400000));
  formDialog(t("New SCIM token for {name}", { name: org.name }), {
    label: t("Create a SCIM token"),
    submitLabel: t("Create SCIM token"),
    fields: [
      { name: "name", label: t("Name"), required: true, autofocus: true, hint: t("The identity provider, e.g. \"Entra ID\".") },
      { name: "expiresOn", label: t("Expires on"), type: "date", required: true, value: inDays(365), min: inDays(1), max: inDays(365) },
    ],
    onSubmit: ({ name, expiresOn }) => mutate(`mutation CreateScim($input: CreateScimTokenInput!) {
      createScimToken(input: $input) { secret scimToken { id name } ${USER_ERROR} } }`, {
      input: { organisationId: org.id, name: name.trim(), expiresAt: new Date(`${expiresOn}T23:59:59`).toISOString() },
    }, "createScimToken"),
    onSuccess: (payload) => {
      onDone();
      showSecret(payload.scimToken.name, payload.secret);
    },
  });
}

function showSecret(name, secret) {
  openDialog(t("SCIM token \"{name}\" created", { name }), (close) => {
    const field = h("input", { id: "scim-secret", readonly: true, value: secret, class: "secret" });
    return h("div", {},
      h("p", { class: "notice warn" }, t("Copy the token now: it is shown only this once. Paste it as the identity provider's secret token.")),
      h("div", { class: "field" }, h("label", { for: "scim-secret" }, t("SCIM token")), field),
      h("div", { class: "actions end" },
        h("button", { type: "button", onclick: async () => { await navigator.clipboard?.writeText(secret); toast(t("Token copied.")); } }, t("Copy")),
        h("button", { type: "button", class: "primary", onclick: close }, t("Done"))));
  });
}

function settingForm(org, provisioning, rerender) {
  return buildForm({
    label: t("How people join"),
    submitLabel: t("Save"),
    fields: [{
      name: "newPeople",
      label: t("People the identity provider adds"),
      type: "select",
      value: provisioning.newPeople,
      options: [
        ["INVITE", t("are invited by email")],
        ["SET_PASSWORD_LINK", t("are active at once and get a link to choose a password")],
      ],
    }],
    onSubmit: ({ newPeople }) => mutate(`mutation SetScim($input: SetScimNewPeopleInput!) {
      setScimNewPeople(input: $input) { scimProvisioning { newPeople } ${USER_ERROR} } }`,
    { input: { organisationId: org.id, newPeople } }, "setScimNewPeople"),
    onSuccess: () => { toast(t("Settings saved.")); rerender(); },
  });
}

// The card, or null when the viewer may not manage SCIM here.
export async function scimCard(org, rerender) {
  const { organisation, scimTokens } = await gql(SCIM, { org: org.id });
  const scimProvisioning = organisation.scimProvisioning;
  const revoke = async (token) => {
    if (!await confirmDialog({ title: t("Revoke \"{name}\"?", { name: token.name }), message: t("The identity provider stops provisioning at once."), confirmLabel: t("Revoke"), danger: true })) return;
    try {
      const payload = await mutate(`mutation RevokeScim($input: ScimTokenInput!) { revokeScimToken(input: $input) { scimToken { id } ${USER_ERROR} } }`,
        { input: { scimTokenId: token.id } }, "revokeScimToken");
      toast(payload.errors.length ? payload.errors[0].message : t("Token revoked."));
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
    }
    rerender();
  };
  const rows = scimTokens.nodes.map((token) => [
    h("span", {}, token.name, h("span", { class: "sub" }, h("code", {}, `${token.hint}…`))),
    status(token),
    h("span", {}, timeEl(token.createdAt, { date: true }), token.createdBy ? h("span", { class: "sub" }, token.createdBy.displayName) : null),
    timeEl(token.expiresAt, { date: true }),
    timeEl(token.lastUsedAt),
    token.active && !impersonating() ? h("button", { type: "button", class: "danger", onclick: () => revoke(token), "aria-label": t("Revoke {name}", { name: token.name }) }, t("Revoke")) : "",
  ]);
  return h("section", { class: "card", "aria-labelledby": "scim-h" },
    h("div", { class: "page-head" },
      h("h2", { id: "scim-h" }, t("SCIM provisioning")),
      impersonating() ? null : h("button", { type: "button", class: "primary", onclick: () => createDialog(org, rerender) }, t("Create SCIM token"))),
    h("p", { class: "muted" }, tx("Your identity provider (Entra ID, Okta) adds, updates and disables the people of {name} at {url} with a SCIM token.", { name: org.name, url: h("code", {}, scimProvisioning.baseUrl) })),
    impersonating() ? null : settingForm(org, scimProvisioning, rerender).el,
    table([t("Name"), t("Status"), t("Created"), t("Expires"), t("Last used"), ""], rows, { caption: t("SCIM tokens"), empty: t("No SCIM tokens yet.") }).el);
}
