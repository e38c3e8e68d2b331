"""What the property asks of the API: the node selections, the listings, and
every mutation that takes an id, with the permission each needs."""

from __future__ import annotations

from dataclasses import dataclass

# Refusals that need a request each, and mutations, are sampled per example (every one
# of them every time would take minutes); over the examples all of them come up.
FORBIDDEN_SAMPLE = 6  # "seen but not permitted" mutations (FORBIDDEN ends the request)
# refused connections per connection and kind of refusal (twice as many for `members`)
REFUSED_SAMPLE = {"NOT_FOUND": 2, "FORBIDDEN": 1}
ALLOWED_SAMPLE = 3  # permitted connections, per connection (all with includeDescendants)
MUTATION_SAMPLE = 2  # objects out of reach per mutation (batched)
BATCH = 25  # aliased fields per request (the server allows 30)
# Page size of every connection asked for: above any list a world can hold (at most 21
# memberships), small enough for BATCH of them to stay under the server's cost limit.
PAGE = 25

# --- the operations -----------------------------------------------------------------------

REF = "__typename id"
# Per type, what node(id:) asks for besides the id: every object it points at.
NODE_SELECTIONS = {
    "Organisation": "parent { ...R }",
    "Membership": "organisation { ...R } user { ...R memberships { ...R organisation { ...R } } }",
    "User": "memberships { ...R organisation { ...R } }",
    "Invitation": "organisation { ...R } membership { ...R } invitedBy { ...R }",
    "AuditEvent": "organisation { ...R }",
    "ApiToken": "organisation { ...R } createdBy { ...R }",
    "ScimToken": "organisation { ...R } createdBy { ...R }",
    "OidcClient": "organisation { ...R } createdBy { ...R } accessRule { organisations { ...R } }",
    "Contact": "organisation { ...R } user { ...R }",
    "Ticket": "organisation { ...R } reporter { ...R } comments { ...R author { ...R } }",
    "TicketComment": "author { ...R }",
    "Extension": "organisation { ...R } member { ...R organisation { ...R } }",
    "CallRecord": "extension { ...R organisation { ...R } }",
    "WebhookEndpoint": f"deliveries(first: {PAGE}) {{ totalCount nodes {{ ...R payload }} }}",
    "WebhookDelivery": "payload",
    "Session": "",
}


# Asked together, these would clash: the same field with different nullability
# (AuditEvent.organisation and Contact.user may be null, the others' may not).
# (Webhook endpoints go alone: their deliveries connection is costly.)
_ALONE = ("AuditEvent", "Contact", "WebhookEndpoint")
NODE_GROUPS = (tuple(t for t in NODE_SELECTIONS if t not in _ALONE), *((t,) for t in _ALONE))


def node_fragments(types: tuple[str, ...]) -> str:
    """Fragments for node(id:) lookups of objects of these types."""
    inline = " ".join(f"... on {t} {{ {NODE_SELECTIONS[t]} }}" for t in types if NODE_SELECTIONS[t])
    if not inline:
        return f"fragment F on Node {{ {REF} }}"
    return f"fragment R on Node {{ {REF} }} fragment F on Node {{ {REF} {inline} }}"


VIEWER = f"""{{ viewer {{
  user {{ {REF} memberships {{ {REF} organisation {{ {REF} }} }} }}
  memberships {{ {REF} organisation {{ {REF} }} }}
  awaitingTwoFactor {{ {REF} organisation {{ {REF} }} }}
}} }}"""
ORGANISATIONS = f"{{ organisations(first: {PAGE}) {{ totalCount nodes {{ {REF} }} }} }}"
ORGANISATION_FIELD = (
    f'organisation(id: "$ID") {{ {REF} parent {{ {REF} }} viewerPermissions '
    f"children(first: {PAGE}) {{ totalCount nodes {{ {REF} }} }} }}"
)
ROW = f"totalCount nodes {{ {REF} organisation {{ {REF} }} }}"
MEMBER_ROW = f"totalCount nodes {{ {REF} organisation {{ {REF} }} user {{ {REF} }} }}"


@dataclass(frozen=True)
class Listing:
    """A root connection of one organisation: the field, and the permission it needs."""

    name: str
    # "DESK": some ticket access; "TICKET_ADMIN": ADMIN ticket access (core/actor.py
    # decide_ticket_access_admin); otherwise a role permission
    permission: str
    field: str


LISTINGS = (
    Listing(
        "members",
        "MEMBERS_VIEW",
        f'members(organisationId: "$ID", first: {PAGE}) {{ {MEMBER_ROW} }}',
    ),
    Listing(
        "membersBelow",
        "MEMBERS_VIEW",
        f'members(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ {MEMBER_ROW} }}',
    ),
    Listing(
        "invitations",
        "MEMBERS_MANAGE",
        f'invitations(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} invitedBy {{ {REF} }} }} }}',
    ),
    Listing(
        "auditEvents",
        "AUDIT_VIEW",
        f'auditEvents(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ {ROW} }}',
    ),
    Listing(
        "apiTokens",
        "API_TOKENS_MANAGE",
        f'apiTokens(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} createdBy {{ {REF} }} }} }}',
    ),
    Listing(
        "scimTokens",
        "SCIM_MANAGE",
        f'scimTokens(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} createdBy {{ {REF} }} }} }}',
    ),
    Listing(
        "oidcClients",
        "OIDC_CLIENTS_MANAGE",
        f'oidcClients(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} createdBy {{ {REF} }} }} }}',
    ),
    Listing(
        "contacts", "CONTACTS_VIEW", f'contacts(organisationId: "$ID", first: {PAGE}) {{ {ROW} }}'
    ),
    Listing(
        "extensions",
        "EXTENSIONS_VIEW",
        f'extensions(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} member {{ {REF} }} }} }}',
    ),
    Listing(
        "callRecords",
        "EXTENSIONS_VIEW",
        f'callRecords(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} extension {{ {REF} }} }} }}',
    ),
    Listing(
        "webhookEndpoints",
        "WEBHOOKS_MANAGE",
        f'webhookEndpoints(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ {REF} }} }}',
    ),
    Listing(
        "tickets",
        "DESK",
        f'tickets(organisationId: "$ID", includeDescendants: true, first: {PAGE}) {{ totalCount nodes {{ {REF} organisation {{ {REF} }} reporter {{ {REF} }} }} }}',
    ),
    Listing(
        "ticketAccessMembers",
        "TICKET_ADMIN",
        # The narrow type has no node id: its membershipId stands in (aliased).
        f'ticketAccessMembers(organisationId: "$ID", first: {PAGE}) {{ totalCount nodes {{ id: membershipId }} }}',
    ),
)
LISTING = {listing.name: listing for listing in LISTINGS}


@dataclass(frozen=True)
class Mutation:
    """A mutation aimed at one object: `$ID` is replaced by the object's global id."""

    name: str
    target: str  # the GraphQL type of the object named by the id
    permission: str | None  # None: any signed-in caller; "DESK": ticket access
    input: str
    not_impersonating: bool = False
    not_for_tokens: bool = False


def _m(name: str, target: str, permission: str | None, input: str, **flags: bool) -> Mutation:
    return Mutation(name, target, permission, input, **flags)


SOON = "$SOON"  # replaced by a time a few days ahead
MUTATIONS = (
    # organisations
    _m(
        "createOrganisation",
        "Organisation",
        "CUSTOMERS_MANAGE",
        '{parentId: "$ID", name: "Intruder"}',
    ),
    _m(
        "updateOrganisation",
        "Organisation",
        "ORGANISATION_MANAGE",
        '{organisationId: "$ID", name: "Renamed"}',
    ),
    _m("suspendOrganisation", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID"}'),
    _m("reactivateOrganisation", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID"}'),
    _m("setSeatLimit", "Organisation", "CUSTOMERS_MANAGE", '{organisationId: "$ID", limit: 1}'),
    _m(
        "setBrand",
        "Organisation",
        "BRAND_MANAGE",
        '{organisationId: "$ID", portalName: "Intruder Portal"}',
    ),
    _m(
        "inviteUser",
        "Organisation",
        "MEMBERS_MANAGE",
        '{organisationId: "$ID", email: "intruder@example.com", role: MEMBER}',
        not_impersonating=True,
    ),
    _m(
        "createUser",
        "Organisation",
        "MEMBERS_MANAGE",
        '{organisationId: "$ID", email: "created@example.com", role: MEMBER, password: "a perfectly fine passphrase"}',
        not_impersonating=True,
    ),
    _m(
        "createApiToken",
        "Organisation",
        "API_TOKENS_MANAGE",
        f'{{organisationId: "$ID", name: "x", permissions: [ORGANISATION_VIEW], expiresAt: "{SOON}"}}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "createContact",
        "Organisation",
        "CONTACTS_MANAGE",
        '{organisationId: "$ID", firstName: "Eve"}',
    ),
    _m(
        "createTicket",
        "Organisation",
        "DESK",
        '{organisationId: "$ID", type: INCIDENT, subject: "x"}',
    ),
    _m(
        "createExtension",
        "Organisation",
        "EXTENSIONS_MANAGE",
        '{organisationId: "$ID", number: "7777"}',
    ),
    # memberships
    _m(
        "changeRole",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID", role: VIEWER}',
        not_impersonating=True,
    ),
    _m(
        "setFeatureAccess",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID", restrictRecordingDeletion: true}',
        not_impersonating=True,
    ),
    _m("updateMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID", firstName: "Eve"}'),
    _m(
        "changeMemberEmail",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID", newEmail: "intruder@example.com"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m("disableMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m("enableMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m("removeMember", "Membership", "MEMBERS_MANAGE", '{membershipId: "$ID"}'),
    _m(
        "deleteUser",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID"}',
        not_impersonating=True,
    ),
    _m(
        "resetTwoFactor",
        "Membership",
        "MEMBERS_MANAGE",
        '{membershipId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "impersonateUser",
        "Membership",
        "MEMBERS_IMPERSONATE",
        '{membershipId: "$ID", reason: "curious"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "setTicketAccess", "Membership", "TICKETS_USE", '{membershipId: "$ID", ticketAccess: ADMIN}'
    ),
    # invitations
    _m("resendInvitation", "Invitation", "MEMBERS_MANAGE", '{invitationId: "$ID"}'),
    _m("revokeInvitation", "Invitation", "MEMBERS_MANAGE", '{invitationId: "$ID"}'),
    # API tokens
    _m(
        "revokeApiToken",
        "ApiToken",
        "API_TOKENS_MANAGE",
        '{apiTokenId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    # SCIM
    _m(
        "createScimToken",
        "Organisation",
        "SCIM_MANAGE",
        f'{{organisationId: "$ID", name: "x", expiresAt: "{SOON}"}}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "setScimNewPeople",
        "Organisation",
        "SCIM_MANAGE",
        '{organisationId: "$ID", newPeople: SET_PASSWORD_LINK}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "revokeScimToken",
        "ScimToken",
        "SCIM_MANAGE",
        '{scimTokenId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    # OpenID Connect clients
    _m(
        "createOidcClient",
        "Organisation",
        "OIDC_CLIENTS_MANAGE",
        '{organisationId: "$ID", name: "x", redirectUris: ["https://rp.example.net/cb"]}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "updateOidcClient",
        "OidcClient",
        "OIDC_CLIENTS_MANAGE",
        '{oidcClientId: "$ID", name: "x"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "rotateOidcClientSecret",
        "OidcClient",
        "OIDC_CLIENTS_MANAGE",
        '{oidcClientId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "deleteOidcClient",
        "OidcClient",
        "OIDC_CLIENTS_MANAGE",
        '{oidcClientId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    # contacts
    _m("updateContact", "Contact", "CONTACTS_MANAGE", '{contactId: "$ID", notes: "x"}'),
    _m("deleteContact", "Contact", "CONTACTS_MANAGE", '{contactId: "$ID"}'),
    _m("inviteContact", "Contact", "MEMBERS_MANAGE", '{contactId: "$ID"}'),
    # tickets
    _m("updateTicket", "Ticket", "DESK", '{ticketId: "$ID", subject: "x"}'),
    _m("changeTicketStatus", "Ticket", "DESK", '{ticketId: "$ID", status: IN_PROGRESS}'),
    _m("addTicketComment", "Ticket", "DESK", '{ticketId: "$ID", body: "x"}'),
    # extensions and calls
    _m("updateExtension", "Extension", "EXTENSIONS_MANAGE", '{extensionId: "$ID", label: "x"}'),
    _m(
        "assignExtension",
        "Extension",
        "EXTENSIONS_MANAGE",
        '{extensionId: "$ID", membershipId: null}',
    ),
    _m("deleteExtension", "Extension", "EXTENSIONS_MANAGE", '{extensionId: "$ID"}'),
    _m(
        "addCallRecord",
        "Extension",
        "EXTENSIONS_MANAGE",
        f'{{extensionId: "$ID", startedAt: "{SOON}", direction: INBOUND, remoteNumber: "+441234567890", durationSeconds: 5}}',
    ),
    _m("setDoNotDisturb", "Extension", "OWN_EXTENSION", '{extensionId: "$ID", enabled: true}'),
    _m("setForwardingRules", "Extension", "OWN_EXTENSION", '{extensionId: "$ID", rules: []}'),
    _m("deleteRecording", "CallRecord", "RECORDINGS_DELETE", '{callRecordId: "$ID"}'),
    # webhooks
    _m(
        "createWebhook",
        "Organisation",
        "WEBHOOKS_MANAGE",
        '{organisationId: "$ID", url: "https://hooks.example.com/stolen", events: ["member.invited"]}',
        not_impersonating=True,
    ),
    _m(
        "updateWebhook",
        "WebhookEndpoint",
        "WEBHOOKS_MANAGE",
        '{endpointId: "$ID", url: "https://hooks.example.com/stolen"}',
        not_impersonating=True,
    ),
    _m(
        "deleteWebhook",
        "WebhookEndpoint",
        "WEBHOOKS_MANAGE",
        '{endpointId: "$ID"}',
        not_impersonating=True,
    ),
    _m("redeliverWebhook", "WebhookDelivery", "WEBHOOKS_MANAGE", '{deliveryId: "$ID"}'),
    # sessions: only one's own
    _m(
        "revokeSession",
        "Session",
        None,
        '{sessionId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    # passkeys: only one's own
    _m(
        "renamePasskey",
        "Passkey",
        None,
        '{passkeyId: "$ID", name: "Stolen"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
    _m(
        "removePasskey",
        "Passkey",
        None,
        '{passkeyId: "$ID"}',
        not_impersonating=True,
        not_for_tokens=True,
    ),
)
# Mutations whose input holds an id but that need no test here, and why.
EXEMPT_MUTATIONS = {
    "confirmInvitation": "takes a secret token, not an id",
    "resetPassword": "takes a secret token, not an id",
    "confirmSenderAddress": "takes a secret token, not an id",
    "verifyTwoFactor": "takes a secret challenge, not an id",
    "sendTwoFactorEmail": "takes a secret challenge, not an id",
    "beginPasskeyTwoFactor": "takes a secret challenge, not an id",
    "verifyTwoFactorPasskey": "takes a secret challenge, not an id",
    "retryMail": "the installation's outbox, the provider's owners only (tests/mail/test_dead_mails.py)",
}
# Queries with an id argument, and where the property covers them.
COVERED_QUERIES = {
    "node": "node(id:) for every object",
    "organisation": "organisation(id:) for every organisation",
    "ticket": "ticket(id:) for every ticket",
    **{listing.name: "per-organisation connections" for listing in LISTINGS},
}
