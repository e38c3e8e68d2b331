"""Who or what is making a request, as explicit kinds.

A principal acts with a person's memberships (its `user`), narrowed by what the
principal is. Each kind declares the same few answers, and the decision
module (core/actor.py) asks nothing else, so a new kind (an OpenID Connect
client) slots in by declaring them here:

- `kind`: what fields may refuse (`@notWhileImpersonating`, `@notForApiTokens`);
- `reach`: the subtree it is confined to (None: wherever the person's memberships reach);
- `ceiling`: the permissions it may use at most (None: the person's);
- `personal`: whether it may use what belongs to the person: their profile,
  sessions and credentials, their own memberships, their own tickets and phone;
- `authenticated_within(seconds)`: step-up (a recent password and code check,
  or for a token, a separately granted right to do what needs one);
- `label`: how the audit trail names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from typing import TYPE_CHECKING, ClassVar

from server.core import clock
from server.core.permissions import Permission

if TYPE_CHECKING:
    from server.accounts.models import User
    from server.api_tokens.models import ApiToken
    from server.auth.models import Session
    from server.scim.models import ScimToken


class PrincipalKind(Enum):
    PERSON = "person"
    IMPERSONATION = "impersonation"
    API_TOKEN = "api_token"  # noqa: S105 - a kind of principal, not a secret
    SCIM_TOKEN = "scim_token"  # noqa: S105 - a kind of principal, not a secret
    OIDC_CLIENT = "oidc_client"


def _recent(session: Session, seconds: int) -> bool:
    return session.authenticated_at >= clock.now() - timedelta(seconds=seconds)


@dataclass(frozen=True, eq=False)
class PersonSession:
    """A person signed in with their own session (cookie or bearer)."""

    session: Session
    kind: ClassVar[PrincipalKind] = PrincipalKind.PERSON
    reach: ClassVar[str | None] = None
    ceiling: ClassVar[frozenset[Permission] | None] = None
    personal: ClassVar[bool] = True

    def authenticated_within(self, seconds: int) -> bool:
        return _recent(self.session, seconds)

    def label(self, user: User) -> str:
        return user.email


@dataclass(frozen=True, eq=False)
class Impersonation:
    """An administrator acting as a member, in a separate short session confined
    to the subtree of the membership that allowed it."""

    session: Session
    impersonator: User
    kind: ClassVar[PrincipalKind] = PrincipalKind.IMPERSONATION
    ceiling: ClassVar[frozenset[Permission] | None] = None
    # The member's own portal view: their extension, their tickets.
    personal: ClassVar[bool] = True

    @property
    def reach(self) -> str:
        return self.session.impersonation_scope

    def authenticated_within(self, seconds: int) -> bool:
        return _recent(self.session, seconds)

    def label(self, user: User) -> str:
        return f"{self.impersonator.email} as {user.email}"


@dataclass(frozen=True, eq=False)
class ApiTokenGrant:
    """An integration's API token: its creator's rights, cut down to the token's
    subtree and permissions, and never anything that belongs to the person."""

    token: ApiToken
    scope_path: str
    granted: frozenset[Permission]
    kind: ClassVar[PrincipalKind] = PrincipalKind.API_TOKEN
    personal: ClassVar[bool] = False

    @property
    def reach(self) -> str:
        return self.scope_path

    @property
    def ceiling(self) -> frozenset[Permission]:
        return self.granted

    def authenticated_within(self, seconds: int) -> bool:
        # A token never signs in; it may do what needs a recent sign-in only when
        # its creator gave it that right, which needed a recent sign-in itself.
        return bool(self.token.privileged)

    def label(self, user: User) -> str:
        return f'API token "{self.token.name}" ({self.token.hint}…) of {user.email}'


# What an identity provider does through SCIM: list people and manage them.
SCIM_PERMISSIONS = frozenset({Permission.MEMBERS_VIEW, Permission.MEMBERS_MANAGE})


@dataclass(frozen=True, eq=False)
class ScimTokenGrant:
    """An identity provider's SCIM token (server/scim): its creator's rights in the
    token's organisation, cut down to managing its members. Only /scim/v2/ takes
    it, and that acts in the token's organisation alone."""

    scim_token: ScimToken
    scope_path: str
    kind: ClassVar[PrincipalKind] = PrincipalKind.SCIM_TOKEN
    ceiling: ClassVar[frozenset[Permission] | None] = SCIM_PERMISSIONS
    personal: ClassVar[bool] = False

    @property
    def reach(self) -> str:
        return self.scope_path

    def authenticated_within(self, seconds: int) -> bool:
        return False  # never what needs a recent sign-in (granting OWNER or ADMIN)

    def label(self, user: User) -> str:
        return f'SCIM token "{self.scim_token.name}" ({self.scim_token.hint}…) of {user.email}'


@dataclass(frozen=True, eq=False)
class OidcClientGrant:
    """An OpenID Connect client's access token (server/oidc): the person's rights
    where the client's access rule lets it see them (its organisation's subtree),
    cut down to the `api:<PERMISSION>` scopes the person granted it and the client
    was given. Fields closed to API tokens are closed to it too."""

    client_name: str
    token_hint: str
    scope_path: str
    granted: frozenset[Permission]
    kind: ClassVar[PrincipalKind] = PrincipalKind.OIDC_CLIENT
    personal: ClassVar[bool] = False

    @property
    def reach(self) -> str:
        return self.scope_path

    @property
    def ceiling(self) -> frozenset[Permission]:
        return self.granted

    def authenticated_within(self, seconds: int) -> bool:
        return False  # never what needs a recent sign-in

    def label(self, user: User) -> str:
        return f'OpenID Connect client "{self.client_name}" ({self.token_hint}…) of {user.email}'


Principal = PersonSession | Impersonation | ApiTokenGrant | ScimTokenGrant | OidcClientGrant

# Who may call a field unless it says otherwise: people and the administrators acting as them.
PEOPLE = frozenset({PrincipalKind.PERSON, PrincipalKind.IMPERSONATION})
