"""DataLoaders of the tickets domain (registered in server.core.loaders)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from server.tickets.models import TicketComment


async def _comments_by_ticket(ticket_ids: Sequence[int]) -> list[list[TicketComment]]:
    grouped: dict[int, list[TicketComment]] = defaultdict(list)
    for comment in await TicketComment.filter(ticket_id__in=list(ticket_ids)).order_by("id"):
        grouped[comment.ticket_id].append(comment)
    return [grouped[i] for i in ticket_ids]


def comments_by_ticket() -> DataLoader[int, list[TicketComment]]:
    return DataLoader(load_fn=_comments_by_ticket)
