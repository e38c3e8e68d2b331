// API tokens: list, create (the secret is shown once), revoke.

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, h, humanise, table, timeEl, toast } from "../dom.js";
import { confirmDialog, formDialog, openDialog } from "../forms.js";
import { impersonating, state } from "../state.js";

const TOKENS = `query Tokens($org: ID!) {
  apiTokens(organisationId: $org, first: 100) {
    nodes { id name hint createdAt expiresAt lastUsedAt revokedAt active permissions createdBy { displayName } }
  }
}`;

function status(t) {
  if (t.revokedAt) return badge("REVOKED", "Revoked");
  if (!t.active) return badge("EXPIRED", "Expired");
  return badge("ACTIVE", "Active");
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
    h("legend", {}, "Permissions"),
    h("p", { class: "hint" }, "Give only what the integration needs; never more than you hold."),
    boxes.map(({ box, label }) => h("div", { class: "check" }, box, label)));
  formDialog(`New API token for ${org.name}`, {
    label: "Create an API token",
    submitLabel: "Create token",
    fields: [
      { name: "name", label: "Name", required: true, autofocus: true, hint: "What uses it, e.g. \"Billing sync\"." },
      { name: "expiresOn", label: "Expires on", type: "date", required: true, value: inDays(90), min: inDays(1), max: inDays(365) },
      fieldset,
    ],
    onSubmit: ({ name, expiresOn }) => {
      const chosen = boxes.filter(({ box }) => box.checked).map(({ p }) => p);
      if (!chosen.length) return { errors: [{ field: null, message: "Choose at least one permission." }] };
      return mutate(`mutation Create($input: CreateApiTokenInput!) {
        createApiToken(input: $input) { secret apiToken { id name } ${USER_ERROR} } }`, {
        input: { organisationId: org.id, name: name.trim(), permissions: chosen, expiresAt: new Date(`${expiresOn}T23:59:59`).toISOString() },
      }, "createApiToken");
    },
    onSuccess: (payload) => {
      onDone();
      showSecret(payload.apiToken.name, payload.secret);
    },
  });
}

function showSecret(name, secret) {
  openDialog(`Token "${name}" created`, (close) => {
    const field = h("input", { id: "token-secret", readonly: true, value: secret, class: "secret" });
    return h("div", {},
      h("p", { class: "notice warn" }, "Copy the token now: it is shown only this once. Send it as ", h("code", {}, "Authorization: Bearer …"), "."),
      h("div", { class: "field" }, h("label", { for: "token-secret" }, "Token"), field),
      h("div", { class: "actions end" },
        h("button", { type: "button", onclick: async () => { await navigator.clipboard?.writeText(secret); toast("Token copied."); } }, "Copy"),
        h("button", { type: "button", class: "primary", onclick: close }, "Done")));
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  const { apiTokens } = await gql(TOKENS, { org: org.id });
  if (!current()) return;
  const rerender = () => list(section, params, { current });
  const revoke = async (t) => {
    if (!await confirmDialog({ title: `Revoke "${t.name}"?`, message: "Integrations using it stop working at once.", confirmLabel: "Revoke", danger: true })) return;
    try {
      const payload = await mutate(`mutation Revoke($input: ApiTokenInput!) { revokeApiToken(input: $input) { apiToken { id } ${USER_ERROR} } }`,
        { input: { apiTokenId: t.id } }, "revokeApiToken");
      toast(payload.errors.length ? payload.errors[0].message : "Token revoked.");
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
    }
    rerender();
  };
  const rows = apiTokens.nodes.map((t) => [
    h("span", {}, t.name, h("span", { class: "sub" }, h("code", {}, `${t.hint}…`))),
    status(t),
    h("span", {}, `${t.permissions.length} permissions`, h("span", { class: "sub" }, t.permissions.map(humanise).join(", "))),
    h("span", {}, timeEl(t.createdAt, { date: true }), t.createdBy ? h("span", { class: "sub" }, t.createdBy.displayName) : null),
    timeEl(t.expiresAt, { date: true }),
    timeEl(t.lastUsedAt),
    t.active && !impersonating() ? h("button", { type: "button", class: "danger", onclick: () => revoke(t), "aria-label": `Revoke ${t.name}` }, "Revoke") : "",
  ]);
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, "API tokens"),
      impersonating() ? null : h("button", { type: "button", class: "primary", onclick: () => createDialog(org, rerender) }, "Create token")),
    h("p", { class: "muted" }, `Tokens let integrations act in ${org.name} and its customers with the permissions you choose.`),
    table(["Name", "Status", "Permissions", "Created", "Expires", "Last used", ""], rows, { caption: "API tokens", empty: "No API tokens yet." }).el);
}
