"""One GraphQL operation, from its text to its result: parse, validate, load
the actor's memberships if the operation needs them, execute, mask errors.

Strawberry defines the schema and its resolvers; this runs them through
graphql-core directly. Strawberry's own request path (its HTTP view, schema
extensions, per-request execution context) cost more than resolving a small
query (BENCHMARKS.md), and what we need of it is short:

* parse with graphql-core's token limit, once per distinct document text;
* validate with graphql-core's and Strawberry's rules plus ours, once per
  distinct document text (the key is the text: hashing the parsed AST, as
  Strawberry's ValidationCache does, walks the whole tree on every request);
  the limits, the masking and what is counted are the policy's
  (core/policy.py), which Strawberry's own `Schema.execute` applies too;
* decide once per document whether it selects anything beyond who is signed
  in — only then are the actor's memberships loaded (two queries saved on
  `viewer { user { … } }`, the most frequent request);
* group the selected fields for execution once per document too, unless a
  directive could make the grouping depend on the variables;
* execute with graphql-core's executor, and break its reference cycle after,
  so that each request's objects are freed at once (see `_execute`);
* hand the errors to the policy, which masks unexpected ones as "Unexpected
  error." (like Strawberry's MaskErrors) after counting them for /metrics.

The caches are LRU-bounded, and documents longer than `MAX_CACHED_DOCUMENT`
characters are never cached, so odd or hostile documents cannot fill memory;
the trusted documents' entries (`DocumentCache.trusted`, the admin app's,
server/trusted_documents.py) stay once made, so those documents cannot push
the app's out.
Variables and operation names do not enter validation, so one entry serves
every request with the same text.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from types import GeneratorType
from typing import TYPE_CHECKING, Any, Generic, TypeGuard, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    get_operation_ast,
    parse,
)
from graphql.execution.collect_fields import DeferUsage, GroupedFieldSet
from graphql.execution.executor_throwing_on_incremental import ExecutorThrowingOnIncremental
from strawberry.execution import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from tortoise.models import Model

from server.core.policy import GraphQLPolicy, client_errors, without_suggestions

if TYPE_CHECKING:
    from server.core.context import Context

MAX_CACHED_DOCUMENT = 20_000


K = TypeVar("K")
V = TypeVar("V")


class _LRU(Generic[K, V]):
    """At most `maxsize` entries, the least recently used going first; and
    `kept` ones (of trusted documents, a bounded set) that never go."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self.entries: OrderedDict[K, V] = OrderedDict()
        self.kept: dict[K, V] = {}

    def get(self, key: K) -> V | None:
        value = self.kept.get(key)
        if value is not None:
            return value
        value = self.entries.get(key)
        if value is not None:
            self.entries.move_to_end(key)
        return value

    def put(self, key: K, value: V, *, keep: bool = False) -> None:
        if keep:
            self.kept[key] = value
            return
        self.entries[key] = value
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)


_MODEL_AWAIT = Model.__await__
# Whether values of a type are awaitable, by type: graphql-core asks for every
# resolved value. Generators are asked each time (a flag on their code decides).
_AWAITABLE_BY_TYPE: dict[type, bool] = {}


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """Like graphql-core's check, but Tortoise models, which define `__await__`
    (awaiting one returns it), are values: a resolver returning a row returns
    a value, not something graphql-core must await with a task of its own."""
    kind = type(value)
    known = _AWAITABLE_BY_TYPE.get(kind)
    if known is not None:
        return known
    awaitable = (
        optimized_is_awaitable(value) and getattr(kind, "__await__", None) is not _MODEL_AWAIT
    )
    if kind is not GeneratorType:
        _AWAITABLE_BY_TYPE[kind] = awaitable
    return awaitable


@dataclass
class _CollectedFields:
    """The fields an operation selects, grouped as graphql-core's executor groups
    them, kept with the plan: collecting them again for every request cost more
    than resolving a small query. Only for documents without directives on
    their selections, where the grouping cannot depend on the variables."""

    root: GroupedFieldSet | None = None
    # graphql-core's own memo of sub-selections, keyed by (type, id(field list));
    # the lists are the shared root's and kept alive by the memo's values.
    subfields: dict[Any, Any] = field(default_factory=dict)


class _Executor(ExecutorThrowingOnIncremental):
    """graphql-core's executor without incremental delivery (the schema has no
    @defer or @stream), building Strawberry's resolve info (its `Info` reads
    the operation's extensions from it), reusing the plan's collected fields."""

    build_resolve_info = StrawberryGraphQLCoreExecutionContext.build_resolve_info

    def __init__(
        self,
        *args: Any,
        operation_extensions: dict[str, Any] | None,
        collected: _CollectedFields | None,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.operation_extensions = operation_extensions
        self.collected = collected
        if collected is not None:
            self._relevant_sub_fields = collected.subfields

    def execute_collected_root_fields(
        self,
        root_type: GraphQLObjectType,
        root_value: Any,
        grouped_field_set: GroupedFieldSet,
        serially: bool,
        new_defer_usages: Sequence[DeferUsage],
    ) -> Any:
        if self.collected is not None:
            if self.collected.root is None:
                self.collected.root = grouped_field_set
            grouped_field_set = self.collected.root
        return super().execute_collected_root_fields(
            root_type, root_value, grouped_field_set, serially, new_defer_usages
        )


def _collection_is_fixed(document: DocumentNode) -> bool:
    """True when grouping the selected fields cannot depend on the variables:
    no directive (@skip, @include) on any selection, no fragment variables."""
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode) and definition.variable_definitions:
            return False
        pending = [definition.selection_set] if hasattr(definition, "selection_set") else []
        while pending:
            for selection in pending.pop().selections:
                if selection.directives:
                    return False
                if getattr(selection, "selection_set", None) is not None:
                    pending.append(selection.selection_set)
    return True


class DocumentCache:
    """Parsed documents and their validation errors, by document text."""

    def __init__(self, *, max_tokens: int, maxsize: int = 256) -> None:
        self.max_tokens = max_tokens
        # Trusted documents (server/trusted_documents.py): once parsed, validated and
        # planned they stay, so other documents cannot push the app's out of the caches.
        self.trusted: frozenset[str] = frozenset()
        self.documents: _LRU[str, DocumentNode] = _LRU(maxsize)
        # (schema id, rules, query) -> (the document validated, its errors)
        self.validations: _LRU[
            tuple[int, tuple[type[ASTValidationRule], ...], str | None],
            tuple[DocumentNode, list[GraphQLError]],
        ] = _LRU(maxsize)

    def parse(self, query: str) -> DocumentNode:
        document = self.documents.get(query)
        if document is None:
            document = parse(query, max_tokens=self.max_tokens)  # raises GraphQLError
            if len(query) <= MAX_CACHED_DOCUMENT:
                self.documents.put(query, document, keep=query in self.trusted)
        return document

    def validate(
        self,
        schema: GraphQLSchema,
        query: str | None,
        document: DocumentNode,
        rules: tuple[type[ASTValidationRule], ...],
    ) -> list[GraphQLError]:
        key = (id(schema), rules, query)
        cached = self.validations.get(key) if query is not None else None
        if cached is not None and cached[0] is document:
            return cached[1]
        errors = validate_document(schema, document, rules)  # Strawberry's rules added
        for error in errors:
            error.message = without_suggestions(error.message)
        if query is not None and len(query) <= MAX_CACHED_DOCUMENT:
            # The document is kept with the errors: a hit must be for that very object.
            self.validations.put(key, (document, errors), keep=query in self.trusted)
        return errors


class OperationNotFound(Exception):
    """No operation of that name, or several and no name: a malformed request."""


def selected_coordinates(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> frozenset[str]:
    """Every field the operation selects, as "Type.field" (fragments followed)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    found: set[str] = set()
    seen_fragments: set[str] = set()
    root = schema.get_root_type(operation.operation)
    if root is None:  # a subscription: the schema has none, validation refuses it
        return frozenset()
    pending: list[tuple[Any, SelectionSetNode]] = [(root, operation.selection_set)]
    while pending:
        parent, selection_set = pending.pop()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                name = selection.name.value
                if name == "__typename":
                    continue
                found.add(f"{parent.name}.{name}")
                field = getattr(parent, "fields", {}).get(name)
                if field is not None and selection.selection_set is not None:
                    pending.append((get_named_type(field.type), selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition else parent
                pending.append((target or parent, selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = fragments.get(name)
                if fragment is not None and name not in seen_fragments:
                    seen_fragments.add(name)
                    target = schema.get_type(fragment.type_condition.name.value)
                    pending.append((target or parent, fragment.selection_set))
    return frozenset(found)


@dataclass(frozen=True)
class _Plan:
    operation: OperationDefinitionNode
    needs_memberships: bool
    collected: _CollectedFields | None


class Pipeline:
    """Runs operations against `schema` for the HTTP endpoint (server/app.py)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        policy: GraphQLPolicy,
        identity_fields: frozenset[str],
    ) -> None:
        self.schema = schema
        self.policy = policy
        self.documents = DocumentCache(max_tokens=policy.max_tokens)
        # Fields that need only who is asking (see `Actor`): an operation made
        # of these alone runs without loading the actor's memberships.
        self.identity_fields = identity_fields
        self.plans: _LRU[tuple[str, str | None], _Plan] = _LRU(256)

    def _plan(self, query: str, document: DocumentNode, operation_name: str | None) -> _Plan:
        key = (query, operation_name)
        plan = self.plans.get(key)
        if plan is None:
            operation = get_operation_ast(document, operation_name)
            if operation is None:
                raise OperationNotFound(operation_name)
            coordinates = selected_coordinates(self.schema, document, operation)
            plan = _Plan(
                operation,
                not coordinates <= self.identity_fields,
                _CollectedFields() if _collection_is_fixed(document) else None,
            )
            if len(query) <= MAX_CACHED_DOCUMENT:
                self.plans.put(key, plan, keep=query in self.documents.trusted)
        return plan

    async def run(
        self,
        query: str,
        *,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        context: Context,
    ) -> ExecutionResult:
        """The result to send. Raises `OperationNotFound` (a 400 for the caller)."""
        started = time.perf_counter()
        kind, name = "unknown", None
        try:
            document = self.documents.parse(query)
        except GraphQLError as error:
            result = ExecutionResult(None, [error])
        else:
            plan = self._plan(query, document, operation_name)
            kind = plan.operation.operation.value
            name = plan.operation.name.value if plan.operation.name else None
            # The whole rule set, graphql-core's own included (Strawberry's are added
            # by `validate_document`); introspection is a per-request setting.
            errors = self.documents.validate(
                self.schema, query, document, self.policy.validation_rules()
            )
            if errors:
                result = ExecutionResult(None, errors)
            else:
                if plan.needs_memberships:
                    await context.load_actor()
                result = await self._execute(
                    document, plan, variables, operation_name, extensions, context
                )
        result.errors = self.policy.finish(name, kind, started, result.errors)
        return result

    async def _execute(
        self,
        document: DocumentNode,
        plan: _Plan,
        variables: dict[str, Any] | None,
        operation_name: str | None,
        extensions: dict[str, Any] | None,
        context: Context,
    ) -> ExecutionResult:
        executor = _Executor.build(
            self.schema,
            document,
            None,
            context,
            variables,
            operation_name,
            is_awaitable=is_awaitable,
            hide_suggestions=True,
            operation_extensions=extensions,
            collected=plan.collected,
        )
        if isinstance(executor, list):  # the variables do not fit the operation
            return ExecutionResult(None, client_errors(executor))
        try:
            result = executor.execute_operation()
            if is_awaitable(result):
                result = await result
        finally:
            # The executor holds bound methods of itself: a reference cycle that
            # kept the whole request (context, actor, rows) alive until the cyclic
            # collector ran, which then cost ~15 µs a request (BENCHMARKS.md).
            executor.async_helpers = None  # type: ignore[assignment]  # dropped on purpose, see above
        return result  # type: ignore[return-value]  # ExecutorThrowingOnIncremental: never incremental
