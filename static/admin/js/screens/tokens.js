// API tokens: list, create (the secret is shown once), revoke; below, SCIM (screens/scim.js).

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, emptyState, h, humanise, table, timeEl, toast } from "../dom.js";
import { confirmDialog, formDialog, openDialog } from "../forms.js";
import { t, tn, tx } from "../i18n.js";
import { can, impersonating, state } from "../state.js";
import { scimCard } from "./scim.js";

const TOKENS = `query Tokens($org: ID!) {
  apiTokens(organisationId: $org, first: 100) {
    nodes { id name hint createdAt expiresAt lastUsedAt revokedAt active permissions restrictedToTrustedDocuments createdBy { displayName } }
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
  const today = new Date();
  const inDays = (n) => isoDate(new Date(today.getTime() + n * 86400000));
  const permissions = org.viewerPermissions;
  const boxes = permissions.map((p) => {
    const id = `perm-${p}`;
    return { p, box: h("input", { type: "checkbox", id, value: p }), label: h("label", { for: id }, humanise(p)) };
  });
  const fieldset = h("fieldset", {},
    h("legend", {}, t("Permissions")),
    h("p", { class: "hint" }, t("Give only what the integration needs; never more than you hold.")),
    boxes.map(({ box, label }) => h("div", { class: "check" }, box, label)));
  formDialog(t("New API token for {name}", { name: org.name }), {
    label: t("Create an API token"),
    submitLabel: t("Create token"),
    fields: [
      { name: "name", label: t("Name"), required: true, autofocus: true, hint: t("What uses it, e.g. \"Billing sync\".") },
      { name: "expiresOn", label: t("Expires on"), type: "date", required: true, value: inDays(90), min: inDays(1), max: inDays(365) },
      fieldset,
      {
        name: "restricted",
        label: t("Only the admin app's operations"),
        type: "checkbox",
        hint: t("When the server enforces trusted documents, the token may send only the operations this app sends."),
      },
    ],
    onSubmit: ({ name, expiresOn, restricted }) => {
      const chosen = boxes.filter(({ box }) => box.checked).map(({ p }) => p);
      if (!chosen.length) return { errors: [{ field: null, message: t("Choose at least one permission.") }] };
      return mutate(`mutation Create($input: CreateApiTokenInput!) {
        createApiToken(input: $input) { secret apiToken { id name } ${USER_ERROR} } }`, {
        input: { organisationId: org.id, name: name.trim(), permissions: chosen, expiresAt: new Date(`${expiresOn}T23:59:59`).toISOString(), restrictedToTrustedDocuments: restricted },
      }, "createApiToken");
    },
    onSuccess: (payload) => {
      onDone();
      showSecret(payload.apiToken.name, payload.secret);
    },
  });
}

function showSecret(name, secret) {
  openDialog(t("Token \"{name}\" created", { name }), (close) => {
    const field = h("input", { id: "token-secret", readonly: true, value: secret, class: "secret" });
    return h("div", {},
      h("p", { class: "notice warn" }, tx("Copy the token now: it is shown only this once. Send it as {header}.", { header: h("code", {}, "Authorization: Bearer …") })),
      h("div", { class: "field" }, h("label", { for: "token-secret" }, t("Token")), field),
      h("div", { class: "actions end" },
        h("button", { type: "button", onclick: async () => { await navigator.clipboard?.writeText(secret); toast(t("Token copied.")); } }, t("Copy")),
        h("button", { type: "button", class: "primary", onclick: close }, t("Done"))));
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  const { apiTokens } = await gql(TOKENS, { org: org.id });
  const scim = can("SCIM_MANAGE", org) ? await scimCard(org, () => list(section, params, { current })) : null;
  if (!current()) return;
  const rerender = () => list(section, params, { current });
  const revoke = async (token) => {
    if (!await confirmDialog({ title: t("Revoke \"{name}\"?", { name: token.name }), message: t("Integrations using it stop working at once."), confirmLabel: t("Revoke"), danger: true })) return;
    try {
      const payload = await mutate(`mutation Revoke($input: ApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } ${USER_ERROR} } }`,
        { input: { apiTokenId: token.id } }, "revokeApiToken");
      toast(payload.errors.length ? payload.errors[0].message : t("Token revoked."));
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
    }
    rerender();
  };
  const rows = apiTokens.nodes.map((token) => [
    h("span", {}, token.name, h("span", { class: "sub" }, h("code", {}, `${token.hint}…`)),
      token.restrictedToTrustedDocuments ? h("span", { class: "sub" }, t("Only the admin app's operations")) : null),
    status(token),
    h("span", {}, tn("{count} permission", "{count} permissions", token.permissions.length, { count: token.permissions.length }),
      h("span", { class: "sub" }, token.permissions.map(humanise).join(", "))),
    h("span", {}, timeEl(token.createdAt, { date: true }), token.createdBy ? h("span", { class: "sub" }, token.createdBy.displayName) : null),
    timeEl(token.expiresAt, { date: true }),
    timeEl(token.lastUsedAt),
    token.active && !impersonating() ? h("button", { type: "button", class: "danger", onclick: () => revoke(token), "aria-label": t("Revoke {name}", { name: token.name }) }, t("Revoke")) : "",
  ]);
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("API tokens")),
      impersonating() ? null : h("button", { type: "button", class: "primary", onclick: () => createDialog(org, rerender) }, t("Create token"))),
    h("p", { class: "muted" }, t("Tokens let integrations act in {name} and its customers with the permissions you choose.", { name: org.name })),
    table([t("Name"), t("Status"), t("Permissions"), t("Created"), t("Expires"), t("Last used"), ""], rows, { caption: t("API tokens"), empty: emptyState(t("No API tokens yet."), {
      hint: t("Create one for each integration, with only the permissions it needs."),
      action: impersonating() ? null : h("button", { type: "button", onclick: () => createDialog(org, rerender) }, t("Create the first token")),
    }) }).el,
    scim);
}
