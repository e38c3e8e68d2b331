// Organisation settings: name and sign-in policy; for a customer managed
// from above, its seat limit and suspension; the brand (screens/brand.js).

import { mutate, USER_ERROR } from "../api.js";
import { badge, clear, h, toast } from "../dom.js";
import { buildForm, confirmDialog } from "../forms.js";
import { t, tx } from "../i18n.js";
import { can, ownMembership, refreshOrganisation, state } from "../state.js";
import { reload } from "../router.js";
import { brandCard } from "./brand.js";

const ORG_FIELDS = `organisation { id name status requireTwoFactor allowEmailCodes requireTotpForAdmins requirePasskeysForAdmins ticketAccessAfterFirstSignIn seats { limit used available } } ${USER_ERROR}`;

export async function organisationSettings(section) {
  const org = state.org;
  const after = async (message) => {
    toast(message);
    await refreshOrganisation();
    reload();
  };
  const form = buildForm({
    label: t("Organisation settings"),
    submitLabel: t("Save settings"),
    fields: [
      { name: "name", label: t("Name"), required: true, value: org.name, autocomplete: "organization" },
      h("h3", {}, t("Sign-in policy")),
      { name: "requireTwoFactor", label: t("Members must use two-step verification"), type: "checkbox", value: org.requireTwoFactor },
      { name: "allowEmailCodes", label: t("Emailed codes count as a second factor"), type: "checkbox", value: org.allowEmailCodes },
      { name: "requireTotpForAdmins", label: t("Owners and admins must use an authenticator app"), type: "checkbox", value: org.requireTotpForAdmins },
      { name: "requirePasskeysForAdmins", label: t("Owners and admins must sign in with a passkey"), type: "checkbox", value: org.requirePasskeysForAdmins, hint: t("Phishing-resistant: an app, a code or a password alone no longer opens this organisation to them.") },
      h("h3", {}, t("Tickets")),
      { name: "ticketAccessAfterFirstSignIn", label: t("Grant ticket access only once a person has signed in"), type: "checkbox", value: org.ticketAccessAfterFirstSignIn, hint: t("Ticket access chosen when adding someone waits for their first sign-in.") },
    ],
    onSubmit: (values) => mutate(`mutation Update($input: UpdateOrganisationInput!) { updateOrganisation(input: $input) { ${ORG_FIELDS} } }`,
      { input: { organisationId: org.id, ...values, name: values.name.trim() } }, "updateOrganisation"),
    onSuccess: () => after(t("Settings saved.")),
  });
  const cards = [h("section", { class: "card", "aria-labelledby": "org-h" }, h("h2", { id: "org-h" }, t("Organisation")), form.el)];

  // A customer administered from above (not one's own organisation).
  const fromAbove = org.parent && can("CUSTOMERS_MANAGE") && !ownMembership(org.id);
  if (fromAbove) {
    const seats = buildForm({
      label: t("Seat limit"),
      submitLabel: t("Save seat limit"),
      fields: [{ name: "limit", label: t("Most users allowed"), type: "number", min: "0", value: org.seats.limit ?? "", hint: t("{used} in use (members plus pending invitations). Leave empty for no limit.", { used: org.seats.used }) }],
      onSubmit: ({ limit }) => mutate(`mutation Seats($input: SetSeatLimitInput!) { setSeatLimit(input: $input) { ${ORG_FIELDS} } }`,
        { input: { organisationId: org.id, limit } }, "setSeatLimit"),
      onSuccess: () => after(t("Seat limit saved.")),
    });
    cards.push(h("section", { class: "card", "aria-labelledby": "seats-h" }, h("h2", { id: "seats-h" }, t("Seats")), seats.el));

    const suspended = org.status === "SUSPENDED";
    const toggle = async () => {
      const ok = await confirmDialog(suspended
        ? { title: t("Reactivate {name}?", { name: org.name }), message: t("Its members can sign in again."), confirmLabel: t("Reactivate") }
        : { title: t("Suspend {name}?", { name: org.name }), message: t("Nobody in it or below it can sign in until you reactivate it. Nothing is deleted."), confirmLabel: t("Suspend"), danger: true });
      if (!ok) return;
      // Each operation written out in full: the trusted-documents manifest needs its exact text.
      const [field, query] = suspended
        ? ["reactivateOrganisation", `mutation Reactivate($input: OrganisationInput!) { reactivateOrganisation(input: $input) { ${ORG_FIELDS} } }`]
        : ["suspendOrganisation", `mutation Suspend($input: OrganisationInput!) { suspendOrganisation(input: $input) { ${ORG_FIELDS} } }`];
      const payload = await mutate(query, { input: { organisationId: org.id } }, field);
      if (payload.errors.length) toast(payload.errors[0].message);
      else after(suspended ? t("Reactivated.") : t("Suspended."));
    };
    cards.push(h("section", { class: "card", "aria-labelledby": "status-h" },
      h("h2", { id: "status-h" }, t("Status")),
      h("p", {}, tx("This organisation is {status}.", { status: badge(org.status) })),
      h("button", { type: "button", class: suspended ? "primary" : "danger", onclick: toggle }, suspended ? t("Reactivate") : t("Suspend"))));
  }
  if (can("BRAND_MANAGE")) cards.push(await brandCard(org));
  clear(section, h("h1", {}, t("Settings of {name}", { name: org.name })), cards);
}
