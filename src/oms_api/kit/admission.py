"""Who may call, and how often, decided before a route reads its body (``kit.routing.OmsRoute`` calls ``admit``).

FastAPI reads and parses a route's body before it runs the route's dependencies, so an authentication
dependency alone would let a caller without a key make the service read and parse 30 MB. ``OmsRoute`` calls
``admit`` first, with what is known per route before any body: the scopes its ``authenticate`` dependencies
demand (the same as ``x-required-scopes``) and whether a platform signs it. The order of checks is:

1. 429 ``too_many_failed_authentications``: this client address failed authentication too often lately;
2. 401 ``missing_api_key`` / ``invalid_api_key`` (the key is looked up in the request's session, as before);
3. 429 ``rate_limited``: the key is over its rate (its own, or ``OMS_RATE_LIMIT_*``);
4. 403 ``insufficient_scope``;
5. 413 ``payload_too_large`` (``kit.limits``), then 400 malformed JSON and 422 validation, as FastAPI reads it.

Webhooks a platform signs have no key: they are limited per channel (``OMS_INBOUND_RATE_LIMIT_*``) before their
body is read, and their 401 for a bad signature counts as a failed authentication of the sender's address.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.auth import authenticate, bearer_credentials, check_scopes, identify
from oms_api.kit.db import is_sqlite
from oms_api.kit.limits import RATE_LIMIT_HEADERS
from oms_api.kit.ratelimit import Buckets, Decision, MemoryBuckets, Policy, PostgresBuckets, TooManyRequests
from oms_api.kit.route_marks import SIGNED_BY_PLATFORM
from oms_api.settings import Settings

BLOCKED_SWEEP = 1024


def key_scopes(route: APIRoute) -> tuple[str, ...]:
    """The scopes of the route's ``authenticate`` dependencies (``require``, ``write_access``); a dependency that
    authenticates only sometimes (``require_unless``) keeps its own check, after the body."""
    found: list[str] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if dependant.call is authenticate:
            found.extend(scope for scope in dependant.own_oauth_scopes or [] if scope not in found)
        stack.extend(dependant.dependencies)
    return tuple(found)


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """What ``admit`` checks for one route, known when the route is built."""

    scopes: tuple[str, ...]
    platform: str | None

    @classmethod
    def of(cls, route: APIRoute) -> RoutePolicy:
        platform = (route.openapi_extra or {}).get(SIGNED_BY_PLATFORM)
        return cls(key_scopes(route), str(platform) if platform else None)


class Limits:
    """The process's rate limiters (``app.state.limits``): buckets in PostgreSQL (shared by every process) or,
    on SQLite, in memory."""

    def __init__(self, settings: Settings) -> None:
        url = settings.database_url
        self.buckets: Buckets = MemoryBuckets() if is_sqlite(url) else PostgresBuckets(url)
        self.per_key = Policy("api-key", settings.rate_limit_per_second, settings.rate_limit_burst)
        self.failures = Policy("auth-failures", settings.auth_failure_rate_per_second, settings.auth_failure_burst)
        self.inbound = Policy(
            "inbound-webhooks", settings.inbound_rate_limit_per_second, settings.inbound_rate_limit_burst
        )
        self._blocked: dict[str, tuple[float, Decision]] = {}

    async def close(self) -> None:
        await self.buckets.close()

    def refuse_if_blocked(self, address: str) -> None:
        """429 before the key is even looked up, while ``address`` is over its failed-authentication budget (known
        to this process from its own last refusal: no database round trip)."""
        blocked = self._blocked.get(address)
        if blocked is None:
            return
        until, decision = blocked
        left = until - time.monotonic()
        if left <= 0:
            del self._blocked[address]
            return
        raise _too_many_failures(Decision(decision.policy, False, 0, left, left))

    async def failed(self, address: str) -> None:
        """Count one failed authentication from ``address``; 429 once it is over its budget."""
        if not self.failures.enabled:
            return
        decision = await self.buckets.hit(f"auth-failures:{address}", self.failures)
        if decision.allowed:
            return
        if len(self._blocked) >= BLOCKED_SWEEP:
            now = time.monotonic()
            self._blocked = {a: b for a, b in self._blocked.items() if b[0] > now}
        self._blocked[address] = (time.monotonic() + decision.retry_after_seconds, decision)
        raise _too_many_failures(decision)


def _too_many_failures(decision: Decision) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed authentications from this address; retry after the time in Retry-After",
        decision,
        code="too_many_failed_authentications",
    )


def client_address(request: Request) -> str:
    """The client's address as uvicorn reports it (``X-Forwarded-For`` only from ``FORWARDED_ALLOW_IPS``)."""
    return request.client.host if request.client else "unknown"


async def admit(request: Request, session: AsyncSession, policy: RoutePolicy) -> None:
    """The checks of a route before its body is read (see the module docstring for their order)."""
    limits: Limits = request.app.state.limits
    if policy.scopes or policy.platform is not None:
        limits.refuse_if_blocked(client_address(request))
    if policy.platform is not None and limits.inbound.enabled:
        channel = str(request.path_params.get("channel", ""))
        decision = await limits.buckets.hit(f"inbound:{policy.platform}:{channel}", limits.inbound)
        _remember(request, decision)
        if not decision.allowed:
            raise TooManyRequests(
                f"Too many {policy.platform} webhooks for this channel; retry after the time in Retry-After", decision
            )
    if not policy.scopes:
        return
    principal, own = await identify(request, session, await bearer_credentials(request))
    rate = Policy(
        limits.per_key.name,
        limits.per_key.per_second if own.per_second is None else own.per_second,
        limits.per_key.burst if own.burst is None else own.burst,
    )
    if rate.enabled:
        decision = await limits.buckets.hit(f"api-key:{principal.api_key_id}", rate)
        _remember(request, decision)
        if not decision.allowed:
            raise TooManyRequests(
                f"This API key is over its rate limit ({rate.per_second:g}/s, bursts of {rate.burst}); "
                "retry after the time in Retry-After",
                decision,
            )
    check_scopes(principal, policy.scopes)


def _remember(request: Request, decision: Decision) -> None:
    """The RateLimit headers for the response that leaves (``kit.limits`` adds them, errors included)."""
    if decision.allowed:
        headers: list[tuple[bytes, bytes]] = [
            (name.lower().encode(), value.encode()) for name, value in decision.headers().items()
        ]
        setattr(request.state, RATE_LIMIT_HEADERS, headers)


async def failed_authentication(request: Request) -> None:
    """A route answered 401: count it against the caller's address (429 instead once over the budget)."""
    limits: Limits | None = getattr(request.app.state, "limits", None)
    if limits is not None:
        await limits.failed(client_address(request))
