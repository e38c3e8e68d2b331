"""The permission vocabulary: roles, feature grants and what each allows.

Roles are ordered (OWNER highest). A membership's effective permissions are
its role's permissions; members of an ancestor organisation who hold
CUSTOMERS_MANAGE administer every descendant with an owner's permissions
(delegated administration), and its VIEWERs view every descendant read-only
(delegated viewing); never ancestors or siblings.
"""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="A member's role in one organisation; one role per membership.")
class Role(Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    MEMBER = "MEMBER"
    VIEWER = "VIEWER"
    SUPPORT_ONLY = "SUPPORT_ONLY"

    @property
    def rank(self) -> int:
        return _RANK[self]

    @property
    def administers(self) -> bool:
        """OWNER or ADMIN: may hold `canImpersonate`, counts as an admin for 2FA policies."""
        return _RANK[self] >= _RANK[Role.ADMIN]


_RANK = {Role.OWNER: 5, Role.ADMIN: 4, Role.MEMBER: 3, Role.VIEWER: 2, Role.SUPPORT_ONLY: 1}


@strawberry.enum(description="Which support tickets a member may see and handle.")
class TicketAccess(Enum):
    NONE = "NONE"
    OWN = "OWN"
    ACCOUNT = "ACCOUNT"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return list(TicketAccess).index(self)


@strawberry.enum(description="What a member may do in an organisation.")
class Permission(Enum):
    ORGANISATION_VIEW = "ORGANISATION_VIEW"
    ORGANISATION_MANAGE = "ORGANISATION_MANAGE"
    MEMBERS_VIEW = "MEMBERS_VIEW"
    MEMBERS_MANAGE = "MEMBERS_MANAGE"
    CUSTOMERS_MANAGE = "CUSTOMERS_MANAGE"
    AUDIT_VIEW = "AUDIT_VIEW"
    BILLING_MANAGE = "BILLING_MANAGE"
    OWNERSHIP_MANAGE = "OWNERSHIP_MANAGE"
    # Open a member's own portal view; also needs `canImpersonate` on the membership.
    MEMBERS_IMPERSONATE = "MEMBERS_IMPERSONATE"
    # Create, list and revoke the organisation's API tokens.
    API_TOKENS_MANAGE = "API_TOKENS_MANAGE"
    # Register webhook endpoints and read their delivery log.
    WEBHOOKS_MANAGE = "WEBHOOKS_MANAGE"
    # Create, list and revoke the organisation's SCIM tokens; choose how provisioned people join.
    SCIM_MANAGE = "SCIM_MANAGE"
    # Register the OpenID Connect clients (other systems) people sign in to (providers, resellers).
    OIDC_CLIENTS_MANAGE = "OIDC_CLIENTS_MANAGE"
    # Contacts, tickets and phone extensions: see the matrix in the README.
    CONTACTS_VIEW = "CONTACTS_VIEW"
    CONTACTS_MANAGE = "CONTACTS_MANAGE"
    # Raise and follow tickets, as far as the membership's ticket access reaches.
    TICKETS_USE = "TICKETS_USE"
    EXTENSIONS_VIEW = "EXTENSIONS_VIEW"
    EXTENSIONS_MANAGE = "EXTENSIONS_MANAGE"
    # One's own extension: see it and its calls, set its do-not-disturb and forwarding.
    OWN_EXTENSION = "OWN_EXTENSION"
    # Delete call recordings one can see, unless `restrictRecordingDeletion`.
    RECORDINGS_DELETE = "RECORDINGS_DELETE"
    # The organisation's own brand: portal name, sender, logo, colour, host name.
    BRAND_MANAGE = "BRAND_MANAGE"


_ADMIN = frozenset(
    {
        Permission.ORGANISATION_VIEW,
        Permission.ORGANISATION_MANAGE,
        Permission.MEMBERS_VIEW,
        Permission.MEMBERS_MANAGE,
        Permission.CUSTOMERS_MANAGE,
        Permission.AUDIT_VIEW,
        Permission.BILLING_MANAGE,
        Permission.MEMBERS_IMPERSONATE,
        Permission.API_TOKENS_MANAGE,
        Permission.WEBHOOKS_MANAGE,
        Permission.SCIM_MANAGE,
        Permission.OIDC_CLIENTS_MANAGE,
        Permission.CONTACTS_VIEW,
        Permission.CONTACTS_MANAGE,
        Permission.TICKETS_USE,
        Permission.EXTENSIONS_VIEW,
        Permission.EXTENSIONS_MANAGE,
        Permission.OWN_EXTENSION,
        Permission.RECORDINGS_DELETE,
        Permission.BRAND_MANAGE,
    }
)

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: _ADMIN,
    Role.MEMBER: frozenset(
        {
            Permission.ORGANISATION_VIEW,
            Permission.TICKETS_USE,
            Permission.OWN_EXTENSION,
            Permission.RECORDINGS_DELETE,
        }
    ),
    Role.VIEWER: frozenset(
        {
            Permission.ORGANISATION_VIEW,
            Permission.MEMBERS_VIEW,
            Permission.CONTACTS_VIEW,
            Permission.TICKETS_USE,
            Permission.EXTENSIONS_VIEW,
        }
    ),
    Role.SUPPORT_ONLY: frozenset({Permission.TICKETS_USE}),
}

# What a delegated administrator holds in every descendant organisation.
DELEGATED_PERMISSIONS = ROLE_PERMISSIONS[Role.OWNER]
DELEGATED_RANK = Role.OWNER.rank
# "Portal access" (Sangoma): a VIEWER of a reseller or provider views every
# organisation below it read-only: the organisations, their people, contacts and
# extensions (tickets follow ticket access, not roles).
VIEWING_ROLES = frozenset({Role.VIEWER})
DELEGATED_VIEW_PERMISSIONS = frozenset(
    {
        Permission.ORGANISATION_VIEW,
        Permission.MEMBERS_VIEW,
        Permission.CONTACTS_VIEW,
        Permission.EXTENSIONS_VIEW,
    }
)

DEFAULT_TICKET_ACCESS = {
    Role.OWNER: TicketAccess.ADMIN,
    Role.ADMIN: TicketAccess.ADMIN,
    Role.MEMBER: TicketAccess.OWN,
    Role.VIEWER: TicketAccess.NONE,
    Role.SUPPORT_ONLY: TicketAccess.OWN,
}
