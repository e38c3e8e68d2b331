// Webhooks: endpoints receiving the organisation's events (the signing secret
// shown once), pause/resume, delete, and each endpoint's deliveries with redelivery.

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, emptyState, formatDateTime, h, humanise, loadingNote, table, timeEl, toast } from "../dom.js";
import { confirmDialog, formDialog, openDialog } from "../forms.js";
import { t } from "../i18n.js";
import { impersonating, state } from "../state.js";

const ENDPOINTS = `query Webhooks($org: ID!) {
  webhookEvents
  webhookEndpoints(organisationId: $org, first: 50) {
    nodes { id url events description active createdAt deliveries(first: 1) { totalCount } }
  }
}`;

const DELIVERIES = `query Deliveries($id: ID!, $after: String) {
  node(id: $id) {
    ... on WebhookEndpoint {
      deliveries(first: 50, after: $after) {
        pageInfo { hasNextPage endCursor }
        nodes { id event status attempts lastStatusCode lastError createdAt deliveredAt }
      }
    }
  }
}`;

function eventBoxes(events, chosen = []) {
  const boxes = events.map((name) => {
    const id = `event-${name.replace(/\W/g, "-")}`;
    return { name, box: h("input", { type: "checkbox", id, value: name, checked: chosen.includes(name) }), label: h("label", { for: id }, h("code", {}, name)) };
  });
  const fieldset = h("fieldset", {}, h("legend", {}, t("Events")),
    boxes.map(({ box, label }) => h("div", { class: "check" }, box, label)));
  return { fieldset, chosen: () => boxes.filter(({ box }) => box.checked).map(({ name }) => name) };
}

function createDialog(org, events, onDone) {
  const picker = eventBoxes(events);
  formDialog(t("New webhook for {name}", { name: org.name }), {
    label: t("Create a webhook"),
    submitLabel: t("Create webhook"),
    intro: t("Frontdesk posts each event as signed JSON to this address, for this organisation and its customers."),
    fields: [
      { name: "url", label: t("Endpoint URL"), type: "url", required: true, placeholder: "https://example.com/hooks/frontdesk", autofocus: true },
      { name: "description", label: t("Description (optional)") },
      picker.fieldset,
    ],
    onSubmit: ({ url, description }) => {
      const chosen = picker.chosen();
      if (!chosen.length) return { errors: [{ field: null, message: t("Choose at least one event.") }] };
      return mutate(`mutation Create($input: CreateWebhookInput!) { createWebhook(input: $input) { secret endpoint { id } ${USER_ERROR} } }`,
        { input: { organisationId: org.id, url: url.trim(), events: chosen, description: description || null } }, "createWebhook");
    },
    onSuccess: (payload) => {
      onDone();
      openDialog(t("Webhook created"), (close) => h("div", {},
        h("p", { class: "notice warn" }, t("Copy the signing secret now: it is shown only this once. Use it to check the signature of each delivery.")),
        h("div", { class: "field" }, h("label", { for: "webhook-secret" }, t("Signing secret")),
          h("input", { id: "webhook-secret", readonly: true, class: "secret", value: payload.secret })),
        h("div", { class: "actions end" }, h("button", { type: "button", class: "primary", onclick: close }, t("Done")))));
    },
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  const data = await gql(ENDPOINTS, { org: org.id });
  if (!current()) return;
  const rerender = () => list(section, params, { current });
  const run = async (query, field, input, message) => {
    try {
      const payload = await mutate(query, { input }, field);
      toast(payload.errors.length ? payload.errors[0].message : message);
    } catch (error) {
      if (error.code !== "CANCELLED") toast(error.message);
    }
    rerender();
  };
  const readOnly = impersonating();
  const deliveryRow = (d) => [
    timeEl(d.createdAt),
    h("code", {}, d.event),
    badge(d.status === "DELIVERED" ? "ACTIVE" : d.status === "DEAD" ? "DISABLED" : "PENDING", humanise(d.status)),
    String(d.attempts),
    d.lastStatusCode ? String(d.lastStatusCode) : (d.lastError || "—"),
    readOnly ? "" : h("button", { type: "button", onclick: () => run(
      `mutation Redeliver($input: RedeliverInput!) { redeliverWebhook(input: $input) { delivery { id } ${USER_ERROR} } }`,
      "redeliverWebhook", { deliveryId: d.id }, t("Queued for redelivery.")), "aria-label": t("Redeliver {event} from {when}", { event: d.event, when: formatDateTime(d.createdAt) }) }, t("Redeliver")),
  ];
  /** The delivery log, loaded when opened (oldest first, 50 at a time). */
  const deliveryLog = (e) => {
    const box = h("div", {});
    let cursor = null;
    let addRows = null;
    const more = h("button", { type: "button", hidden: true }, t("Load more"));
    const load = async () => {
      box.setAttribute("aria-busy", "true");
      if (!addRows) clear(box, loadingNote(t("Loading deliveries…")));
      const { node } = await gql(DELIVERIES, { id: e.id, after: cursor });
      const page = node.deliveries;
      box.removeAttribute("aria-busy");
      if (addRows) addRows(page.nodes.map(deliveryRow));
      else {
        const log = table([t("When"), t("Event"), t("Status"), t("Attempts"), t("Answer"), ""], page.nodes.map(deliveryRow), { caption: t("Deliveries to {url}", { url: e.url }),
          empty: emptyState(t("No deliveries yet."), { hint: t("A delivery is listed here each time one of its events happens.") }) });
        addRows = log.addRows;
        clear(box, log.el);
      }
      cursor = page.pageInfo.endCursor;
      more.hidden = !page.pageInfo.hasNextPage;
    };
    more.addEventListener("click", load);
    const details = h("details", {}, h("summary", {}, t("Deliveries ({count})", { count: e.deliveries.totalCount })), box, more);
    details.addEventListener("toggle", () => { if (details.open && !addRows) load(); });
    return details;
  };
  const cards = data.webhookEndpoints.nodes.map((e) => {
    return h("section", { class: "card", "aria-label": e.url },
      h("div", { class: "page-head" },
        h("h2", {}, h("code", {}, e.url)),
        e.active ? badge("ACTIVE", t("Active")) : badge("DISABLED", t("Paused"))),
      e.description ? h("p", {}, e.description) : null,
      h("p", { class: "muted" }, t("Events: {events}", { events: e.events.join(", ") })),
      readOnly ? null : h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => run(
          `mutation Update($input: UpdateWebhookInput!) { updateWebhook(input: $input) { endpoint { id } ${USER_ERROR} } }`,
          "updateWebhook", { endpointId: e.id, active: !e.active }, e.active ? t("Webhook paused.") : t("Webhook resumed.")) }, e.active ? t("Pause") : t("Resume")),
        h("button", { type: "button", class: "danger", onclick: async () => {
          if (!await confirmDialog({ title: t("Delete this webhook?"), message: t("Events stop going to {url}, and its delivery log is removed.", { url: e.url }), confirmLabel: t("Delete"), danger: true })) return;
          run(`mutation Delete($input: WebhookInput!) { deleteWebhook(input: $input) { ${USER_ERROR} } }`, "deleteWebhook", { endpointId: e.id }, t("Webhook deleted."));
        } }, t("Delete"))),
      deliveryLog(e));
  });
  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Webhooks")),
      readOnly ? null : h("button", { type: "button", class: "primary", onclick: () => createDialog(org, data.webhookEvents, rerender) }, t("Create webhook"))),
    cards.length ? cards : h("div", { class: "card" }, emptyState(t("No webhooks yet."), {
      hint: t("A webhook tells your systems when members, customers or tickets change."),
      action: readOnly ? null : h("button", { type: "button", onclick: () => createDialog(org, data.webhookEvents, rerender) }, t("Create the first webhook")),
    })));
}
