// Support tickets: list (filters, customers' tickets for a support desk),
// raise, and one ticket (comments, status, edit).

import { gql, mutate, USER_ERROR } from "../api.js";
import { badge, clear, debounce, h, humanise, table, timeEl, toast } from "../dom.js";
import { buildForm, formDialog } from "../forms.js";
import { navigate } from "../router.js";
import { can, orgPath, ownMembership, state } from "../state.js";

const STATUSES = ["NEW", "IN_PROGRESS", "WAITING_ON_CUSTOMER", "RESOLVED", "CLOSED"];
const KINDS = ["INCIDENT", "REQUEST"];
const PRIORITIES = ["LOW", "NORMAL", "HIGH", "URGENT"];
const options = (values) => values.map((v) => [v, humanise(v)]);

const TICKETS = `query Tickets($org: ID!, $descendants: Boolean!, $status: TicketStatus, $type: TicketKind,
  $priority: TicketPriority, $search: String, $after: String) {
  tickets(organisationId: $org, includeDescendants: $descendants, status: $status, type: $type,
    priority: $priority, search: $search, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id number subject status type priority updatedAt reporterName organisation { id name } }
  }
}`;

const TICKET = `query Ticket($id: ID!) {
  ticket(id: $id) {
    id number subject description status type priority createdAt updatedAt resolvedAt closedAt
    reporterName organisation { id name }
    comments { id body createdAt authorName }
  }
}`;

function raiseDialog(org) {
  formDialog(`Raise a ticket with ${org.name}'s support`, {
    label: "Raise a ticket",
    submitLabel: "Raise ticket",
    fields: [
      { row: [
        { name: "type", label: "Type", type: "select", options: [["INCIDENT", "Incident (something is broken)"], ["REQUEST", "Request (please do something)"]], value: "INCIDENT" },
        { name: "priority", label: "Priority", type: "select", options: options(PRIORITIES), value: "NORMAL" },
      ] },
      { name: "subject", label: "Subject", required: true, autofocus: true },
      { name: "description", label: "Description", type: "textarea", hint: "What happened, since when, and who is affected." },
    ],
    onSubmit: (input) => mutate(`mutation Raise($input: CreateTicketInput!) { createTicket(input: $input) { ticket { id number } ${USER_ERROR} } }`,
      { input: { organisationId: org.id, ...input, subject: input.subject.trim() } }, "createTicket"),
    onSuccess: (payload) => {
      toast(`Ticket #${payload.ticket.number} raised.`);
      navigate(orgPath(`/tickets/${encodeURIComponent(payload.ticket.id)}`));
    },
  });
}

export async function list(section, params, { current }) {
  const org = state.org;
  const access = ownMembership()?.ticketAccess;
  const desk = org.kind !== "CUSTOMER" && (access === "ACCOUNT" || access === "ADMIN" || can("CUSTOMERS_MANAGE"));
  const filters = { status: "", type: "", priority: "", search: "", descendants: false };
  const results = h("div", {});
  const summary = h("p", { "aria-live": "polite" });
  const more = h("button", { type: "button", hidden: true }, "Load more");
  let cursor = null;
  let shown = 0;
  let addRows;

  const row = (t) => [
    h("span", {}, h("a", { href: orgPath(`/tickets/${encodeURIComponent(t.id)}`) }, `#${t.number} ${t.subject}`)),
    badge(t.status),
    humanise(t.type),
    badge(t.priority),
    t.reporterName || "—",
    ...(filters.descendants ? [t.organisation.name] : []),
    timeEl(t.updatedAt),
  ];
  async function load(append = false) {
    const { tickets } = await gql(TICKETS, {
      org: org.id,
      descendants: filters.descendants,
      status: filters.status || null,
      type: filters.type || null,
      priority: filters.priority || null,
      search: filters.search.trim() || null,
      after: append ? cursor : null,
    });
    if (!current()) return;
    cursor = tickets.pageInfo.endCursor;
    if (append) {
      addRows(tickets.nodes.map(row));
      shown += tickets.nodes.length;
    } else {
      const columns = ["Ticket", "Status", "Type", "Priority", "Reporter", ...(filters.descendants ? ["Organisation"] : []), "Updated"];
      const t = table(columns, tickets.nodes.map(row), { caption: "Tickets", empty: "No tickets match." });
      addRows = t.addRows;
      shown = tickets.nodes.length;
      clear(results, t.el);
    }
    summary.textContent = `Showing ${shown} of ${tickets.totalCount} tickets.`;
    more.hidden = !tickets.pageInfo.hasNextPage;
  }
  more.addEventListener("click", () => load(true));
  const set = (name) => (e) => {
    filters[name] = e.target.type === "checkbox" ? e.target.checked : e.target.value;
    load();
  };
  const select = (id, label, name, values) => h("div", { class: "field" }, h("label", { for: id }, label),
    h("select", { id, onchange: set(name) }, h("option", { value: "" }, "Any"), options(values).map(([v, l]) => h("option", { value: v }, l))));

  clear(section,
    h("div", { class: "page-head" },
      h("h1", {}, "Tickets"),
      h("button", { type: "button", class: "primary", onclick: () => raiseDialog(org) }, "Raise a ticket")),
    h("form", { class: "filters", role: "search", "aria-label": "Filter tickets", onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" }, h("label", { for: "ticket-search" }, "Search"),
        h("input", { id: "ticket-search", type: "search", placeholder: "Subject, description, number or organisation", oninput: debounce(set("search")) })),
      select("ticket-status", "Status", "status", STATUSES),
      select("ticket-type", "Type", "type", KINDS),
      select("ticket-priority", "Priority", "priority", PRIORITIES),
      desk ? h("div", { class: "check" }, h("input", { id: "ticket-descendants", type: "checkbox", onchange: set("descendants") }),
        h("label", { for: "ticket-descendants" }, "Include customers' tickets")) : null),
    results,
    h("div", { class: "list-footer" }, summary, more));
  await load();
}

export async function detail(section, params, { current }) {
  const { ticket: t } = await gql(TICKET, { id: params.ticket });
  if (!current()) return;
  if (!t) {
    clear(section, h("h1", {}, "Ticket not found"), h("p", {}, h("a", { href: orgPath("/tickets") }, "Back to tickets")));
    return;
  }
  const rerender = () => detail(section, params, { current });
  const statusForm = buildForm({
    label: "Change status",
    submitLabel: "Change status",
    fields: [{ name: "status", label: "Status", type: "select", options: options(STATUSES), value: t.status }],
    onSubmit: ({ status }) => mutate(`mutation Status($input: ChangeTicketStatusInput!) { changeTicketStatus(input: $input) { ticket { id status } ${USER_ERROR} } }`,
      { input: { ticketId: t.id, status } }, "changeTicketStatus"),
    onSuccess: (payload) => {
      toast(`Status: ${humanise(payload.ticket.status)}.`);
      rerender();
    },
  });
  const commentForm = buildForm({
    label: "Add a comment",
    submitLabel: "Add comment",
    fields: [{ name: "body", label: "Your answer", type: "textarea", required: true }],
    onSubmit: ({ body }) => mutate(`mutation Comment($input: AddTicketCommentInput!) { addTicketComment(input: $input) { comment { id } ${USER_ERROR} } }`,
      { input: { ticketId: t.id, body } }, "addTicketComment"),
    onSuccess: () => {
      toast("Comment added.");
      rerender();
    },
  });
  const edit = () => formDialog(`Edit ticket #${t.number}`, {
    label: "Edit ticket",
    fields: [
      { name: "subject", label: "Subject", required: true, value: t.subject },
      { row: [
        { name: "type", label: "Type", type: "select", options: options(KINDS), value: t.type },
        { name: "priority", label: "Priority", type: "select", options: options(PRIORITIES), value: t.priority },
      ] },
      { name: "description", label: "Description", type: "textarea", value: t.description },
    ],
    onSubmit: (values) => mutate(`mutation Edit($input: UpdateTicketInput!) { updateTicket(input: $input) { ticket { id } ${USER_ERROR} } }`,
      { input: { ticketId: t.id, ...values } }, "updateTicket"),
    onSuccess: () => {
      toast("Ticket saved.");
      rerender();
    },
  });
  clear(section,
    h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("a", { href: orgPath("/tickets") }, "Tickets"), ` › #${t.number}`),
    h("div", { class: "page-head" },
      h("h1", {}, `#${t.number} ${t.subject}`),
      h("div", { class: "actions" }, badge(t.status), h("button", { type: "button", onclick: edit }, "Edit"))),
    h("section", { class: "card", "aria-labelledby": "ticket-h" },
      h("h2", { id: "ticket-h", class: "visually-hidden" }, "Ticket"),
      h("dl", { class: "facts" },
        h("dt", {}, "Organisation"), h("dd", {}, t.organisation.name),
        h("dt", {}, "Type"), h("dd", {}, humanise(t.type)),
        h("dt", {}, "Priority"), h("dd", {}, badge(t.priority)),
        h("dt", {}, "Reporter"), h("dd", {}, t.reporterName || "—"),
        h("dt", {}, "Raised"), h("dd", {}, timeEl(t.createdAt)),
        h("dt", {}, "Updated"), h("dd", {}, timeEl(t.updatedAt))),
      t.description ? h("p", { class: "description" }, t.description) : null),
    h("section", { class: "card", "aria-labelledby": "status-h" }, h("h2", { id: "status-h" }, "Status"), statusForm.el),
    h("section", { "aria-labelledby": "comments-h" },
      h("h2", { id: "comments-h" }, `Comments (${t.comments.length})`),
      t.comments.length
        ? h("ol", { class: "comments" }, t.comments.map((c) => h("li", {},
          h("p", { class: "meta" }, h("strong", {}, c.authorName), " · ", timeEl(c.createdAt)),
          h("p", {}, c.body))))
        : h("p", { class: "muted" }, "No comments yet.")),
    h("section", { class: "card", "aria-labelledby": "answer-h" }, h("h2", { id: "answer-h" }, "Answer"), commentForm.el));
}
