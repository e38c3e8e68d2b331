"""Audit details without the envelope every event carries (server/audit/service.py)."""

from __future__ import annotations

from typing import Any

ENVELOPE = ("actor", "impersonator", "organisation", "target", "subject")


def own_details(details: dict[str, Any]) -> dict[str, Any]:
    """What the action itself put in `details`: before, after and the like."""
    return {key: value for key, value in details.items() if key not in ENVELOPE}
