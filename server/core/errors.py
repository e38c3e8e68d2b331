"""Expected failures and how they reach the client.

Expected outcomes of a mutation (a rule refused it, input was invalid, the
object does not exist or is out of scope) are `DomainError`s: services raise
them, and the mutation returns them in its payload's `errors` list with a
stable `code`. Missing authentication or permission is a GraphQL error with
`extensions.code` set. Anything else is a bug: masked and logged.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

import strawberry
from graphql import GraphQLError


@strawberry.enum
class ErrorCode(Enum):
    INVALID = "INVALID"
    REQUIRED = "REQUIRED"
    TOO_LONG = "TOO_LONG"
    INVALID_EMAIL = "INVALID_EMAIL"
    INVALID_PHONE = "INVALID_PHONE"
    PASSWORD_TOO_SHORT = "PASSWORD_TOO_SHORT"
    PASSWORD_TOO_LONG = "PASSWORD_TOO_LONG"
    PASSWORD_TOO_COMMON = "PASSWORD_TOO_COMMON"
    PASSWORD_TOO_PERSONAL = "PASSWORD_TOO_PERSONAL"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
    NOT_FOUND = "NOT_FOUND"
    LAST_OWNER = "LAST_OWNER"
    OUT_OF_SCOPE_ROLE = "OUT_OF_SCOPE_ROLE"
    OUT_OF_SCOPE_PERMISSION = "OUT_OF_SCOPE_PERMISSION"
    HIGHER_ROLE = "HIGHER_ROLE"
    ALREADY_MEMBER = "ALREADY_MEMBER"
    INVITE_PENDING = "INVITE_PENDING"
    INVITE_EXPIRED = "INVITE_EXPIRED"
    INVITE_INVALID = "INVITE_INVALID"
    INVITE_EMAIL_MISMATCH = "INVITE_EMAIL_MISMATCH"
    TOKEN_INVALID = "TOKEN_INVALID"
    NEVER_LOGGED_IN = "NEVER_LOGGED_IN"
    NOT_RESELLER = "NOT_RESELLER"
    SELF_ACTION = "SELF_ACTION"
    HAS_MEMBERSHIPS = "HAS_MEMBERSHIPS"
    INVALID_STATE = "INVALID_STATE"
    EMAIL_TAKEN = "EMAIL_TAKEN"
    # The person also belongs where the actor does not administer them.
    PROFILE_SHARED = "PROFILE_SHARED"
    INVALID_CODE = "INVALID_CODE"
    CHALLENGE_INVALID = "CHALLENGE_INVALID"
    SIGN_IN_REQUIRED = "SIGN_IN_REQUIRED"
    CANNOT_IMPERSONATE = "CANNOT_IMPERSONATE"
    SEAT_LIMIT = "SEAT_LIMIT"
    # Another organisation's portal is already reached by this host name.
    HOST_NAME_TAKEN = "HOST_NAME_TAKEN"
    # Contacts, tickets and phone extensions.
    INVALID_TRANSITION = "INVALID_TRANSITION"
    NUMBER_TAKEN = "NUMBER_TAKEN"
    UNKNOWN_EXTENSION = "UNKNOWN_EXTENSION"
    FORWARDING_LOOP = "FORWARDING_LOOP"
    CANNOT_SIGN_IN = "CANNOT_SIGN_IN"
    RECORDING_DELETION_RESTRICTED = "RECORDING_DELETION_RESTRICTED"


@strawberry.type(description="An expected failure of a mutation: nothing was changed.")
class UserError:
    field: str | None = strawberry.field(description="The input field concerned, if any.")
    code: ErrorCode
    message: str


@strawberry.type(
    description="What every mutation returns: its result fields, or why nothing changed."
)
class Payload:
    errors: list[UserError] = strawberry.field(
        default_factory=list, description="Expected failures; empty when the mutation succeeded."
    )

    @classmethod
    def failed(cls, error: DomainError) -> Payload:
        return cls(errors=[error.as_user_error()])


def _ignore(code: str) -> None:
    pass


# Counts expected failures by code (ops/metrics.py; core knows no metrics).
_observer: list[Callable[[str], None]] = [_ignore]


def observe_user_errors(observer: Callable[[str], None]) -> None:
    """Call `observer(code)` for every expected failure returned in a payload."""
    _observer[0] = observer


class DomainError(Exception):
    """A rule refused the operation. Raised by services, returned in payloads."""

    def __init__(self, code: ErrorCode, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def as_user_error(self) -> UserError:
        _observer[0](self.code.value)
        return UserError(field=self.field, code=self.code, message=self.message)


def graphql_name(name: str) -> str:
    """The camelCase name a Python field has in the schema."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def not_found(field: str | None = None, what: str = "Object") -> DomainError:
    # A foreign object and a missing one get exactly this same answer.
    return DomainError(ErrorCode.NOT_FOUND, f"{what} not found.", field)


class Unauthenticated(GraphQLError):
    def __init__(self, message: str = "You must be signed in.") -> None:
        super().__init__(message, extensions={"code": "UNAUTHENTICATED"})


class ReauthRequired(GraphQLError):
    def __init__(self, max_age: int) -> None:
        super().__init__(
            f"Confirm your password (and code) again: this needs a sign-in from the last "
            f"{max_age // 60} minutes.",
            extensions={"code": "REAUTH_REQUIRED", "maxAge": max_age},
        )


class PasswordChangeRequired(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "Change your password first.", extensions={"code": "PASSWORD_CHANGE_REQUIRED"}
        )


class ImpersonationForbidden(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "This cannot be done while acting as another person.",
            extensions={"code": "IMPERSONATION_FORBIDDEN"},
        )


class ApiTokenForbidden(GraphQLError):
    def __init__(self) -> None:
        super().__init__(
            "API tokens cannot do this; sign in as a person.",
            extensions={"code": "API_TOKEN_FORBIDDEN"},
        )


class Forbidden(GraphQLError):
    def __init__(self, message: str = "You do not have permission to do this.") -> None:
        super().__init__(message, extensions={"code": "FORBIDDEN"})


class BadRequest(GraphQLError):
    """A DomainError raised while answering a query (an invalid filter or cursor)."""

    def __init__(self, error: DomainError) -> None:
        extensions = {"code": error.code.value}
        if error.field:
            extensions["field"] = error.field
        super().__init__(error.message, extensions=extensions)


class NotFoundError(GraphQLError):
    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message, extensions={"code": "NOT_FOUND"})
