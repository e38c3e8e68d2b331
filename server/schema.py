"""The GraphQL schema: every domain's Query and Mutation merged, with the
limits and error handling the whole API shares (core/policy.py), whichever
engine runs the operation (FRONTDESK_GRAPHQL_ENGINE: the pipeline in
core/pipeline.py, or Strawberry's own `Schema.execute`)."""

from __future__ import annotations

import inspect
import logging
from functools import lru_cache

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from server.accounts.types import MembershipType, UserType
from server.api_tokens import schema as api_tokens
from server.api_tokens.schema import ApiTokenType
from server.audit import schema as audit
from server.audit.types import AuditEventType
from server.auth import passkey_schema as passkeys
from server.auth import schema as auth
from server.auth.types import IDENTITY_FIELDS
from server.branding import schema as branding
from server.branding.inheritance import brand_for
from server.contacts import schema as contacts
from server.contacts.types import ContactType
from server.core.context import Info, current_request_id
from server.core.errors import ErrorCode, UserError, observe_user_errors
from server.core.guard import (
    AuthenticatedDirective,
    NotForApiTokensDirective,
    NotWhileImpersonatingDirective,
    RequiresDirective,
    RequiresRecentAuthDirective,
)
from server.core.pipeline import Pipeline
from server.core.policy import GraphQLPolicy
from server.core.resolvers import call_resolvers_directly
from server.dead_mail import schema as dead_mail
from server.impersonation import schema as impersonation
from server.invitations import schema as invitations
from server.invitations.types import InvitationType
from server.mail.audience import use_brand_lookup
from server.members import schema as members
from server.oidc import schema as oidc
from server.oidc.schema import OidcClientType
from server.ops import metrics
from server.organisations import schema as organisations
from server.organisations.types import OrganisationType
from server.scim import schema as scim
from server.scim.schema import ScimTokenType
from server.settings import get_settings
from server.telephony import schema as telephony
from server.telephony.types import CallRecordType, ExtensionType
from server.tickets import schema as tickets
from server.tickets.types import TicketCommentType, TicketType
from server.webhooks import schema as webhooks
from server.webhooks.schema import WebhookDeliveryType, WebhookEndpointType

logger = logging.getLogger("frontdesk.graphql")

MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
MAX_COST = 10_000  # see server/core/cost.py; a full page of 100 with ~100 fields per item
ENGINES = ("fast", "stock")


NODE_TYPES: dict[str, type[relay.Node]] = {
    "Organisation": OrganisationType,
    "User": UserType,
    "Membership": MembershipType,
    "Invitation": InvitationType,
    "AuditEvent": AuditEventType,
    "ApiToken": ApiTokenType,
    "ScimToken": ScimTokenType,
    "OidcClient": OidcClientType,
    "WebhookEndpoint": WebhookEndpointType,
    "WebhookDelivery": WebhookDeliveryType,
    "Contact": ContactType,
    "Ticket": TicketType,
    "TicketComment": TicketCommentType,
    "Extension": ExtensionType,
    "CallRecord": CallRecordType,
}


@strawberry.type
class NodeQuery:
    @strawberry.field(description="Any object by its global id; null when missing or out of reach.")
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        try:
            global_id = relay.GlobalID.from_id(id)
        except ValueError:
            return None
        node_type = NODE_TYPES.get(global_id.type_name)
        if node_type is None:
            return None
        nodes = node_type.resolve_nodes(info=info, node_ids=[global_id.node_id])
        [found] = await nodes if inspect.isawaitable(nodes) else nodes  # node_of's: awaitable
        return found


Query = merge_types(
    "Query",
    (
        NodeQuery,
        auth.Query,
        passkeys.Query,
        organisations.Query,
        branding.Query,
        members.Query,
        invitations.Query,
        audit.Query,
        api_tokens.Query,
        scim.Query,
        oidc.Query,
        contacts.Query,
        tickets.Query,
        telephony.Query,
        webhooks.Query,
        dead_mail.Query,
    ),
)
Mutation = merge_types(
    "Mutation",
    (
        auth.Mutation,
        passkeys.Mutation,
        organisations.Mutation,
        branding.Mutation,
        members.Mutation,
        invitations.Mutation,
        impersonation.Mutation,
        api_tokens.Mutation,
        scim.Mutation,
        oidc.Mutation,
        contacts.Mutation,
        tickets.Mutation,
        telephony.Mutation,
        webhooks.Mutation,
        dead_mail.Mutation,
    ),
)


def is_unexpected(error: GraphQLError) -> bool:
    """Mask only real faults: our own GraphQL errors, validation and limiter
    errors (no original error) keep their message and code."""
    original = error.original_error
    if original is None or isinstance(original, GraphQLError):
        return False
    logger.error(
        "Unexpected error in %s (request %s)",
        ".".join(map(str, error.path or [])),
        current_request_id.get(),
        exc_info=original,
    )
    return True


class FrontdeskSchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Strawberry would log every error with a traceback, expected ones too;
        # `is_unexpected` logs the real faults.
        return None


def _introspection() -> bool:
    return get_settings().introspection


# One per process; both engines apply it (see core/policy.py).
POLICY = GraphQLPolicy(
    max_tokens=MAX_TOKENS,
    max_depth=MAX_DEPTH,
    max_aliases=MAX_ALIASES,
    max_cost=MAX_COST,
    introspection=_introspection,
    is_fault=is_unexpected,
    observe=metrics.observe_operation,
)


@lru_cache(maxsize=1)
def build_schema() -> strawberry.Schema:
    """The schema, built once per process (field extensions are not re-entrant).
    With the stock engine, Strawberry's resolver wrappers stay as they are."""
    observe_user_errors(metrics.user_error)
    # Every mail queued for an organisation wears its brand (server/mail/audience.py).
    use_brand_lookup(brand_for)
    schema = FrontdeskSchema(
        query=Query,
        mutation=Mutation,
        types=[UserError],
        schema_directives=[
            RequiresDirective,
            AuthenticatedDirective,
            RequiresRecentAuthDirective,
            NotForApiTokensDirective,
            NotWhileImpersonatingDirective,
        ],
        config=StrawberryConfig(disable_field_suggestions=True, relay_max_results=100),
        # A factory: one extension per operation (a shared instance leaks state).
        extensions=[POLICY.extension],
    )
    if get_settings().graphql_engine == "fast":
        call_resolvers_directly(schema)
    return schema


@lru_cache(maxsize=1)
def build_pipeline() -> Pipeline:
    """How requests run against the schema, with its caches (one per process).
    Whether introspection is allowed is read from the settings per request."""
    return Pipeline(build_schema()._schema, policy=POLICY, identity_fields=IDENTITY_FIELDS)


@lru_cache
def printed_schema() -> str:
    """The SDL checked in as schema.graphql (introspection settings do not change it)."""
    return str(build_schema()) + "\n"


__all__ = ["ENGINES", "POLICY", "ErrorCode", "build_pipeline", "build_schema", "printed_schema"]
