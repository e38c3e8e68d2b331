"""The client address used for throttling and audit: X-Forwarded-For counts
only behind a configured trusted proxy, and only its last untrusted hop."""

from __future__ import annotations

import pytest
from starlette.requests import Request

from server.http import client_address

PROXY = "10.0.0.5"


def request_from(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    return Request({"type": "http", "client": (peer, 1234), "headers": headers})


@pytest.mark.parametrize(
    ("peer", "forwarded", "expected"),
    [
        ("198.51.100.1", None, "198.51.100.1"),
        # Not behind our proxy: the header is anyone's to forge.
        ("198.51.100.1", "1.2.3.4", "198.51.100.1"),
        (PROXY, "203.0.113.9", "203.0.113.9"),
        # A client may prepend whatever it likes; only the hop our proxy saw counts.
        (PROXY, "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (PROXY, f"203.0.113.9, {PROXY}", "203.0.113.9"),
        (PROXY, "not-an-address", PROXY),
        (PROXY, None, PROXY),
    ],
)
def test_client_address(peer: str, forwarded: str | None, expected: str) -> None:
    assert client_address(request_from(peer, forwarded), [PROXY]) == expected
