"""Query limits — cost, depth and aliases — as one graphql-core validation
rule built once, measured in a single walk that costs each named fragment
once. (Strawberry's own depth and alias limiters re-walk a fragment at every
spread: 20 levels of fragments spreading twice took them 7 s, on the loop.)

Cost model: every field costs 1. A connection field (one whose definition, or
failing that whose call, has a `first` argument) multiplies the cost of its
selection set by its page size: the literal `first`, the default value of the
variable given as `first`, or else the default page size (variables are not
known at validation time, and the validation cache keys on the document
alone); capped at MAX_PAGE, at least 1. Other fields, lists included (`nodes`,
`edges`, `memberships`), count their selection set once: a connection's page
size already multiplied `nodes` and `edges`. Fragments, inline and named,
count where they are spread; a fragment spread inside itself counts nothing
(NoFragmentCyclesRule reports it), and each named fragment is costed once, so
nested spreads cannot make the rule itself slow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from graphql import (
    DefinitionNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLFieldMap,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    VariableNode,
    get_named_type,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

from server.core.pagination import DEFAULT_PAGE, MAX_PAGE

COST_LIMIT_CODE = "COST_LIMIT"
_META_FIELDS = {"__schema": SchemaMetaFieldDef, "__type": TypeMetaFieldDef}


@dataclass(frozen=True)
class Measure:
    cost: int = 0
    # Nesting below the root fields (a root leaf is 0), as Strawberry counts it.
    depth: int = 0
    aliases: int = 0

    def __add__(self, other: Measure) -> Measure:
        return Measure(
            self.cost + other.cost, max(self.depth, other.depth), self.aliases + other.aliases
        )


_NOTHING = Measure()


class _Coster:
    """Costs the operations of one document against one schema."""

    def __init__(
        self, schema: GraphQLSchema | None, document_definitions: Sequence[DefinitionNode]
    ) -> None:
        self.schema = schema
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document_definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, Measure] = {}
        self.in_progress: set[str] = set()
        self.variable_defaults: dict[str, int] = {}

    def operation(self, operation: OperationDefinitionNode) -> Measure:
        self.variable_defaults = {}
        for definition in operation.variable_definitions or ():
            if isinstance(definition.default_value, IntValueNode):
                self.variable_defaults[definition.variable.name.value] = int(
                    definition.default_value.value
                )
        self.fragment_costs = {}  # `first: $var` in a fragment depends on the operation
        root = self.schema.get_root_type(operation.operation) if self.schema else None
        return self.selection_set(operation.selection_set, root)

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self.schema.get_type(name) if self.schema else None

    def selection_set(
        self, selection_set: SelectionSetNode | None, parent: GraphQLNamedType | None
    ) -> Measure:
        if selection_set is None:
            return _NOTHING
        total = _NOTHING
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self._type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, inner)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value)
        return total

    def fragment(self, name: str) -> Measure:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return _NOTHING  # unknown fragment or a cycle: other rules report both
        self.in_progress.add(name)
        try:
            cost = self.selection_set(
                definition.selection_set, self._type(definition.type_condition.name.value)
            )
        finally:
            self.in_progress.discard(name)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        definition = self._field_definition(node.name.value, parent)
        children = self.selection_set(
            node.selection_set, get_named_type(definition.type) if definition else None
        )
        cost = children.cost
        if cost and self._is_connection(node, definition):
            cost *= self._page_size(node)
        # Introspection (`__schema`, `__type`) nests deep by nature; like
        # Strawberry's limiter, depth ignores it (cost and aliases do not).
        nested = node.selection_set is not None and not node.name.value.startswith("__")
        return Measure(
            cost=1 + cost,
            depth=1 + children.depth if nested else 0,
            aliases=children.aliases + (1 if node.alias else 0),
        )

    @staticmethod
    def _field_definition(name: str, parent: GraphQLNamedType | None) -> GraphQLField | None:
        if name in _META_FIELDS:
            return _META_FIELDS[name]
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            fields: GraphQLFieldMap = parent.fields
            return fields.get(name)
        return None

    @staticmethod
    def _is_connection(node: FieldNode, definition: GraphQLField | None) -> bool:
        if definition is not None and "first" in definition.args:
            return True
        return any(argument.name.value == "first" for argument in node.arguments or ())

    def _page_size(self, node: FieldNode) -> int:
        size = DEFAULT_PAGE
        for argument in node.arguments or ():
            if argument.name.value != "first":
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                size = int(value.value)
            elif isinstance(value, VariableNode):
                size = self.variable_defaults.get(value.name.value, DEFAULT_PAGE)
        return max(1, min(size, MAX_PAGE))


def cost_of(
    document_definitions: Sequence[DefinitionNode], schema: GraphQLSchema | None = None
) -> dict[str | None, int]:
    """The cost of every operation in a parsed document, by operation name."""
    coster = _Coster(schema, document_definitions)
    return {
        (d.name.value if d.name else None): coster.operation(d).cost
        for d in document_definitions
        if isinstance(d, OperationDefinitionNode)
    }


def create_limits_rule(*, max_cost: int, max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing every operation over one of the limits."""

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = list(context.document.definitions)
            coster = _Coster(context.schema, definitions)
            for definition in definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                measure = coster.operation(definition)
                name = definition.name.value if definition.name else "anonymous"
                if measure.depth > max_depth:
                    self._refuse(
                        f"'{name}' exceeds maximum operation depth of {max_depth}",
                        definition,
                        "DEPTH_LIMIT",
                    )
                if measure.aliases > max_aliases:
                    self._refuse(
                        f"{measure.aliases} aliases found. Allowed: {max_aliases}",
                        definition,
                        "ALIAS_LIMIT",
                    )
                if measure.cost > max_cost:
                    self._refuse(
                        f"Query cost {measure.cost} exceeds the limit of {max_cost}.",
                        definition,
                        COST_LIMIT_CODE,
                    )

        def _refuse(self, message: str, node: OperationDefinitionNode, code: str) -> None:
            self.context.report_error(GraphQLError(message, node, extensions={"code": code}))

    return QueryLimitsRule


__all__ = ["COST_LIMIT_CODE", "Measure", "cost_of", "create_limits_rule"]
