"""Relay `Node` helpers: object types whose roots are Tortoise model instances,
and whose visibility is the model's declared view rule (core/visibility.py).

Rows as nodes. A field declared with a Node type resolves to the Tortoise row
itself; Strawberry resolves the type's fields on it (`node_of` makes the
type's `is_type_of` check the model). The annotations say so through one
alias per type, defined next to the type:

    if TYPE_CHECKING:
        OrganisationNode: TypeAlias = Organisation  # mypy: the value is the row
    else:
        OrganisationNode = OrganisationType  # Strawberry: the GraphQL type

Resolvers and payload fields are annotated with the alias (`-> OrganisationNode
| None`, `Connection[OrganisationNode]`), so mypy checks that they hand over
rows of the right model. A resolver on a Node type reads its row through
`row: strawberry.Parent[Organisation]` (Strawberry's documented parameter for
a parent value that is not the type itself), not through `self`.

A non-null field whose value is the row a foreign key names is annotated
`Loaded[X]`: for mypy X or None (what a by-id loader gives for a key), for
Strawberry X (the database keeps the row: it is never None). `Soon[X]` is the
same value now or as an awaitable (`now_or_later`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

from tortoise.models import Model

from server.core.context import Info
from server.core.visibility import rule_for, visible_or_none

# Ids beyond the database's integer range are simply not found.
MAX_ID = 2**31 - 1

T = TypeVar("T", bound=type)
M = TypeVar("M", bound=Model)
V = TypeVar("V")

if TYPE_CHECKING:
    Loaded: TypeAlias = V | None
    Soon: TypeAlias = V | None | Awaitable[V | None]
else:

    class Loaded:
        """`Loaded[X]` is X for Strawberry."""

        def __class_getitem__(cls, item: object) -> object:
            return item

    Soon = Loaded


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

        # Class attributes Strawberry looks up on the type (relay.Node's are replaced).
        cls.is_type_of = classmethod(is_type_of)  # type: ignore[attr-defined]  # T is any class
        cls.resolve_nodes = classmethod(resolve_nodes)  # type: ignore[attr-defined]  # T is any class
        return cls

    return decorate


async def visible_row(info: Info, model: type[M], pk: int | None) -> M | None:
    """A nested field's row, or None when missing or hidden by the model's view rule."""
    if pk is None:
        return None
    row = await info.context.loaders.by_id(model).load(pk)
    return await visible_or_none(info.context.actor, row, info.context.loaders)


async def visible_rows(info: Info, rows: Iterable[M]) -> list[M]:
    """The rows the actor may see, by each one's view rule."""
    actor, loaders = info.context.actor, info.context.loaders
    return [row for row in rows if await visible_or_none(actor, row, loaders) is not None]
