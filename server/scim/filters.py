"""SCIM filters (RFC 7644 §3.4.2.2) as Tortoise queries on memberships.

scim2-models parses and checks the filter against our User resource; this
walks its syntax tree (a `FilterVisitor`) and builds one `Q`, so the database
does the filtering. Attributes compare as their schema says: `userName` and
the names case-insensitively, `externalId` exactly (caseExact), `id` as the
membership id.
"""

from __future__ import annotations

from typing import Any

from scim2_models import InvalidFilterException, ScimFilter
from scim2_models.path import (
    AttrPath,
    CompareOperator,
    Comparison,
    FilterVisitor,
    LogicalExpr,
    LogicalOperator,
    Not,
    Present,
    ValuePath,
)
from tortoise.expressions import Q

from server.accounts.models import MembershipStatus
from server.core.nodes import parse_id
from server.scim.resources import User

# Filterable attribute (lower case, as SCIM names match case-insensitively) → column.
_COLUMNS = {
    "username": "user__email",
    "name.givenname": "user__first_name",
    "name.familyname": "user__last_name",
    "externalid": "scim_external_id",
}
_CASE_EXACT = frozenset({"scim_external_id"})
# Lookup suffix per operator, for case-insensitive and case-exact strings.
_LOOKUPS: dict[CompareOperator, tuple[str, str]] = {
    CompareOperator.eq: ("__iexact", ""),
    CompareOperator.co: ("__icontains", "__contains"),
    CompareOperator.sw: ("__istartswith", "__startswith"),
    CompareOperator.ew: ("__iendswith", "__endswith"),
    CompareOperator.gt: ("__gt", "__gt"),
    CompareOperator.ge: ("__gte", "__gte"),
    CompareOperator.lt: ("__lt", "__lt"),
    CompareOperator.le: ("__lte", "__lte"),
}
_NOTHING = Q(id=-1)


def _where(lookup: str, value: Any) -> Q:
    return Q(**{lookup: value})


def _name(path: AttrPath) -> str:
    if path.uri and path.uri.lower() != str(User.__schema__).lower():
        raise InvalidFilterException(detail=f"Unknown attribute: {path}")
    return f"{path.attr}.{path.sub_attr}".lower() if path.sub_attr else path.attr.lower()


def _not_filterable(path: AttrPath) -> InvalidFilterException:
    return InvalidFilterException(
        detail=f"Cannot filter on {path}: filter on userName, name.givenName, "
        "name.familyName, externalId, id or active."
    )


class _ToQuery(FilterVisitor[Q]):
    def visit_logical_expr(self, node: LogicalExpr) -> Q:
        terms = [self.visit(term) for term in node.terms]
        query = terms[0]
        for term in terms[1:]:
            query = query & term if node.op is LogicalOperator.and_ else query | term
        return query

    def visit_not(self, node: Not) -> Q:
        return ~self.visit(node.expr)

    def visit_value_path(self, node: ValuePath) -> Q:
        raise _not_filterable(node.attr_path)

    def visit_present(self, node: Present) -> Q:
        name = _name(node.attr_path)
        if name in ("id", "active", "username"):
            return Q()  # always there
        column = _COLUMNS.get(name)
        if column is None:
            raise _not_filterable(node.attr_path)
        return _where(f"{column}__isnull", False) & ~_where(column, "")

    def visit_comparison(self, node: Comparison) -> Q:
        name, op, value = _name(node.attr_path), node.op, node.value
        if name == "active":
            return self._active(node)
        if name == "id":
            return self._id(node)
        column = _COLUMNS.get(name)
        if column is None:
            raise _not_filterable(node.attr_path)
        if value is None:
            query = _where(f"{column}__isnull", True) | _where(column, "")
            return query if op is CompareOperator.eq else ~query
        if not isinstance(value, str):
            raise InvalidFilterException(detail=f"{node.attr_path} compares with a string.")
        if "\x00" in value:  # no database text holds one (PostgreSQL refuses it)
            raise InvalidFilterException(detail="A filter value cannot hold a NUL character.")
        exact = column in _CASE_EXACT
        if op is CompareOperator.ne:
            return ~self._compare(column, CompareOperator.eq, value, exact)
        return self._compare(column, op, value, exact)

    @staticmethod
    def _compare(column: str, op: CompareOperator, value: str, exact: bool) -> Q:
        insensitive, sensitive = _LOOKUPS[op]
        return _where(column + (sensitive if exact else insensitive), value)

    @staticmethod
    def _active(node: Comparison) -> Q:
        if node.op not in (CompareOperator.eq, CompareOperator.ne) or not isinstance(
            node.value, bool
        ):
            raise InvalidFilterException(detail="active compares with eq or ne and true or false.")
        wanted = node.value if node.op is CompareOperator.eq else not node.value
        disabled = Q(status=MembershipStatus.DISABLED)
        return ~disabled if wanted else disabled

    @staticmethod
    def _id(node: Comparison) -> Q:
        if node.op not in (CompareOperator.eq, CompareOperator.ne):
            raise InvalidFilterException(detail="id compares with eq or ne.")
        value = node.value
        pk = parse_id(value) if isinstance(value, str) else None
        query = _NOTHING if pk is None else Q(id=pk)
        return query if node.op is CompareOperator.eq else ~query


def membership_filter(text: str) -> Q:
    """The query for a SCIM filter; InvalidFilterException when it does not parse
    or names what cannot be filtered on."""
    try:
        parsed: ScimFilter[User] = ScimFilter[User](text)
    except InvalidFilterException:
        raise
    except ValueError as error:  # pydantic's and the grammar's own
        raise InvalidFilterException(detail=f"Invalid filter: {error}") from None
    return _ToQuery().visit(parsed.ast)
