"""The GraphQL schema: every domain's Query and Mutation merged, with the
limits and error handling the whole API shares."""

from __future__ import annotations

import logging
from functools import lru_cache

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxTokensLimiter,
    ParserCache,
        ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from server.accounts import schema as accounts
from server.audit import schema as audit
from server.auth import schema as auth
from server.core.errors import ErrorCode, UserError
from server.core.guard import AuthenticatedDirective, RequiresDirective
from server.invitations import schema as invitations
from server.organisations import schema as organisations
from server.settings import Settings

logger = logging.getLogger("frontdesk.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000

# Built once: rule classes made per request would defeat the validation cache.
LIMIT_RULES = [max_depth_rule(MAX_DEPTH, None), max_aliases_rule(MAX_ALIASES)]


@strawberry.type
class NodeQuery:
    node: relay.Node | None = relay.node(
        description="Any object by its global id; null when missing or out of reach."
    )


Query = merge_types(
    "Query",
    (NodeQuery, auth.Query, organisations.Query, accounts.Query, invitations.Query, audit.Query),
)
Mutation = merge_types(
    "Mutation",
    (auth.Mutation, organisations.Mutation, accounts.Mutation, invitations.Mutation),
)


def is_unexpected(error: GraphQLError) -> bool:
    """Mask only real faults: our own GraphQL errors, validation and limiter
    errors (no original error) keep their message and code."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    logger.error(
        "Unexpected error in %s", ".".join(map(str, error.path or [])), exc_info=original
    )
    return True


class FrontdeskSchema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None):  # type: ignore[no-untyped-def]
        # Strawberry would log every error with a traceback, expected ones too;
        # `is_unexpected` logs the real faults.
        return None


def build_schema(settings: Settings) -> strawberry.Schema:
    extensions: list = [
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(MAX_TOKENS),
        lambda: ParserCache(maxsize=256),
        lambda: ValidationCache(maxsize=256),
        lambda: MaskErrors(should_mask_error=is_unexpected),
    ]
    if not settings.introspection:
        extensions.append(DisableIntrospection)
    return FrontdeskSchema(
        query=Query,
        mutation=Mutation,
        extensions=extensions,
        types=[UserError],
        schema_directives=[RequiresDirective, AuthenticatedDirective],
        config=StrawberryConfig(disable_field_suggestions=True, relay_max_results=100),
    )


@lru_cache
def printed_schema() -> str:
    """The SDL checked in as schema.graphql (introspection settings do not change it)."""
    return str(build_schema(Settings())) + "\n"


__all__ = ["ErrorCode", "build_schema", "printed_schema"]
