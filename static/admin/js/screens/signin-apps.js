// Sign-in apps: the systems people sign in to with Frontdesk (OpenID Connect
// clients). List, create (the secret shown once, with the discovery address),
// edit, rotate the secret (shown once), delete. Creating, editing and rotating
// need a recent sign-in: api.js asks for it (the step-up prompt) and retries.

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, emptyState, h, humanise, nextId, table, timeEl, toast } from "../dom.js";
import { confirmDialog, formDialog, openDialog } from "../forms.js";
import { t } from "../i18n.js";
import { impersonating, ROLES, state } from "../state.js";

const CLIENT_FIELDS = `id name clientId public firstParty tokenEndpointAuthMethod jwks secretHint redirectUris postLogoutRedirectUris createdAt apiPermissions
  accessRule { roles requiresPortalAccess organisations { id name } } createdBy { displayName }`;

const CLIENTS = `query SignInApps($org: ID!) {
  oidcClients(organisationId: $org, first: 100) { nodes { ${CLIENT_FIELDS} } }
}`;

const ORGANISATIONS = `query SignInAppOrganisations {
  organisations(first: 100) { nodes { id name parent { id } } }
}`;

const discoveryUrl = () => `${window.location.origin}/.well-known/openid-configuration`;

const lines = (text) => text.split(/\r?\n/).map((line) => line.trim()).filter(Boolean);

/** The organisation and the ones below it (the access rule may name only those). */
async function subtree(org) {
  const { organisations } = await gql(ORGANISATIONS);
  const parentOf = new Map(organisations.nodes.map((o) => [o.id, o.parent?.id ?? null]));
  const within = (id) => {
    for (let at = id, steps = 0; at && steps < 50; at = parentOf.get(at), steps += 1) if (at === org.id) return true;
    return false;
  };
  return organisations.nodes.filter((o) => within(o.id));
}

/** A group of checkboxes; `chosen()` lists the values ticked. */
function checkGroup(legend, hint, items, chosen = []) {
  const boxes = items.map(([value, label]) => {
    const id = nextId("choice");
    return { value, box: h("input", { type: "checkbox", id, value, checked: chosen.includes(value) }), label: h("label", { for: id }, label) };
  });
  const fieldset = h("fieldset", {}, h("legend", {}, legend), hint ? h("p", { class: "hint" }, hint) : null,
    boxes.map(({ box, label }) => h("div", { class: "check" }, box, label)));
  return { fieldset, chosen: () => boxes.filter(({ box }) => box.checked).map(({ value }) => value) };
}

function copyButton(value, label, done, className = null) {
  return h("button", { type: "button", class: className, "aria-label": label, onclick: async () => {
    await navigator.clipboard?.writeText(value).catch(() => {});
    toast(done);
  } }, t("Copy"));
}

/** A read-only value with a copy button beside it. */
function copyField(id, label, value, { secret = false, copyLabel, copied } = {}) {
  return h("div", { class: "field copy-field" }, h("label", { for: id }, label),
    h("div", { class: "copy-row" }, h("input", { id, readonly: true, value, class: secret ? "secret" : null }),
      copyButton(value, copyLabel, copied)));
}

/** What the app is configured with; the secret only now. */
function showSecret(title, client, secret) {
  openDialog(title, (close) => h("div", {},
    secret ? h("p", { class: "notice warn", role: "status" },
      t("Copy the client secret now: you will not see it again. If it is lost, rotate the secret and configure the app with the new one.")) : null,
    copyField("oidc-client-id", t("Client ID"), client.clientId, { copyLabel: t("Copy the client ID"), copied: t("Client ID copied.") }),
    secret ? copyField("oidc-client-secret", t("Client secret"), secret, { secret: true, copyLabel: t("Copy the client secret"), copied: t("Client secret copied.") }) : null,
    copyField("oidc-discovery", t("Discovery URL"), discoveryUrl(), { copyLabel: t("Copy the discovery URL"), copied: t("Discovery URL copied.") }),
    h("p", { class: "hint" }, t("Most OpenID Connect libraries need only the discovery URL, the client ID and, for a confidential app, the secret.")),
    h("div", { class: "actions end" }, h("button", { type: "button", class: "primary", onclick: close }, t("Done")))));
}

const signsWithKey = (client) => client?.tokenEndpointAuthMethod === "PRIVATE_KEY_JWT";

/** The create and edit dialog; `client` null creates. */
function clientDialog(org, organisations, client, onDone) {
  const permissions = checkGroup(t("API permissions"),
    t("What the app's access tokens may do in the API at most (as api:… scopes). None: sign-in only."),
    org.viewerPermissions.map((p) => [p, humanise(p)]), client?.apiPermissions ?? []);
  const orgs = checkGroup(t("Organisations"),
    t("Whose people may sign in. None ticked: {name} and every organisation below it.", { name: org.name }),
    organisations.map((o) => [o.id, o.name]), client?.accessRule.organisations.map((o) => o.id) ?? []);
  const roles = checkGroup(t("Roles"), t("None ticked: any role."),
    ROLES.map((r) => [r, humanise(r)]), client?.accessRule.roles ?? []);
  const accessRule = h("fieldset", {}, h("legend", {}, t("Who may sign in")), orgs.fieldset, roles.fieldset);
  const { form } = formDialog(client ? t("Edit {name}", { name: client.name }) : t("New sign-in app for {name}", { name: org.name }), {
    label: client ? t("Edit sign-in app") : t("Create a sign-in app"),
    submitLabel: client ? t("Save changes") : t("Create app"),
    intro: client ? null : t("Register a system whose people sign in with their {name} account (OpenID Connect).", { name: org.name }),
    fields: [
      { name: "name", label: t("Name"), required: true, autofocus: true, value: client?.name, hint: t("People see it on the consent page, e.g. \"Ticket desk\".") },
      client ? null : { name: "kind", label: t("Kind"), type: "select", value: "CLIENT_SECRET", options: [
        ["CLIENT_SECRET", t("Confidential: a server-side app that keeps a secret")],
        ["PRIVATE_KEY_JWT", t("Confidential: a server-side app that signs with its own key (private_key_jwt)")],
        ["NONE", t("Public: a browser or mobile app, no secret (PKCE)")],
      ] },
      signsWithKey(client) || !client ? { name: "jwks", label: t("Public keys (JWKS)"), type: "textarea",
        value: client?.jwks ? JSON.stringify(client.jwks, null, 2) : "",
        hint: t("The app's public JSON Web Key Set: a JSON object with a \"keys\" list. Never paste a private key.") } : null,
      { name: "firstParty", label: t("First party: our own system, no consent page"), type: "checkbox", value: client?.firstParty },
      { name: "redirectUris", label: t("Redirect URIs"), type: "textarea", required: true, value: client?.redirectUris.join("\n"),
        hint: t("One per line, compared exactly: https (http only for localhost), no wildcards.") },
      { name: "postLogoutRedirectUris", label: t("Post-logout redirect URIs (optional)"), type: "textarea", value: client?.postLogoutRedirectUris.join("\n"),
        hint: t("One per line: where the app may send people after signing out.") },
      permissions.fieldset,
      accessRule,
      { name: "requiresPortalAccess", label: t("Only people with portal access"), type: "checkbox", value: client?.accessRule.requiresPortalAccess,
        hint: t("Each person's portal access is granted on their page under Users, Feature access.") },
    ].filter(Boolean),
    onSubmit: ({ name, kind, jwks, firstParty, redirectUris, postLogoutRedirectUris, requiresPortalAccess }) => {
      const method = client ? client.tokenEndpointAuthMethod : kind;
      let keys = null;
      if (method === "PRIVATE_KEY_JWT") {
        try {
          keys = JSON.parse(jwks);
        } catch {
          return { errors: [{ field: "jwks", message: t("Paste the key set as JSON: an object with a \"keys\" list.") }] };
        }
      }
      const common = {
        name: name.trim(),
        firstParty,
        redirectUris: lines(redirectUris),
        postLogoutRedirectUris: lines(postLogoutRedirectUris),
        apiPermissions: permissions.chosen(),
        accessRule: { organisationIds: orgs.chosen(), roles: roles.chosen(), requiresPortalAccess },
        ...(keys ? { jwks: keys } : {}),
      };
      if (client) {
        return mutate(`mutation UpdateSignInApp($input: UpdateOidcClientInput!) {
          updateOidcClient(input: $input) { oidcClient { id } ${USER_ERROR} } }`,
        { input: { oidcClientId: client.id, ...common } }, "updateOidcClient");
      }
      return mutate(`mutation CreateSignInApp($input: CreateOidcClientInput!) {
        createOidcClient(input: $input) { clientSecret oidcClient { id name clientId } ${USER_ERROR} } }`,
      { input: { organisationId: org.id, public: kind === "NONE", tokenEndpointAuthMethod: kind, ...common } }, "createOidcClient");
    },
    onSuccess: (payload) => {
      onDone();
      if (client) toast(t("Changes saved."));
      else showSecret(t("\"{name}\" created", { name: payload.oidcClient.name }), payload.oidcClient, payload.clientSecret);
    },
  });
  // The key set only for an app that signs with its own key.
  const kind = form.fields.kind?.input;
  if (kind) {
    const showKeys = () => { form.fields.jwks.input.closest(".field").hidden = kind.value !== "PRIVATE_KEY_JWT"; };
    kind.addEventListener("change", showKeys);
    showKeys();
  }
}

function uriList(uris) {
  if (!uris.length) return h("span", { class: "muted" }, "—");
  return h("ul", { class: "plain" }, uris.map((uri) => h("li", {}, h("code", {}, uri))));
}

function whoMaySignIn(client) {
  const rule = client.accessRule;
  const parts = [
    rule.organisations.length ? rule.organisations.map((o) => o.name).join(", ") : t("Everyone in the organisation and below"),
  ];
  if (rule.roles.length) parts.push(rule.roles.map(humanise).join(", "));
  if (rule.requiresPortalAccess) parts.push(t("only with portal access"));
  return parts.join(" · ");
}

export async function list(section, params, { current }) {
  const org = state.org;
  const [{ oidcClients }, organisations] = await Promise.all([gql(CLIENTS, { org: org.id }), subtree(org)]);
  if (!current()) return;
  const rerender = () => list(section, params, { current });
  const readOnly = impersonating();
  const create = () => clientDialog(org, organisations, null, rerender);

  const run = async (query, field, client, done, after) => {
    try {
      const payload = await mutate(query, { input: { oidcClientId: client.id } }, field);
      if (payload.errors.length) toast(payload.errors[0].message);
      else {
        toast(done);
        after?.(payload);
      }
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
    }
    rerender();
  };
  const rotate = async (client) => {
    if (!await confirmDialog({
      title: t("Rotate the secret of {name}?", { name: client.name }),
      message: t("The current secret stops working at once: the app cannot sign anyone in until it is configured with the new one."),
      confirmLabel: t("Rotate secret"), danger: true,
    })) return;
    run(`mutation RotateSignInAppSecret($input: OidcClientInput!) {
      rotateOidcClientSecret(input: $input) { clientSecret oidcClient { id name clientId } ${USER_ERROR} } }`,
    "rotateOidcClientSecret", client, t("Secret rotated."),
    (payload) => showSecret(t("New secret for {name}", { name: client.name }), payload.oidcClient, payload.clientSecret));
  };
  const remove = async (client) => {
    if (!await confirmDialog({
      title: t("Delete {name}?", { name: client.name }),
      message: t("Nobody can sign in to it with Frontdesk any more, and its tokens stop working at once."),
      confirmLabel: t("Delete"), danger: true,
    })) return;
    run(`mutation DeleteSignInApp($input: OidcClientInput!) { deleteOidcClient(input: $input) { deletedOidcClientId ${USER_ERROR} } }`,
      "deleteOidcClient", client, t("Sign-in app deleted."));
  };

  const rows = oidcClients.nodes.map((client) => [
    h("span", {}, h("strong", {}, client.name), " ",
      client.public ? badge("PENDING", t("Public")) : badge("ACTIVE", t("Confidential")),
      client.firstParty ? [" ", badge("", t("First party"))] : null,
      h("span", { class: "sub" }, h("code", {}, client.clientId), " ",
        copyButton(client.clientId, t("Copy the client ID of {name}", { name: client.name }), t("Client ID copied."), "link-button")),
      client.secretHint ? h("span", { class: "sub" }, t("Secret {hint}", { hint: `${client.secretHint}…` })) : null,
      signsWithKey(client) ? h("span", { class: "sub" }, t("Signs with its own key (private_key_jwt)")) : null),
    uriList(client.redirectUris),
    h("span", {}, whoMaySignIn(client),
      h("span", { class: "sub" }, client.apiPermissions.length
        ? t("API: {permissions}", { permissions: client.apiPermissions.map(humanise).join(", ") })
        : t("Sign-in only"))),
    h("span", {}, timeEl(client.createdAt, { date: true }), client.createdBy ? h("span", { class: "sub" }, client.createdBy.displayName) : null),
    readOnly ? "" : h("div", { class: "actions stack" },
      h("button", { type: "button", "aria-label": t("Edit {name}", { name: client.name }), onclick: () => clientDialog(org, organisations, client, rerender) }, t("Edit")),
      client.tokenEndpointAuthMethod !== "CLIENT_SECRET" ? null : h("button", { type: "button", "aria-label": t("Rotate the secret of {name}", { name: client.name }), onclick: () => rotate(client) }, t("Rotate secret")),
      h("button", { type: "button", class: "danger", "aria-label": t("Delete {name}", { name: client.name }), onclick: () => remove(client) }, t("Delete"))),
  ]);

  const discoveryId = nextId("discovery");
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Sign-in apps")),
      readOnly ? null : h("button", { type: "button", class: "primary", onclick: create }, t("Create app"))),
    h("p", { class: "muted" }, t("Systems whose people sign in with their {name} account (OpenID Connect single sign-on).", { name: org.name })),
    h("div", { class: "field discovery" }, h("label", { for: discoveryId }, t("Discovery URL")),
      h("div", { class: "copy-row" }, h("input", { id: discoveryId, readonly: true, value: discoveryUrl() }),
        copyButton(discoveryUrl(), t("Copy the discovery URL"), t("Discovery URL copied.")))),
    table([t("App"), t("Redirect URIs"), t("Who may sign in"), t("Created"), ""], rows, {
      caption: t("Sign-in apps"),
      empty: emptyState(t("No sign-in apps yet."), {
        hint: t("Register each system that should let people sign in with Frontdesk: a customer portal, a ticket desk, a wiki."),
        action: readOnly ? null : h("button", { type: "button", onclick: create }, t("Create the first app")),
      }),
    }).el);
}
