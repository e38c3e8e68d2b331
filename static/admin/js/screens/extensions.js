// Phone extensions: the organisation's list and one extension (admins), and
// "My phone" (a member's own extension): do-not-disturb, forwarding, calls.

import { gql, mutate, USER_ERROR } from "../api.js";
import {
  clear, debounce, emptyState, formatDuration, formatNumber, h, humanise, listRegion, table, timeEl, toast,
} from "../dom.js";
import { buildForm, confirmDialog, formDialog } from "../forms.js";
import { N_, t, tn } from "../i18n.js";
import { navigate } from "../router.js";
import { can, orgPath, state } from "../state.js";

const CONDITIONS = [
  ["ALWAYS", N_("Always forward")],
  ["BUSY", N_("When busy")],
  ["NO_ANSWER", N_("When there is no answer")],
  ["UNAVAILABLE", N_("When the phone is unreachable")],
];
const EXTENSION = `id number label doNotDisturb organisation { id name }
  member { id user { displayName email } }
  forwardingRules { condition destination ringSeconds internal }`;
const CALL = "id startedAt direction remoteNumber durationSeconds recordingDeletedAt recording { format durationSeconds sizeBytes }";

function forwardingSummary(rules) {
  if (!rules.length) return t("No forwarding");
  return rules.map((r) => `${t(CONDITIONS.find(([c]) => c === r.condition)[1])} → ${r.destination}`).join("; ");
}

function dndBadge(on) {
  return h("span", { class: on ? "badge warn" : "badge ok" }, on ? t("Do not disturb") : t("Available"));
}

async function membersOf(orgId) {
  const { members } = await gql(`query Members($org: ID!) {
    members(organisationId: $org, status: ACTIVE, first: 100) { nodes { id user { displayName email } } } }`, { org: orgId });
  return members.nodes;
}

// --- the organisation's extensions -------------------------------------------------

export async function list(section, params, { current }) {
  const org = state.org;
  const manage = can("EXTENSIONS_MANAGE");
  const filters = { search: "", assigned: "" };
  const results = listRegion(t("Loading extensions…"), h("p", { class: "muted", "aria-live": "polite" }));
  /** Nothing yet (and how to add one) apart from nothing matching the filters. */
  const empty = () => {
    if (filters.search.trim() || filters.assigned) {
      return emptyState(t("No extensions match these filters."), { hint: t("Change or clear the filters to see more.") });
    }
    return emptyState(t("No extensions yet."), manage
      ? { hint: t("Add an extension and assign it to someone: their calls ring there."),
        action: h("button", { type: "button", onclick: () => create() }, t("Add the first extension")) }
      : { hint: t("An administrator of {name} can add them.", { name: org.name }) });
  };
  async function load() {
    results.loading();
    const { extensions } = await gql(`query Extensions($org: ID!, $search: String, $assigned: Boolean) {
      extensions(organisationId: $org, search: $search, assigned: $assigned, first: 100) { totalCount nodes { ${EXTENSION} } } }`, {
      org: org.id, search: filters.search.trim() || null, assigned: filters.assigned === "" ? null : filters.assigned === "yes",
    });
    if (!current()) return;
    const rows = extensions.nodes.map((e) => [
      h("a", { href: orgPath(`/extensions/${encodeURIComponent(e.id)}`) }, e.number),
      e.label || "—",
      e.member ? e.member.user.displayName : h("span", { class: "muted" }, t("Unassigned")),
      dndBadge(e.doNotDisturb),
      forwardingSummary(e.forwardingRules),
    ]);
    results.show(table([t("Number"), t("Label"), t("Assigned to"), t("Status"), t("Forwarding")], rows, { caption: t("Extensions"), empty: empty() }).el,
      tn("{count} extension.", "{count} extensions.", extensions.totalCount, { count: formatNumber(extensions.totalCount) }));
  }
  const create = async () => {
    const members = await membersOf(org.id);
    formDialog(t("Add an extension"), {
      label: t("Add extension"),
      submitLabel: t("Add extension"),
      fields: [
        { row: [
          { name: "number", label: t("Number"), required: true, inputmode: "numeric", autofocus: true, hint: t("2 to 8 digits.") },
          { name: "label", label: t("Label") },
        ] },
        { name: "membershipId", label: t("Assign to"), type: "select", options: [["", t("Nobody yet")], ...members.map((m) => [m.id, `${m.user.displayName} (${m.user.email})`])] },
      ],
      onSubmit: (values) => mutate(`mutation Create($input: CreateExtensionInput!) { createExtension(input: $input) { extension { id } ${USER_ERROR} } }`,
        { input: { organisationId: org.id, number: values.number.trim(), label: values.label, membershipId: values.membershipId || null } }, "createExtension"),
      onSuccess: () => {
        toast(t("Extension added."));
        load();
      },
    });
  };
  clear(section,
    h("div", { class: "page-head" }, h("h1", {}, t("Extensions")),
      manage ? h("button", { type: "button", class: "primary", onclick: create }, t("Add extension")) : null),
    h("form", { class: "filters", role: "search", "aria-label": t("Filter extensions"), onsubmit: (e) => e.preventDefault() },
      h("div", { class: "field grow" }, h("label", { for: "ext-search" }, t("Search")),
        h("input", { id: "ext-search", type: "search", placeholder: t("Number or label"), oninput: debounce((e) => { filters.search = e.target.value; load(); }) })),
      h("div", { class: "field" }, h("label", { for: "ext-assigned" }, t("Assigned")),
        h("select", { id: "ext-assigned", onchange: (e) => { filters.assigned = e.target.value; load(); } },
          h("option", { value: "" }, t("Any")), h("option", { value: "yes" }, t("Assigned")), h("option", { value: "no" }, t("Unassigned"))))),
    results.el, results.status);
  await load();
}

// --- one extension -----------------------------------------------------------------

function dndCard(ext, onChange) {
  const status = h("span", { class: "muted" });
  const button = h("button", { type: "button", role: "switch", id: "dnd-switch", "aria-labelledby": "dnd-label" });
  const show = (on) => {
    button.setAttribute("aria-checked", String(on));
    button.textContent = on ? t("On") : t("Off");
    button.className = on ? "primary" : "";
    status.textContent = on ? t("Calls are not put through.") : t("Calls ring as usual.");
  };
  show(ext.doNotDisturb);
  button.addEventListener("click", async () => {
    const enabled = button.getAttribute("aria-checked") !== "true";
    button.disabled = true;
    try {
      const payload = await mutate(`mutation DND($input: SetDoNotDisturbInput!) { setDoNotDisturb(input: $input) { extension { id doNotDisturb } ${USER_ERROR} } }`,
        { input: { extensionId: ext.id, enabled } }, "setDoNotDisturb");
      if (payload.errors.length) toast(payload.errors[0].message);
      else {
        show(payload.extension.doNotDisturb);
        toast(payload.extension.doNotDisturb ? t("Do not disturb is on.") : t("Do not disturb is off."));
        onChange?.(payload.extension.doNotDisturb);
      }
    } catch (error) {
      toast(error.message);
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card", "aria-labelledby": "dnd-h" },
    h("h2", { id: "dnd-h" }, t("Do not disturb")),
    h("div", { class: "switch-row" }, h("span", { id: "dnd-label", class: "label" }, t("Do not disturb")), button, status));
}

function forwardingCard(ext) {
  const byCondition = Object.fromEntries(ext.forwardingRules.map((r) => [r.condition, r]));
  const fields = CONDITIONS.flatMap(([condition, label]) => {
    const rule = byCondition[condition];
    return [
      { name: `on_${condition}`, label: t(label), type: "checkbox", value: !!rule },
      { row: [
        { name: `to_${condition}`, label: t("{condition}: destination", { condition: t(label) }), value: rule?.destination ?? "", hint: t("An extension number here or a phone number.") },
        ...(condition === "NO_ANSWER" ? [{ name: `ring_${condition}`, label: t("Ring for (seconds)"), type: "number", min: "5", max: "120", value: rule?.ringSeconds ?? 20 }] : []),
      ] },
    ];
  });
  const form = buildForm({
    label: t("Forwarding rules"),
    submitLabel: t("Save forwarding"),
    fields,
    onSubmit: (values) => {
      const rules = CONDITIONS.filter(([c]) => values[`on_${c}`]).map(([c]) => ({
        condition: c, destination: values[`to_${c}`].trim(), ringSeconds: values[`ring_${c}`] ?? 20,
      }));
      return mutate(`mutation Forwarding($input: SetForwardingRulesInput!) { setForwardingRules(input: $input) { extension { id } ${USER_ERROR} } }`,
        { input: { extensionId: ext.id, rules } }, "setForwardingRules");
    },
    onSuccess: () => toast(t("Forwarding saved.")),
  });
  // Show a condition's destination only while the condition is on.
  for (const [condition] of CONDITIONS) {
    const toggle = form.fields[`on_${condition}`].input;
    const details = [form.fields[`to_${condition}`], form.fields[`ring_${condition}`]].filter(Boolean);
    const sync = () => {
      for (const f of details) {
        f.spec.hidden = !toggle.checked;
        f.input.closest(".field").hidden = !toggle.checked;
      }
      details[0].input.closest(".row").hidden = !toggle.checked;
    };
    toggle.addEventListener("change", sync);
    sync();
  }
  return h("section", { class: "card", "aria-labelledby": "fwd-h" }, h("h2", { id: "fwd-h" }, t("Forwarding")), form.el);
}

async function callsCard(ext, { own, current }) {
  const data = own
    ? await gql(`query Calls { ownCallRecords(first: 100) { totalCount nodes { ${CALL} extension { id } } } }`)
    : await gql(`query Calls($org: ID!, $ext: ID!) { callRecords(organisationId: $org, extensionId: $ext, first: 100) { totalCount nodes { ${CALL} } } }`,
      { org: ext.organisation.id, ext: ext.id });
  if (!current()) return null;
  const calls = (own ? data.ownCallRecords : data.callRecords).nodes
    .filter((c) => !own || !c.extension || c.extension.id === ext.id)
    .reverse(); // newest first
  const mayDelete = can("RECORDINGS_DELETE");
  const box = h("section", { class: "card", "aria-labelledby": "calls-h" }, h("h2", { id: "calls-h" }, t("Calls")));
  const remove = async (call) => {
    if (!await confirmDialog({ title: t("Delete this recording?"), message: t("The recording of the call with {number} is deleted for good. The call stays listed.", { number: call.remoteNumber }), confirmLabel: t("Delete recording"), danger: true })) return;
    const payload = await mutate(`mutation DeleteRecording($input: CallRecordInput!) { deleteRecording(input: $input) { callRecord { id } ${USER_ERROR} } }`,
      { input: { callRecordId: call.id } }, "deleteRecording");
    toast(payload.errors.length ? payload.errors[0].message : t("Recording deleted."));
    if (!payload.errors.length) {
      call.recording = null;
      call.recordingDeletedAt = new Date().toISOString();
      render();
    }
  };
  const recordingCell = (call) => {
    if (call.recording) {
      return h("span", {}, `${call.recording.format}, ${formatDuration(call.recording.durationSeconds)}`,
        mayDelete ? [" ", h("button", { type: "button", class: "danger", onclick: () => remove(call), "aria-label": t("Delete the recording of the call with {number}", { number: call.remoteNumber }) }, t("Delete"))] : null);
    }
    return call.recordingDeletedAt ? h("span", { class: "muted" }, t("Deleted")) : h("span", { class: "muted" }, t("None"));
  };
  const render = () => clear(box, h("h2", { id: "calls-h" }, t("Calls")),
    table([t("When"), t("Direction"), t("Number"), t("Duration"), t("Recording")], calls.map((c) => [
      timeEl(c.startedAt), humanise(c.direction), c.remoteNumber, formatDuration(c.durationSeconds), recordingCell(c),
    ]), { caption: t("Calls"), empty: emptyState(t("No calls yet."), { hint: t("Calls to and from this extension are listed here.") }) }).el);
  render();
  return box;
}

async function adminCards(ext, rerender) {
  const members = await membersOf(ext.organisation.id);
  const settings = buildForm({
    label: t("Extension settings"),
    submitLabel: t("Save"),
    fields: [{ row: [
      { name: "number", label: t("Number"), required: true, value: ext.number, inputmode: "numeric" },
      { name: "label", label: t("Label"), value: ext.label },
    ] }],
    onSubmit: (values) => mutate(`mutation Update($input: UpdateExtensionInput!) { updateExtension(input: $input) { extension { id } ${USER_ERROR} } }`,
      { input: { extensionId: ext.id, number: values.number.trim(), label: values.label } }, "updateExtension"),
    onSuccess: () => toast(t("Extension saved.")),
  });
  const assign = buildForm({
    label: t("Assign extension"),
    submitLabel: t("Assign"),
    fields: [{ name: "membershipId", label: t("Assigned to"), type: "select", value: ext.member?.id ?? "", options: [["", t("Nobody")], ...members.map((m) => [m.id, `${m.user.displayName} (${m.user.email})`])], hint: t("A member's previous extension is freed.") }],
    onSubmit: ({ membershipId }) => mutate(`mutation Assign($input: AssignExtensionInput!) { assignExtension(input: $input) { extension { id } ${USER_ERROR} } }`,
      { input: { extensionId: ext.id, membershipId: membershipId || null } }, "assignExtension"),
    onSuccess: () => {
      toast(t("Assignment saved."));
      rerender(); // the page says who has it now
    },
  });
  const remove = async () => {
    if (!await confirmDialog({ title: t("Delete extension {number}?", { number: ext.number }), message: t("Its forwarding rules and call records go too, and other extensions stop forwarding to it."), confirmLabel: t("Delete extension"), danger: true })) return;
    const payload = await mutate(`mutation Delete($input: ExtensionInput!) { deleteExtension(input: $input) { deletedExtensionId ${USER_ERROR} } }`,
      { input: { extensionId: ext.id } }, "deleteExtension");
    if (payload.errors.length) toast(payload.errors[0].message);
    else {
      toast(t("Extension {number} deleted.", { number: ext.number }));
      navigate(orgPath("/extensions"));
    }
  };
  return [
    h("section", { class: "card", "aria-labelledby": "ext-settings-h" }, h("h2", { id: "ext-settings-h" }, t("Number and label")), settings.el),
    h("section", { class: "card", "aria-labelledby": "ext-assign-h" }, h("h2", { id: "ext-assign-h" }, t("Assignment")), assign.el,
      h("div", { class: "actions" }, h("button", { type: "button", class: "danger", onclick: remove }, t("Delete extension")))),
  ];
}

async function extensionPage(section, ext, { own, current, rerender }) {
  const admin = !own && can("EXTENSIONS_MANAGE");
  let headBadge = dndBadge(ext.doNotDisturb);
  const cards = [dndCard(ext, (on) => {
    const next = dndBadge(on);
    headBadge.replaceWith(next);
    headBadge = next;
  }), forwardingCard(ext)];
  if (admin) cards.push(...await adminCards(ext, rerender));
  cards.push(await callsCard(ext, { own, current }));
  if (!current()) return;
  const title = own ? t("My phone: extension {number}", { number: ext.number }) : `${t("Extension {number}", { number: ext.number })}${ext.label ? ` · ${ext.label}` : ""}`;
  clear(section,
    own ? null : h("nav", { class: "breadcrumb", "aria-label": t("Breadcrumb") }, h("a", { href: orgPath("/extensions") }, t("Extensions")), ` › ${ext.number}`),
    h("div", { class: "page-head" }, h("h1", {}, title), headBadge),
    ext.member && !own ? h("p", { class: "muted" }, t("Assigned to {name} ({email}).", { name: ext.member.user.displayName, email: ext.member.user.email })) : null,
    cards);
}

export async function detail(section, params, ctx) {
  const { node } = await gql(`query Extension($id: ID!) { node(id: $id) { ... on Extension { ${EXTENSION} } } }`, { id: params.extension });
  if (!ctx.current()) return;
  if (!node?.number) {
    clear(section, h("h1", {}, t("Extension not found")), h("p", {}, h("a", { href: orgPath("/extensions") }, t("Back to extensions"))));
    return;
  }
  await extensionPage(section, node, { own: false, current: ctx.current, rerender: () => detail(section, params, ctx) });
}

export async function myPhone(section, params, ctx) {
  const { ownExtensions } = await gql(`query Own { ownExtensions(first: 20) { nodes { ${EXTENSION} } } }`);
  if (!ctx.current()) return;
  const ext = ownExtensions.nodes.find((e) => e.organisation.id === state.org.id);
  if (!ext) {
    clear(section, h("h1", {}, t("My phone")), h("p", { class: "notice" }, t("You have no extension in {name} yet. An administrator can assign you one.", { name: state.org.name })));
    return;
  }
  await extensionPage(section, ext, { own: true, current: ctx.current });
}
