"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
Cookies"): a browser that signed in to an account successfully gets a cookie
naming a random device nonce, signed for that account with a key derived from
the server key. With it, that browser tries that account under a throttle key
of its own, past the locks strangers earned for the account and for the
address (an office's NAT, a carrier's); its own failures lock it alone.

The cookie holds a few entries (people sharing a browser), each
`<nonce>.<signature>`; the account is not in it: an entry is valid for the
account whose hashed email it was signed with.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

from server.core.encryption import derived_key

# Entries kept per browser, the newest last.
MAX_ENTRIES = 5
_SEPARATOR = "~"
_ENTRY = re.compile(r"^([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _signature(account_hash: str, nonce: str) -> str:
    mac = hmac.new(derived_key("device-cookie"), f"{account_hash}.{nonce}".encode(), "sha256")
    return _b64(mac.digest())


def _entries(cookie: str | None) -> list[tuple[str, str]]:
    if not cookie or len(cookie) > 100 * MAX_ENTRIES:
        return []
    found = (_ENTRY.match(part) for part in cookie.split(_SEPARATOR))
    return [(m.group(1), m.group(2)) for m in found if m]


def trusted_device(cookie: str | None, account_hash: str) -> str | None:
    """The device's id (a hash of its nonce) when `cookie` vouches for this account."""
    for nonce, signature in _entries(cookie):
        if hmac.compare_digest(signature, _signature(account_hash, nonce)):
            return hashlib.sha256(nonce.encode()).hexdigest()
    return None


def remember(cookie: str | None, account_hash: str) -> str | None:
    """The cookie value after a successful sign-in to the account, or None when
    the browser already carries a valid entry for it."""
    if trusted_device(cookie, account_hash) is not None:
        return None
    nonce = _b64(secrets.token_bytes(16))
    entries = [f"{n}.{s}" for n, s in _entries(cookie)][-(MAX_ENTRIES - 1) :]
    return _SEPARATOR.join([*entries, f"{nonce}.{_signature(account_hash, nonce)}"])
