// Support tickets: list (filters, customers' tickets for a support desk),
// raise, and one ticket (comments, status, edit).

import { gql, mutate, USER_ERROR } from "../api.js";
import {
  badge, clear, debounce, emptyState, formatNumber, h, humanise, listRegion, table, timeEl, toast,
} from "../dom.js";
import { buildForm, formDialog } from "../forms.js";
import { N_, t, tn } from "../i18n.js";
import { navigate } from "../router.js";
import { isSupportDesk, orgPath, state } from "../state.js";

const STATUSES = ["NEW", "IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"];
const KINDS = ["INCIDENT", "REQUEST"];
const PRIORITIES = ["LOW", "NORMAL", "HIGH", "URGENT"];
const options = (values) => values.map((v) => [v, humanise(v)]);
// The list's orders (the API's TicketOrder), newest first by default.
const ORDERS = [
  ["NEWEST_FIRST", N_("Newest first")],
  ["OLDEST_FIRST", N_("Oldest first")],
  ["LAST_UPDATED", N_("Last updated")],
  ["STATUS", N_("Status (new first)")],
];

const TICKETS = `query Tickets($org: ID!, $descendants: Boolean!, $status: TicketStatus, $type: TicketKind,
  $priority: TicketPriority, $search: String, $order: TicketOrder!, $after: String) {
  tickets(organisationId: $org, includeDescendants: $descendants, status: $status, type: $type,
    priority: $priority, search: $search, order: $order, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id number subject status type priority updatedAt reporterName organisation { id name } }
  }
}`;

const TICKET = `query Ticket($id: ID!) {
  ticket(id: $id) {
    id number subject description status allowedStatuses type priority createdAt updatedAt resolvedAt closedAt
    reporterName organisation { id name }
    comments { id body createdAt authorName }
  }
}`;

function raiseDialog(org) {
  formDialog(t("Raise a ticket with {name}'s support", { name: org.name }), {
    label: t("Raise a ticket"),
    submitLabel: t("Raise ticket"),
    fields: [
      // Type on a line of its own: its choices explain themselves and need the width.
      { name: "type", label: t("Type"), type: "select", options: [["INCIDENT", t("Incident (something is broken)")], ["REQUEST", t("Request (please do something)")]], value: "INCIDENT" },
      { name: "priority", label: t("Priority"), type: "select", options: options(PRIORITIES), value: "NORMAL" },
      { name: "subject", label: t("Subject"), required: true, autofocus: true },
      { name: "description", label: t("Description"), type: "textarea", hint: t("What happened, since when, and who is affected.") },
    ],
    onSubmit: (input) => mutate(`mutation Raise($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id number } ${USER_ERROR} } }`,
      { input: { organisationId: org.id, ...input, subject: input.subject.trim() } }, "createTicket"),
    onSuccess: (payload) => {
      toast(t("Ticket #{number} raised.", { number: payload.ticket.number }));
      navigate(orgPath(`/tickets/${encodeURIComponent(payload.ticket.id)}`));
    },
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  // A support desk's queue holds its customers' tickets from the start.
  const desk = isSupportDesk(org);
  const filters = { status: "", type: "", priority: "", search: "", descendants: desk, order: "NEWEST_FIRST" };
  const results = listRegion(t("Loading tickets…"));
  const more = h("button", { type: "button", hidden: true }, t("Load more"));
  let cursor = null;
  let shown = 0;
  let addRows;
  /** Nothing yet (and how to raise one) apart from nothing matching the filters. */
  const empty = () => (filters.status || filters.type || filters.priority || filters.search.trim()
    ? emptyState(t("No tickets match these filters."), { hint: t("Change or clear the filters to see more.") })
    : emptyState(t("No tickets yet."), {
      hint: t("Something broken, or something you need done? Raise a ticket and support answers here."),
      action: h("button", { type: "button", onclick: () => raiseDialog(org) }, t("Raise the first ticket")),
    }));

  const row = (ticket) => [
    h("span", {}, h("a", { href: orgPath(`/tickets/${encodeURIComponent(ticket.id)}`) }, `#${ticket.number} ${ticket.subject}`)),
    badge(ticket.status),
    humanise(ticket.type),
    badge(ticket.priority),
    ticket.reporterName || "—",
    ...(filters.descendants ? [ticket.organisation.name] : []),
    timeEl(ticket.updatedAt),
  ];
  async function load(append = false) {
    results.loading();
    const { tickets } = await gql(TICKETS, {
      org: org.id,
      descendants: filters.descendants,
      status: filters.status || null,
      type: filters.type || null,
      priority: filters.priority || null,
      search: filters.search.trim() || null,
      order: filters.order,
      after: append ? cursor : null,
    });
    if (!current()) return;
    cursor = tickets.pageInfo.endCursor;
    let listed = null;
    if (append) {
      addRows(tickets.nodes.map(row));
      shown += tickets.nodes.length;
    } else {
      const columns = [t("Ticket"), t("Status"), t("Type"), t("Priority"), t("Reporter"), ...(filters.descendants ? [t("Organisation")] : []), t("Updated")];
      listed = table(columns, tickets.nodes.map(row), { caption: t("Tickets"), empty: empty() });
      addRows = listed.addRows;
      shown = tickets.nodes.length;
    }
    const counts = { shown: formatNumber(shown), count: formatNumber(tickets.totalCount) };
    results.show(listed?.el ?? null, shown >= tickets.totalCount
      ? tn("{count} ticket.", "{count} tickets.", tickets.totalCount, counts)
      : tn("Showing {shown} of {count} ticket.", "Showing {shown} of {count} tickets.", tickets.totalCount, counts));
    more.hidden = !tickets.pageInfo.hasNextPage;
  }
  more.addEventListener("click", () => load(true));
  const set = (name) => (e) => {
    filters[name] = e.target.type === "checkbox" ? e.target.checked : e.target.value;
    load();
  };
  const select = (id, label, name, values) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { id, onchange: set(name) }, h("option", { value: "" }, t("Any")), options(values).map(([v, l]) => h("option", { value: v }, l))));

  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, t("Tickets")),
      h("button", { type: "button", class: "primary", onclick: () => raiseDialog(org) }, t("Raise a ticket"))),
    h("form", { class: "filters", role: "search", "aria-label": t("Filter tickets"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" }, h("label", { for: "ticket-search" }, t("Search")),
        h("input", { id: "ticket-search", type: "search", placeholder: t("Subject, description, number or organisation"), oninput: debounce(set("search")) })),
      select("ticket-status", t("Status"), "status", STATUSES),
      select("ticket-type", t("Type"), "type", KINDS),
      select("ticket-priority", t("Priority"), "priority", PRIORITIES),
      h("div", { class: "field" }, h("label", { for: "ticket-order" }, t("Sort by")),
        h("select", { id: "ticket-order", onchange: set("order") },
          ORDERS.map(([value, label]) => h("option", { value, selected: value === filters.order }, t(label))))),
      desk ? h("div", { class: "check" }, h("input", { id: "ticket-descendants", type: "checkbox", checked: filters.descendants, onchange: set("descendants") }),
        h("label", { for: "ticket-descendants" }, t("Include customers' tickets"))) : null),
    results.el,
    h("div", { class: "list-footer" }, results.status, more));
  await load();
}

export async function detail(section, params, { current }) {
  const { ticket } = await gql(TICKET, { id: params.ticket });
  if (!current()) return;
  if (!ticket) {
    clear(section, h("h1", {}, t("Ticket not found")), h("p", {}, h("a", { href: orgPath("/tickets") }, t("Back to tickets"))));
    return;
  }
  const rerender = () => detail(section, params, { current });
  // Only the moves the API allows this person for this ticket (allowedStatuses).
  const moves = ticket.allowedStatuses;
  const statusForm = moves.length ? buildForm({
    label: t("Change status"),
    submitLabel: t("Change status"),
    fields: [{ name: "status", label: t("New status"), type: "select", options: options(moves), value: moves[0] }],
    onSubmit: ({ status }) => mutate(`mutation Status($input: ChangeTicketStatusInput!) { changeTicketStatus(input: $input) { ticket { id status } ${USER_ERROR} } }`,
      { input: { ticketId: ticket.id, status } }, "changeTicketStatus"),
    onSuccess: (payload) => {
      toast(t("Status: {status}.", { status: humanise(payload.ticket.status) }));
      rerender();
    },
  }) : null;
  const noMoves = ticket.status === "CLOSED"
    ? t("This ticket is closed; raise a new one if the problem returns.")
    : t("Only the support desk can change this ticket's status now.");
  const commentForm = buildForm({
    label: t("Add a comment"),
    submitLabel: t("Add comment"),
    fields: [{ name: "body", label: t("Your answer"), type: "textarea", required: true }],
    onSubmit: ({ body }) => mutate(`mutation Comment($input: AddTicketCommentInput!) { addTicketComment(input: $input) { comment { id } ${USER_ERROR} } }`,
      { input: { ticketId: ticket.id, body } }, "addTicketComment"),
    onSuccess: () => {
      toast(t("Comment added."));
      rerender();
    },
  });
  const edit = () => formDialog(t("Edit ticket #{number}", { number: ticket.number }), {
    label: t("Edit ticket"),
    fields: [
      { name: "subject", label: t("Subject"), required: true, value: ticket.subject },
      { row: [
        { name: "type", label: t("Type"), type: "select", options: options(KINDS), value: ticket.type },
        { name: "priority", label: t("Priority"), type: "select", options: options(PRIORITIES), value: ticket.priority },
      ] },
      { name: "description", label: t("Description"), type: "textarea", value: ticket.description },
    ],
    onSubmit: (values) => mutate(`mutation Edit($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { id } ${USER_ERROR} } }`,
      { input: { ticketId: ticket.id, ...values } }, "updateTicket"),
    onSuccess: () => {
      toast(t("Ticket saved."));
      rerender();
    },
  });
  clear(section,
    h("nav", { class: "breadcrumb", "aria-label": t("Breadcrumb") }, h("a", { href: orgPath("/tickets") }, t("Tickets")), ` › #${ticket.number}`),
    h("div", { class: "page-head" },
      h("h1", {}, `#${ticket.number} ${ticket.subject}`),
      h("div", { class: "actions" }, badge(ticket.status), h("button", { type: "button", onclick: edit }, t("Edit")))),
    h("section", { class: "card", "aria-labelledby": "ticket-h" },
      h("h2", { id: "ticket-h", class: "visually-hidden" }, t("Ticket")),
      h("dl", { class: "facts" },
        h("dt", {}, t("Organisation")), h("dd", {}, ticket.organisation.name),
        h("dt", {}, t("Type")), h("dd", {}, humanise(ticket.type)),
        h("dt", {}, t("Priority")), h("dd", {}, badge(ticket.priority)),
        h("dt", {}, t("Reporter")), h("dd", {}, ticket.reporterName || "—"),
        h("dt", {}, t("Raised")), h("dd", {}, timeEl(ticket.createdAt)),
        h("dt", {}, t("Updated")), h("dd", {}, timeEl(ticket.updatedAt))),
      ticket.description ? h("p", { class: "description" }, ticket.description) : null),
    h("section", { class: "card", "aria-labelledby": "status-h" }, h("h2", { id: "status-h" }, t("Status")),
      h("p", {}, t("Now: {status}", { status: humanise(ticket.status) })),
      statusForm ? statusForm.el : h("p", { class: "muted" }, noMoves)),
    h("section", { "aria-labelledby": "comments-h" },
      h("h2", { id: "comments-h" }, t("Comments ({count})", { count: ticket.comments.length })),
      ticket.comments.length
        ? h("ol", { class: "comments" }, ticket.comments.map((c) => h("li", {},
          h("p", { class: "meta" }, h("strong", {}, c.authorName), " · ", timeEl(c.createdAt)),
          h("p", {}, c.body))))
        : h("p", { class: "muted" }, t("No comments yet."))),
    h("section", { class: "card", "aria-labelledby": "answer-h" }, h("h2", { id: "answer-h" }, t("Answer")), commentForm.el));
}
