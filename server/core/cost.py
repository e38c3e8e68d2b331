"""A query cost limit, as a graphql-core validation rule built once.

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

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
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


class _Coster:
    """Costs the operations of one document against one schema."""

    def __init__(self, schema: GraphQLSchema | None, document_definitions: list) -> None:
        self.schema = schema
        self.fragments: dict[str, FragmentDefinitionNode] = {
            d.name.value: d for d in document_definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.fragment_costs: dict[str, int] = {}
        self.in_progress: set[str] = set()
        self.variable_defaults: dict[str, int] = {}

    def operation(self, operation: OperationDefinitionNode) -> int:
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
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
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

    def fragment(self, name: str) -> int:
        if name in self.fragment_costs:
            return self.fragment_costs[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.in_progress:
            return 0  # unknown fragment or a cycle: other rules report both
        self.in_progress.add(name)
        try:
            cost = self.selection_set(
                definition.selection_set, self._type(definition.type_condition.name.value)
            )
        finally:
            self.in_progress.discard(name)
        self.fragment_costs[name] = cost
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> int:
        definition = self._field_definition(node.name.value, parent)
        children = self.selection_set(
            node.selection_set, get_named_type(definition.type) if definition else None
        )
        if children and self._is_connection(node, definition):
            children *= self._page_size(node)
        return 1 + children

    @staticmethod
    def _field_definition(name: str, parent: GraphQLNamedType | None) -> GraphQLField | None:
        if name in _META_FIELDS:
            return _META_FIELDS[name]
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return parent.fields.get(name)
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
    document_definitions: list, schema: GraphQLSchema | None = None
) -> dict[str | None, int]:
    """The cost of every operation in a parsed document, by operation name."""
    coster = _Coster(schema, document_definitions)
    return {
        (d.name.value if d.name else None): coster.operation(d)
        for d in document_definitions
        if isinstance(d, OperationDefinitionNode)
    }


def create_cost_rule(max_cost: int) -> type[ValidationRule]:
    """A validation rule refusing every operation that costs more than `max_cost`."""

    class QueryCostRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            definitions = list(context.document.definitions)
            coster = _Coster(context.schema, definitions)
            for definition in definitions:
                if not isinstance(definition, OperationDefinitionNode):
                    continue
                cost = coster.operation(definition)
                if cost > max_cost:
                    context.report_error(
                        GraphQLError(
                            f"Query cost {cost} exceeds the limit of {max_cost}.",
                            definition,
                            extensions={"code": COST_LIMIT_CODE},
                        )
                    )

    return QueryCostRule


__all__ = ["COST_LIMIT_CODE", "cost_of", "create_cost_rule"]
