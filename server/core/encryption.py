"""Encryption at rest for secrets we must read back (TOTP seeds, mail links):
Fernet (AES-128-CBC with HMAC-SHA256) under the configured server key; and
keys derived from it for other purposes (`derived_key`)."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet

from server.settings import get_settings

logger = logging.getLogger(__name__)

_DEV_KEY_FILE = Path("var/secret.key")


def _development_key() -> bytes:
    # A first run must work with nothing configured: keep a key beside the data.
    if _DEV_KEY_FILE.exists():
        return _DEV_KEY_FILE.read_bytes().strip()
    key = Fernet.generate_key()
    _DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(_DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key)
    logger.warning("No FRONTDESK_SECRET_KEY: generated %s (development only).", _DEV_KEY_FILE)
    return key


@lru_cache(maxsize=1)
def _key() -> bytes:
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key.encode()
    if settings.production:
        raise RuntimeError("FRONTDESK_SECRET_KEY must be set in production.")
    return _development_key()


@lru_cache(maxsize=1)
def _fernet() -> Fernet:
    return Fernet(_key())


@lru_cache(maxsize=8)
def derived_key(purpose: str) -> bytes:
    """A 256-bit key for one purpose (signing device cookies, say), derived from
    the server key: the Fernet key itself is never used for anything else."""
    return hmac.new(_key(), b"frontdesk:" + purpose.encode(), hashlib.sha256).digest()


def encrypt(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
