"""Which fields a query selects below the current one, fragments included:
lets a resolver load what the nested fields will need in one batch, before
graphql-core descends into them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField, Selection

from server.core.context import Info


def _fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        elif isinstance(selection, FragmentSpread | InlineFragment):
            yield from _fields(selection.selections)


def selected_below(info: Info, *paths: Sequence[str]) -> set[str]:
    """Names selected at the end of any of `paths` below the current field,
    e.g. `selected_below(info, ["nodes"], ["edges", "node"])` on a connection."""
    found: set[str] = set()
    for path in paths:
        # `info.selected_fields` is the current field itself: start below it.
        level = [
            f for current in _fields(info.selected_fields) for f in _fields(current.selections)
        ]
        for name in path:
            level = [
                f for parent in level if parent.name == name for f in _fields(parent.selections)
            ]
        found.update(field.name for field in level)
    return found
