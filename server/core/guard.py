"""Permission guards: declared once on the field, printed as a directive in
schema.graphql, enforced here and nowhere else.

    @strawberry.mutation(extensions=[requires(Permission.MEMBERS_MANAGE, on=membership("input.membership_id"))])

The guard finds the organisation the call is about (`on=`: from an argument,
or, on object fields, the organisation the object belongs to) and asks the
actor. An organisation the actor cannot see answers exactly like a missing
one: NOT_FOUND in a mutation's payload, null for a nullable field.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.relay import GlobalID
from strawberry.schema_directive import Location
from strawberry.types.base import StrawberryOptional
from strawberry.types.field import StrawberryField

from server.core import clock
from server.core.context import Info
from server.core.errors import (
    ApiTokenForbidden,
    BadRequest,
    DomainError,
    ErrorCode,
    Forbidden,
    ImpersonationForbidden,
    NotFoundError,
    Payload,
    ReauthRequired,
    Unauthenticated,
    graphql_name,
    not_found,
)
from server.core.nodes import parse_id
from server.core.permissions import Permission
from server.organisations.models import Organisation

OrganisationLookup = Callable[[Any, Info, dict[str, Any]], Awaitable[Organisation]]


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


async def load_organisation(info: Info, value: Any) -> Organisation:
    """The organisation named by a global id a guard has already checked (the
    guard loaded it too, so this is the loader's cached row)."""
    return await info.context.loaders.organisation.load(decode_id(value, "Organisation"))  # type: ignore[return-value]


def organisation(path: str) -> OrganisationLookup:
    """The organisation named by a global id argument, e.g. "input.organisation_id"."""

    async def lookup(source: Any, info: Info, kwargs: dict[str, Any]) -> Organisation:
        pk = decode_id(_argument(kwargs, path), "Organisation", path)
        found = await info.context.loaders.organisation.load(pk)
        if found is None:
            raise _NotFound(path)
        return found

    lookup.argument = path  # type: ignore[attr-defined]
    return lookup


def owner_of(path: str, type_name: str, loader: str) -> OrganisationLookup:
    """The organisation owning the object named by a global id argument."""

    async def lookup(source: Any, info: Info, kwargs: dict[str, Any]) -> Organisation:
        pk = decode_id(_argument(kwargs, path), type_name, path)
        obj = await getattr(info.context.loaders, loader).load(pk)
        if obj is None:
            raise _NotFound(path)
        return await info.context.loaders.organisation.load(obj.organisation_id)

    lookup.argument = path  # type: ignore[attr-defined]
    return lookup


def membership(path: str) -> OrganisationLookup:
    return owner_of(path, "Membership", "membership")


def invitation(path: str) -> OrganisationLookup:
    return owner_of(path, "Invitation", "invitation")


async def source_organisation(source: Any, info: Info, kwargs: dict[str, Any]) -> Organisation:
    if isinstance(source, Organisation):
        return source
    return await info.context.loaders.organisation.load(source.organisation_id)


class Outcome(FieldExtension):
    """Turns a service's DomainError into the answer the schema promises: the
    payload's `errors` in a mutation, a GraphQL error with its code in a query."""

    def apply(self, field: StrawberryField) -> None:
        self.field = field

    def _is_payload(self) -> bool:
        field_type = self.field.type
        return isinstance(field_type, type) and issubclass(field_type, Payload)

    async def _run(self, next_: Any, source: Any, info: Info, kwargs: dict[str, Any]) -> Any:
        try:
            result = next_(source, info, **kwargs)
            return await result if inspect.isawaitable(result) else result
        except DomainError as error:
            if self._is_payload():
                return self.field.type.failed(error)
            raise BadRequest(error) from None

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return await self._run(next_, source, info, kwargs)

    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        # Sync fields too: graphql-core awaits the coroutine in async execution.
        return self.resolve_async(next_, source, info, **kwargs)


class Guard(Outcome):
    def __init__(
        self,
        permission: Permission | None,
        on: OrganisationLookup | None,
        recent_auth: int | None = None,
        when: RecentAuthCondition | None = None,
        impersonation: bool = True,
        api_tokens: bool = True,
    ) -> None:
        self.permission = permission
        self.on = on
        self.recent_auth = recent_auth
        self.when = when
        self.impersonation = impersonation
        self.api_tokens = api_tokens

    def apply(self, field: StrawberryField) -> None:
        directive = (
            AuthenticatedDirective()
            if self.permission is None
            else RequiresDirective(permission=self.permission)
        )
        field.directives.append(directive)
        if self.recent_auth is not None:
            field.directives.append(RequiresRecentAuthDirective(max_age=self.recent_auth))
        if not self.impersonation:
            field.directives.append(NotWhileImpersonatingDirective())
        if not self.api_tokens:
            field.directives.append(NotForApiTokensDirective())
        self.field = field

    def _check_recent_auth(self, info: Info, kwargs: dict[str, Any]) -> None:
        if self.recent_auth is None or (self.when is not None and not self.when(info, kwargs)):
            return
        actor = info.context.actor
        if actor is not None and actor.api_token is not None:
            return  # the token is the credential; creating it needed a recent sign-in
        session = actor.session if actor else None
        if session is None or session.authenticated_at < clock.now() - timedelta(
            seconds=self.recent_auth
        ):
            raise ReauthRequired(self.recent_auth)

    def _missing(self, argument: str | None) -> Any:
        field_type = self.field.type
        if isinstance(field_type, StrawberryOptional):
            return None
        if self._is_payload():
            error = not_found(graphql_name(argument.rsplit(".", 1)[-1]) if argument else None)
            return field_type.failed(error)
        raise NotFoundError()

    async def resolve_async(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        actor = info.context.actor
        if actor is None:
            raise Unauthenticated()
        if actor.impersonating and not self.impersonation:
            raise ImpersonationForbidden()
        if actor.api_token is not None and not self.api_tokens:
            raise ApiTokenForbidden()
        if self.permission is not None and self.on is not None:
            try:
                target = await self.on(source, info, kwargs)
            except _NotFound as missing:
                return self._missing(missing.argument)
            if not actor.can_see(target):
                return self._missing(getattr(self.on, "argument", None))
            if not actor.can(self.permission, target):
                raise Forbidden()
        self._check_recent_auth(info, kwargs)
        return await self._run(next_, source, info, kwargs)


def requires(
    permission: Permission,
    *,
    on: OrganisationLookup | None = None,
    recent_auth: int | None = None,
    when: RecentAuthCondition | None = None,
    impersonation: bool = True,
    api_tokens: bool = True,
) -> Guard:
    """Guard a field by a permission in the organisation `on` finds.

    Without `on`, the resolver returns only what the actor may see with that
    permission (lists scoped by `Actor.organisations_with`). With
    `recent_auth`, the session must have authenticated within that many
    seconds (step-up) — always, or when `when(info, arguments)` says so.
    `impersonation=False` / `api_tokens=False` refuse the field inside an
    impersonation / to API tokens."""
    return Guard(permission, on, recent_auth, when, impersonation, api_tokens)


def authenticated(
    *,
    recent_auth: int | None = None,
    when: RecentAuthCondition | None = None,
    impersonation: bool = True,
    api_tokens: bool = True,
) -> Guard:
    return Guard(None, None, recent_auth, when, impersonation, api_tokens)


def public() -> Outcome:
    """No guard (log-in, password reset): expected failures still go to the payload."""
    return Outcome()
