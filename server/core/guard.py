"""Permission guards: declared once on the field, printed as a directive in
schema.graphql, enforced here and nowhere else.

    @strawberry.mutation(extensions=[requires(Permission.MEMBERS_MANAGE, on=owner_of("input.membership_id", Membership))])

The guard finds the object the call is about (`on=`: from a global id
argument, or, on object fields, the object itself), loads it and its
organisation, and asks the actor (core/actor.py) for a decision. What the
actor may not see answers exactly like a missing object: NOT_FOUND in a
mutation's payload, null for a nullable field. What the guard loaded and
checked reaches the resolver (`checked(info)`): no resolver decodes or loads
it again.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.relay import GlobalID
from strawberry.schema_directive import Location
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from server.core.actor import Actor, Decision
from server.core.context import Info
from server.core.errors import (
    ApiTokenForbidden,
    BadRequest,
    DomainError,
    ErrorCode,
    Forbidden,
    ImpersonationForbidden,
    NotFoundError,
    PasswordChangeRequired,
    Payload,
    ReauthRequired,
    Unauthenticated,
    graphql_name,
    not_found,
)
from server.core.nodes import parse_id
from server.core.permissions import Permission
from server.core.principals import PEOPLE, PrincipalKind

if TYPE_CHECKING:
    from tortoise.models import Model

    from server.tenancy.models import Organisation

M = TypeVar("M", bound="Model")


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requires",
    description="The caller must hold this permission in the organisation concerned.",
)
class RequiresDirective:
    permission: Permission


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="authenticated",
    description="The caller must be signed in.",
)
class AuthenticatedDirective:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="requiresRecentAuth",
    description="The caller must have signed in or re-authenticated within `maxAge` seconds.",
)
class RequiresRecentAuthDirective:
    max_age: int


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="notWhileImpersonating",
    description="Refused inside an impersonation (credentials, roles, grants, impersonation).",
)
class NotWhileImpersonatingDirective:
    pass


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    name="notForApiTokens",
    description="Refused to API tokens: a person must do this (credentials, tokens).",
)
class NotForApiTokensDirective:
    pass


# Step-up: sensitive actions need a log-in or re-authentication this recent (seconds).
STEP_UP_SECONDS = 300

# Decides, from the arguments, whether a call needs a recent authentication.
RecentAuthCondition = Callable[[Info, dict[str, Any]], bool]


class _NotFound(DomainError):
    def __init__(self, argument: str | None) -> None:
        super().__init__(
            ErrorCode.NOT_FOUND,
            "Object not found.",
            graphql_name(argument.rsplit(".", 1)[-1]) if argument else None,
        )
        self.argument = argument


def _argument(kwargs: dict[str, Any], path: str) -> Any:
    value: Any = kwargs
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


def decode_id(value: Any, type_name: str, argument: str | None = None) -> int:
    """The database id inside a global id of `type_name`; any other id is "not found"."""
    if isinstance(value, str):
        try:
            value = GlobalID.from_id(value)
        except ValueError:
            raise _NotFound(argument) from None
    if not isinstance(value, GlobalID) or value.type_name != type_name:
        raise _NotFound(argument)
    pk = parse_id(value.node_id)
    if pk is None:
        raise _NotFound(argument)
    return pk


@dataclass(frozen=True)
class Checked:
    """What a guard loaded and checked: the object named by the argument (or the
    field's parent object) and the organisation it belongs to."""

    target: Any
    organisation: Organisation


class Lookup:
    """Finds the object a call is about and its organisation."""

    argument: str | None = None

    async def __call__(self, source: Any, info: Info, kwargs: dict[str, Any]) -> Checked:
        raise NotImplementedError


class _OwnerOf(Lookup):
    def __init__(self, path: str, model: type[Model]) -> None:
        self.argument = path
        self.model = model

    async def __call__(self, source: Any, info: Info, kwargs: dict[str, Any]) -> Checked:
        pk = decode_id(_argument(kwargs, self.argument or ""), self.model.__name__, self.argument)
        loaders = info.context.loaders
        found = await loaders.by_id(self.model).load(pk)
        organisation = await loaders.organisation_of(found) if found is not None else None
        if organisation is None:
            raise _NotFound(self.argument)
        return Checked(found, organisation)


class _Organisation(Lookup):
    def __init__(self, path: str) -> None:
        self.argument = path

    async def __call__(self, source: Any, info: Info, kwargs: dict[str, Any]) -> Checked:
        pk = decode_id(_argument(kwargs, self.argument or ""), "Organisation", self.argument)
        found = await info.context.loaders.organisation.load(pk)
        if found is None:
            raise _NotFound(self.argument)
        return Checked(found, found)


class _Source(Lookup):
    async def __call__(self, source: Any, info: Info, kwargs: dict[str, Any]) -> Checked:
        return Checked(source, await info.context.loaders.organisation_of(source))


def organisation(path: str) -> Lookup:
    """The organisation named by a global id argument ("input.organisation_id")."""
    return _Organisation(path)


def owner_of(path: str, model: type[Model]) -> Lookup:
    """The object of `model` named by a global id argument ("input.membership_id"),
    and its organisation."""
    return _OwnerOf(path, model)


# On an object's field: the object and the organisation it belongs to.
source_organisation: Lookup = _Source()


def checked(info: Info) -> Checked:
    """What this field's guard loaded and checked."""
    found: Checked = info.context.checked[_key(info)]
    return found


def checked_target(info: Info, model: type[M]) -> M:
    target = checked(info).target
    if not isinstance(target, model):
        raise TypeError(f"the guard checked a {type(target).__name__}, not a {model.__name__}")
    return target


def _key(info: Info) -> tuple[str | int, ...]:
    return tuple(info.path.as_list())


class Outcome(FieldExtension):
    """Turns a service's DomainError into the answer the schema promises: the
    payload's `errors` in a mutation, a GraphQL error with its code in a query."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def _payload(self) -> type[Payload] | None:
        """The field's payload type, when it answers with one."""
        field_type = self.field.type
        if isinstance(field_type, type) and issubclass(field_type, Payload):
            return field_type
        return None

    async def _run(self, next_: Any, source: Any, info: Info, kwargs: dict[str, Any]) -> Any:
        try:
            result = next_(source, info, **kwargs)
            return await result if inspect.isawaitable(result) else result
        except DomainError as error:
            payload = self._payload()
            if payload is not None:
                return payload.failed(error)
            raise BadRequest(error) from None

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return await self._run(next_, source, info, kwargs)

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        # Sync fields too: graphql-core awaits the coroutine in async execution.
        return self.resolve_async(next_, source, info, **kwargs)


# How a guard decides, given the actor and the organisation concerned.
Rule = Callable[[Actor, "Organisation"], Decision]


class Guard(Outcome):
    def __init__(
        self,
        permission: Permission | None,
        on: Lookup | None,
        *,
        recent_auth: int | None = None,
        when: RecentAuthCondition | None = None,
        principals: frozenset[PrincipalKind],
        rule: Rule | None = None,
        before_password_change: bool = False,
    ) -> None:
        self.permission = permission
        self.on = on
        self.recent_auth = recent_auth
        self.when = when
        self.principals = principals
        self.rule = rule
        self.before_password_change = before_password_change

    def apply(self, field: StrawberryField) -> None:
        directive = (
            AuthenticatedDirective()
            if self.permission is None
            else RequiresDirective(permission=self.permission)
        )
        field.directives.append(directive)
        if self.recent_auth is not None:
            field.directives.append(RequiresRecentAuthDirective(max_age=self.recent_auth))
        if PrincipalKind.IMPERSONATION not in self.principals:
            field.directives.append(NotWhileImpersonatingDirective())
        if PrincipalKind.API_TOKEN not in self.principals:
            field.directives.append(NotForApiTokensDirective())
        self.field = field

    def _check_recent_auth(self, actor: Actor, info: Info, kwargs: dict[str, Any]) -> None:
        if self.recent_auth is None or (self.when is not None and not self.when(info, kwargs)):
            return
        if not actor.authenticated_within(self.recent_auth):
            raise ReauthRequired(self.recent_auth)

    def _missing(self, argument: str | None) -> Any:
        field_type = self.field.type
        if isinstance(field_type, StrawberryOptional):
            return None
        payload = self._payload()
        if payload is not None:
            error = not_found(graphql_name(argument.rsplit(".", 1)[-1]) if argument else None)
            return payload.failed(error)
        raise NotFoundError()

    def _decide(self, actor: Actor, organisation: Organisation) -> Decision:
        if self.rule is not None:
            return self.rule(actor, organisation)
        assert self.permission is not None
        return actor.decide(self.permission, organisation)

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is None:
            raise Unauthenticated()
        if not actor.admits(self.principals):
            if actor.impersonating:
                raise ImpersonationForbidden()
            raise ApiTokenForbidden()
        if actor.user.must_change_password and not self.before_password_change:
            # A user created with an initial password uses nothing before changing it.
            raise PasswordChangeRequired()
        if self.on is not None:
            try:
                found = await self.on(source, info, kwargs)
            except _NotFound as missing:
                return self._missing(missing.argument)
            decision = self._decide(actor, found.organisation)
            if decision is Decision.HIDDEN:
                return self._missing(self.on.argument)
            if decision is Decision.FORBIDDEN:
                raise Forbidden()
            info.context.checked[_key(info)] = found
        self._check_recent_auth(actor, info, kwargs)
        return await self._run(next_, source, info, kwargs)


def _principals(impersonation: bool, api_tokens: bool) -> frozenset[PrincipalKind]:
    kinds = set(PEOPLE if impersonation else {PrincipalKind.PERSON})
    if api_tokens:
        # An OpenID Connect client's access token goes where API tokens may.
        kinds |= {PrincipalKind.API_TOKEN, PrincipalKind.OIDC_CLIENT}
    return frozenset(kinds)


def requires(
    permission: Permission,
    *,
    on: Lookup | None = None,
    recent_auth: int | None = None,
    when: RecentAuthCondition | None = None,
    impersonation: bool = True,
    api_tokens: bool = True,
    rule: Rule | None = None,
) -> Guard:
    """Guard a field by a permission in the organisation `on` finds.

    Without `on`, the resolver returns only what the actor may see with that
    permission (lists scoped by `Actor.organisations_with`). With
    `recent_auth`, the principal must have authenticated within that many
    seconds (step-up) — always, or when `when(info, arguments)` says so.
    `impersonation=False` / `api_tokens=False` refuse the field inside an
    impersonation / to API tokens. `rule` replaces the plain permission check
    (the ticket desk's: core/actor.py `decide_tickets`)."""
    return Guard(
        permission,
        on,
        recent_auth=recent_auth,
        when=when,
        principals=_principals(impersonation, api_tokens),
        rule=rule,
    )


def authenticated(
    *,
    recent_auth: int | None = None,
    when: RecentAuthCondition | None = None,
    impersonation: bool = True,
    api_tokens: bool = False,
    before_password_change: bool = False,
) -> Guard:
    """Signed in as a person. API tokens are refused unless `api_tokens=True`:
    what is not scoped by a permission belongs to the person (profile,
    sessions, credentials), which a token never reaches. Until a required
    password change is done, every guarded field answers PASSWORD_CHANGE_REQUIRED
    but those marked `before_password_change` (changing it, signing out)."""
    return Guard(
        None,
        None,
        recent_auth=recent_auth,
        when=when,
        principals=_principals(impersonation, api_tokens),
        before_password_change=before_password_change,
    )


class _PublicOrPerson(Outcome):
    """Open to anyone not signed in; a signed-in caller must be a person in their
    own session (accepting an invitation joins *them*: no token, no impersonation)."""

    def apply(self, field: StrawberryField) -> None:
        field.directives.extend([NotWhileImpersonatingDirective(), NotForApiTokensDirective()])
        self.field = field

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is not None and actor.kind is not PrincipalKind.PERSON:
            raise ImpersonationForbidden() if actor.impersonating else ApiTokenForbidden()
        return await self._run(next_, source, info, kwargs)


def public(*, or_person: bool = False) -> Outcome:
    """No guard (log-in, password reset): expected failures still go to the payload.
    `or_person`: a signed-in caller must be a person in their own session."""
    return _PublicOrPerson() if or_person else Outcome()
