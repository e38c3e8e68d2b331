"""Relay `Node` helpers: object types whose roots are Tortoise model instances,
and whose visibility is the model's declared view rule (core/visibility.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from tortoise.models import Model

from server.core.context import Info
from server.core.visibility import rule_for, visible_or_none

# Ids beyond the database's integer range are simply not found.
MAX_ID = 2**31 - 1

T = TypeVar("T", bound=type)
M = TypeVar("M", bound=Model)


def parse_id(node_id: str) -> int | None:
    try:
        value = int(node_id)
    except ValueError:
        return None
    return value if 0 < value <= MAX_ID else None


def parse_ids(node_ids: Iterable[str]) -> list[int | None]:
    return [parse_id(node_id) for node_id in node_ids]


async def load_visible(info: Info, model: type[Model], node_ids: Iterable[str]) -> list[Any]:
    """Rows by id; anything the model's view rule hides is None, exactly like a missing id."""
    actor = info.context.actor
    ids = parse_ids(node_ids)
    if actor is None:
        return [None for _ in ids]
    loaders = info.context.loaders
    wanted = [i for i in ids if i is not None]
    found = dict(zip(wanted, await loaders.by_id(model).load_many(wanted), strict=True))
    rule = rule_for(model)
    results = []
    for i in ids:
        row = found.get(i) if i is not None else None
        results.append(row if row is not None and await rule.allows(actor, row, loaders) else None)
    return results


def node_of(model: type[Model]) -> Callable[[T], T]:
    """Make a `relay.Node` type the GraphQL face of `model`: `node(id:)` and
    `nodes(ids:)` find its rows by the model's view rule."""

    def decorate(cls: T) -> T:
        def is_type_of(_cls: type, obj: Any, info: Any) -> bool:
            return isinstance(obj, model)

        async def resolve_nodes(
            _cls: type, *, info: Info, node_ids: Iterable[str], required: bool = False
        ) -> list[Any]:
            return await load_visible(info, model, node_ids)

        cls.is_type_of = classmethod(is_type_of)  # type: ignore[attr-defined]
        cls.resolve_nodes = classmethod(resolve_nodes)  # type: ignore[attr-defined]
        return cls

    return decorate


async def visible_row(info: Info, model: type[M], pk: int | None) -> M | None:
    """A nested field's row, or None when missing or hidden by the model's view rule."""
    if pk is None:
        return None
    row = await info.context.loaders.by_id(model).load(pk)
    return await visible_or_none(info.context.actor, row, info.context.loaders)  # type: ignore[no-any-return]


async def visible_rows(info: Info, rows: Iterable[M]) -> list[M]:
    """The rows the actor may see, by each one's view rule."""
    actor, loaders = info.context.actor, info.context.loaders
    return [row for row in rows if await visible_or_none(actor, row, loaders) is not None]
