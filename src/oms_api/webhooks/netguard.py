"""Server-side request forgery guard: webhook URLs may only reach public addresses.

Checked twice: when an endpoint is saved (early, readable feedback) and at every connection a delivery
makes. The second check is the one that counts: the HTTP client's network backend resolves the host
itself, refuses the connection if any address is forbidden, and connects to the very address it checked,
so a name that is re-pointed after the check (DNS rebinding) cannot reach a private address. TLS still
verifies the certificate against the host name. Redirects are never followed and proxies from the
environment are ignored, so nothing but the checked address is ever contacted.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx

from oms_api.webhooks.domain import IpAddress, Target, check_addresses

RESOLVE_TIMEOUT_SECONDS = 5.0


class ForbiddenAddress(Exception):
    """The URL resolves to an address webhooks may not call."""


class Unresolvable(Exception):
    """The host name has no address (or the resolver did not answer in time)."""


async def resolve(host: str, port: int, within: float = RESOLVE_TIMEOUT_SECONDS) -> list[str]:
    """Every address ``host`` resolves to (TCP), in resolver order."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(within):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise Unresolvable(f"cannot resolve {host!r}: {exc or type(exc).__name__}") from exc
    seen: list[str] = []
    for info in infos:
        address = str(info[4][0])
        if address not in seen:
            seen.append(address)
    return seen


async def allowed_addresses(target: Target, *, allow_private: bool) -> list[IpAddress]:
    """The addresses a delivery to ``target`` may use; ``ForbiddenAddress`` or ``Unresolvable`` otherwise."""
    addresses = [str(target.literal_ip)] if target.literal_ip is not None else await resolve(target.host, target.port)
    try:
        return check_addresses(addresses, allow_private=allow_private)
    except ValueError as exc:
        raise ForbiddenAddress(f"{target.host}: {exc}") from exc


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's network backend, but every TCP connection goes to a resolved and checked address."""

    def __init__(self, *, allow_private: bool) -> None:
        self._allow_private = allow_private
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            literal: IpAddress | None = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            literal = None
        target = Target("tcp", host, port, literal)
        try:
            addresses = await allowed_addresses(target, allow_private=self._allow_private)
        except Unresolvable as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        last: Exception | None = None
        for address in addresses:  # every one is allowed: try them in resolver order
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise ForbiddenAddress("webhooks do not connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_client(*, allow_private: bool, max_connections: int, timeout: float) -> httpx.AsyncClient:
    """The HTTP client deliveries use: guarded connections, no redirects, no environment proxies."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
    # httpx has no parameter for the network backend: give its transport a pool built on the guarded one.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=GuardedBackend(allow_private=allow_private),
    )
    return httpx.AsyncClient(
        transport=transport, follow_redirects=False, trust_env=False, timeout=httpx.Timeout(timeout)
    )
