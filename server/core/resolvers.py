"""Direct resolver calls for fields that need nothing of Strawberry's wrapper.

Strawberry wraps every resolver: it builds an `Info`, converts the arguments,
chains the field extensions and then calls the function. For a field without
arguments and without extensions (no guard: see core/guard.py) all that is
left is the call itself, and the wrapper cost as much as the rest of
resolving the field (BENCHMARKS.md). `call_resolvers_directly` gives such
fields a resolver that makes the same call with the same parameters (the
source as `self`, `root` or `parent`; an `Info` where asked for), and relay's
`id` field, on types that keep relay's defaults, a resolver that builds the
same `GlobalID` from the row's id attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLObjectType, GraphQLResolveInfo
from strawberry import relay
from strawberry.relay import GlobalID
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

_RELAY_ID = relay.Node.__dict__["_id"].__func__
_RELAY_RESOLVE_ID = relay.Node.__dict__["resolve_id"].__func__
_RELAY_RESOLVE_TYPENAME = relay.Node.__dict__["resolve_typename"].__func__


def call_resolvers_directly(schema: strawberry.Schema) -> None:
    """Replace Strawberry's wrapper where it adds nothing."""
    info_class = schema.config.info_class
    for graphql_type in schema._schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType) or graphql_type.name.startswith("__"):
            continue
        for graphql_field in graphql_type.fields.values():
            field = (graphql_field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(field, StrawberryField) or not _plain(field):
                continue
            resolve = _relay_id(field, graphql_type, schema) or _direct(field, info_class)
            if resolve is not None:
                graphql_field.resolve = resolve


def _plain(field: StrawberryField) -> bool:
    """A resolver, called the default way, with nothing to convert or run around it."""
    return (
        field.base_resolver is not None
        and not field.extensions
        and not field.arguments
        and type(field).get_result is StrawberryField.get_result
    )


def _direct(field: StrawberryField, info_class: type) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    assert resolver is not None
    function = resolver.wrapped_func
    if not callable(function):
        return None
    as_self = resolver.self_parameter is not None
    source_names = tuple(
        parameter.name
        for parameter in (resolver.root_parameter, resolver.parent_parameter)
        if parameter is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        kwargs = dict.fromkeys(source_names, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return function(source, **kwargs) if as_self else function(**kwargs)

    return resolve


def _relay_id(
    field: StrawberryField, graphql_type: GraphQLObjectType, schema: strawberry.Schema
) -> Callable[..., Any] | None:
    resolver = field.base_resolver
    assert resolver is not None
    if getattr(resolver.wrapped_func, "__func__", None) is not _RELAY_ID:
        return None
    definition = schema.get_type_by_name(graphql_type.name)
    origin = getattr(definition, "origin", None)
    if (
        origin is None
        or origin.resolve_id.__func__ is not _RELAY_RESOLVE_ID
        or origin.resolve_typename.__func__ is not _RELAY_RESOLVE_TYPENAME
    ):
        return None  # the type resolves its ids its own way
    id_attr = origin.resolve_id_attr()
    type_name = graphql_type.name

    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> GlobalID:
        return GlobalID(type_name=type_name, node_id=str(getattr(source, id_attr)))

    return resolve
