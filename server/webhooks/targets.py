"""Where a webhook may be posted (an SSRF guard) and an HTTP transport that
posts only there.

A host is read the way a resolver would read it: `2130706433`, `0x7f000001`,
`127.1` and `0177.0.0.1` are all 127.0.0.1 (the BSD `inet_aton` forms, which
`getaddrinfo` accepts), so each is normalised to its one canonical address
before it is judged. Without `FRONTDESK_WEBHOOK_ALLOW_PRIVATE` every address
a target has must be public (`is_public`).

`PinnedTransport` resolves each request's host once, checks every address,
and opens its connection only to an address it checked: its network backend
knows no resolver, so there is no second lookup that a short-lived DNS answer
could rebind. The URL is left as it is, so the `Host` header, TLS SNI and the
certificate check are for the name.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Awaitable, Callable, Iterable

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
# A receiver's answer is not read past this: only its status matters.
MAX_RESPONSE_BYTES = 64 * 1024
_BODY_HEADERS = {b"content-encoding", b"content-length", b"transfer-encoding"}


class TargetRefused(httpx.TransportError):
    """The target's host is not one deliveries may go to (or did not resolve)."""


def parse_ip(host: str) -> IPAddress | None:
    """`host` as an IP address, in any form a resolver takes for one (IPv6 in
    brackets; IPv4 as 1 to 4 dot-separated decimal, `0x` hex or `0`-octal
    numbers, the last filling the remaining bytes), or None for a name.
    ValueError for something that looks like a number but is no address
    (`1.2.3.4.5`, `0x100000000`, `08`)."""
    if ":" in host or host.startswith("["):
        return ipaddress.IPv6Address(host.strip("[]"))
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()  # a trailing dot
    if not _numeric(parts[-1]):
        return None  # a name
    if len(parts) > 4 or not all(_numeric(part) for part in parts):
        raise ValueError(f"{host} is not a valid address")
    numbers = [_number(part) for part in parts]
    last_bits = 8 * (5 - len(numbers))
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 1 << last_bits:
        raise ValueError(f"{host} is not a valid address")
    value = numbers[-1]
    for index, number in enumerate(numbers[:-1]):
        value |= number << (24 - 8 * index)
    return ipaddress.IPv4Address(value)


def _numeric(part: str) -> bool:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return all(c in "0123456789abcdef" for c in lowered[2:])
    return part.isascii() and part.isdigit()


def _number(part: str) -> int:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # ValueError for 08, 09, as inet_aton refuses them
    return int(part)


def normalise_host(host: str) -> str:
    """The canonical spelling of `host`: an address in its standard form (IPv6
    in brackets), a name in lower case without a trailing dot."""
    address = parse_ip(host)
    if isinstance(address, ipaddress.IPv6Address):
        return f"[{address.compressed}]"
    if address is not None:
        return str(address)
    return host.lower().rstrip(".")


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast, also for the IPv4 address inside an IPv6 one
    (IPv4-mapped, 6to4, Teredo, NAT64): no loopback, private, link-local
    (cloud metadata), shared, reserved, multicast or unspecified address."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = [address.ipv4_mapped, address.sixtofour]
        if address.teredo:
            embedded.extend(address.teredo)
        if address in _NAT64:
            embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if any(inner is not None and not is_public(inner) for inner in embedded):
            return False
    return address.is_global and not address.is_multicast


def is_local_name(host: str) -> bool:
    """`localhost` and its subdomains are loopback whatever a resolver says (RFC 6761)."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address `host` has (a literal address is its own), in the
    resolver's order, without repeats. OSError when it does not resolve."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


async def checked_addresses(
    host: str, port: int, *, allow_private: bool, resolver: Resolver = resolve
) -> list[IPAddress]:
    """The addresses of `host` a delivery may connect to: all of them, once
    every one is public (or private targets are allowed)."""
    try:
        addresses = await resolver(host, port)
    except (OSError, ValueError) as exc:
        raise TargetRefused(f"{host} does not resolve ({exc})") from None
    if not addresses:
        raise TargetRefused(f"{host} does not resolve")
    if not allow_private:
        if is_local_name(host):
            raise TargetRefused(f"refused: {host} is a local name")
        private = [str(a) for a in addresses if not is_public(a)]
        if private:
            raise TargetRefused(
                f"refused: {host} resolves to {', '.join(private)}, not a public address"
            )
    return addresses


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Connects a (host, port) only to the addresses pinned for it."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()
        self._pins: dict[tuple[str, int], list[IPAddress]] = {}

    def pin(self, host: str, port: int, addresses: list[IPAddress]) -> None:
        self._pins[(host, port)] = addresses

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = self._pins.get((host, port))
        if not addresses:
            raise httpcore.ConnectError(f"{host}:{port} was not checked")
        failure: Exception | None = None
        for address in addresses:  # each one was checked
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore's interface
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("webhooks are posted over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# httpcore's exceptions as httpx's (the same names), for callers of an httpx client.
_ERRORS: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.ProtocolError: httpx.ProtocolError,
    httpcore.NetworkError: httpx.NetworkError,
    httpcore.TimeoutException: httpx.TimeoutException,
}


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that resolves each request's host once, refuses it
    unless every address is allowed, and connects to those addresses only.

    `resolver` is the DNS: the system's by default; tests give one that
    answers for names no real DNS has. Certificates are checked against
    certifi's authorities, or `SSL_CERT_FILE` / `SSL_CERT_DIR` when set
    (httpx's rules)."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: Resolver = resolve,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self._backend = _PinnedBackend()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(),
            network_backend=self._backend,
            retries=0,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.raw_host.decode("ascii")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await checked_addresses(
            host, port, allow_private=self.allow_private, resolver=self.resolver
        )
        self._backend.pin(host, port, addresses)
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=typing.cast(typing.AsyncIterable[bytes], request.stream),
            extensions=request.extensions,
        )
        try:
            response = await self._pool.handle_async_request(core_request)
            try:
                body = await _read_limited(response)
            finally:
                await response.aclose()
        except tuple(_ERRORS) as exc:
            mapped = next(v for k, v in _ERRORS.items() if isinstance(exc, k))
            raise mapped(str(exc) or type(exc).__name__, request=request) from exc
        # The body as received, possibly cut short: no header that would make
        # httpx decode or measure it.
        headers = [(k, v) for k, v in response.headers if k.lower() not in _BODY_HEADERS]
        return httpx.Response(
            status_code=response.status, headers=headers, content=body, request=request
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


async def _read_limited(response: httpcore.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in typing.cast(typing.AsyncIterable[bytes], response.stream):
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_RESPONSE_BYTES:
            break
    return b"".join(chunks)[:MAX_RESPONSE_BYTES]
