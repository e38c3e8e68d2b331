"""DataLoaders of the telephony domain (registered in server.core.loaders)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from server.telephony.models import ForwardingRule


async def _rules_by_extension(extension_ids: Sequence[int]) -> list[list[ForwardingRule]]:
    grouped: dict[int, list[ForwardingRule]] = defaultdict(list)
    for rule in await ForwardingRule.filter(extension_id__in=list(extension_ids)).order_by("id"):
        grouped[rule.extension_id].append(rule)
    return [grouped[i] for i in extension_ids]


def rules_by_extension() -> DataLoader[int, list[ForwardingRule]]:
    return DataLoader(load_fn=_rules_by_extension)
