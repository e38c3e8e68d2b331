"""Secret tokens: 256 random bits shown once, only their SHA-256 stored."""

from __future__ import annotations

import hashlib
import secrets


def new_token(prefix: str = "") -> tuple[str, str]:
    """Return (secret for the client, hash for the database)."""
    raw = prefix + secrets.token_urlsafe(32)
    return raw, hash_token(raw)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()
