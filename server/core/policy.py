"""What every GraphQL operation runs under, whichever engine runs it.

Two engines run operations against the one schema: the hand-built pipeline
(core/pipeline.py, the default) and Strawberry's own `Schema.execute` (the
stock engine, FRONTDESK_GRAPHQL_ENGINE=stock, which the test suite runs the
API tests through as well). What the API promises must not depend on which
one ran, so it is stated here once:

* limits: tokens (a parser option), depth, aliases and cost (one validation
  rule, core/cost.py), and no introspection unless allowed (a validation rule);
* no "Did you mean …?" in any message: with introspection off, suggestions
  would map the schema;
* a client's mistake is answered, never counted as a fault: errors the
  executor reports before any field runs (variables that do not fit their
  types) carry `extensions.code` BAD_USER_INPUT;
* real faults (an exception that is not a GraphQLError) are logged by
  `is_fault` and masked as "Unexpected error.";
* each operation's latency and error codes go to the metrics hook, with
  INTERNAL for the masked faults and nothing else.

The pipeline calls the policy directly; `Schema.execute` runs it as a schema
extension (`policy.extension()`, given to the schema as a factory).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    get_operation_ast,
    specified_rules,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError

from server.core.cost import create_limits_rule

MASKED_MESSAGE = "Unexpected error."
INTERNAL = "INTERNAL"
BAD_USER_INPUT = "BAD_USER_INPUT"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
# graphql-core suggests names for misspelled fields, arguments, types and
# values; with introspection off that would map the schema.
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")
_CODE = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")

# (operation name, "query" | "mutation" | "subscription" | "unknown", seconds, error codes)
ObserveOperation = Callable[[str | None, str, float, Sequence[str]], None]


def without_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message)


def client_errors(errors: Sequence[GraphQLError]) -> list[GraphQLError]:
    """Errors the executor reported before running any field (variables that do
    not fit their types): the client's mistake, whatever raised inside."""
    return [
        GraphQLError(
            without_suggestions(error.message),
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            extensions={**(error.extensions or {}), "code": BAD_USER_INPUT},
        )
        for error in errors
    ]


def _masked(error: GraphQLError) -> GraphQLError:
    return GraphQLError(
        MASKED_MESSAGE,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
    )


def _code(error: GraphQLError) -> str:
    code = (error.extensions or {}).get("code")
    return code if isinstance(code, str) and _CODE.match(code) else VALIDATION_FAILED


def operation_of(
    document: DocumentNode | None, operation_name: str | None
) -> tuple[str | None, str]:
    """(name, type) of the operation a request runs, for metrics."""
    operation = get_operation_ast(document, operation_name) if document is not None else None
    if operation is None:
        return None, "unknown"
    return (operation.name.value if operation.name else None), operation.operation.value


class GraphQLPolicy:
    """The limits, masking and metrics of every operation (module docstring)."""

    def __init__(
        self,
        *,
        max_tokens: int,
        max_depth: int,
        max_aliases: int,
        max_cost: int,
        introspection: Callable[[], bool],
        is_fault: Callable[[GraphQLError], bool],
        observe: ObserveOperation,
    ) -> None:
        self.max_tokens = max_tokens
        # Built once: rule classes made per request would defeat validation caches.
        limits = create_limits_rule(max_cost=max_cost, max_depth=max_depth, max_aliases=max_aliases)
        self.rules: tuple[type[ASTValidationRule], ...] = (*specified_rules, limits)
        self.rules_without_introspection = (*self.rules, NoSchemaIntrospectionCustomRule)
        self.introspection = introspection
        # Decides (and logs) whether an error is a fault to mask: called once per error.
        self.is_fault = is_fault
        self.observe = observe

    def validation_rules(self) -> tuple[type[ASTValidationRule], ...]:
        """graphql-core's rules and ours (Strawberry adds its own when validating)."""
        return self.rules if self.introspection() else self.rules_without_introspection

    def finish(
        self,
        name: str | None,
        kind: str,
        started: float,
        errors: Sequence[GraphQLError] | None,
    ) -> list[GraphQLError] | None:
        """The errors as the client sees them; the operation observed for metrics."""
        seconds = time.perf_counter() - started
        if not errors:
            self.observe(name, kind, seconds, ())
            return None
        codes: list[str] = []
        shown: list[GraphQLError] = []
        for error in errors:
            if self.is_fault(error):
                codes.append(INTERNAL)
                shown.append(_masked(error))
            else:
                codes.append(_code(error))
                error.message = without_suggestions(error.message)
                shown.append(error)
        self.observe(name, kind, seconds, codes)
        return shown

    def extension(self) -> SchemaExtension:
        """The policy as a Strawberry schema extension, for `Schema.execute`."""
        return _PolicyExtension(self)


class _PolicyExtension(SchemaExtension):
    def __init__(self, policy: GraphQLPolicy) -> None:
        self.policy = policy

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        context = self.execution_context
        context.parse_options["max_tokens"] = self.policy.max_tokens
        # Ours include graphql-core's specified rules, Strawberry's default.
        context.validation_rules = self.policy.validation_rules()
        yield
        result: Any = context.result
        name, kind = operation_of(context.graphql_document, context.operation_name)
        errors = self.policy.finish(name, kind, started, getattr(result, "errors", None))
        if result is not None:
            result.errors = errors

    def on_parse(self) -> Iterator[None]:
        yield
        context = self.execution_context
        document = context.graphql_document
        # As the spec wants: no operationName, several operations, no operation.
        # Strawberry would run the first one (`operation_name` falls back to its
        # name); its HTTP views answer CannotGetOperationTypeError with a 400.
        provided = context._provided_operation_name  # the name as the request gave it
        if document is not None and get_operation_ast(document, provided) is None:
            raise CannotGetOperationTypeError(provided)

    def on_execute(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if (
            isinstance(result, ExecutionResult)
            and result.errors
            and result.data is None
            and all(error.path is None for error in result.errors)
        ):
            # Reported before any field ran: the variables did not fit.
            result.errors = client_errors(result.errors)


__all__ = [
    "BAD_USER_INPUT",
    "INTERNAL",
    "MASKED_MESSAGE",
    "GraphQLPolicy",
    "client_errors",
    "operation_of",
    "without_suggestions",
]
