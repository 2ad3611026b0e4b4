"""Rate limits: GCRA buckets kept in memory (SQLite, one process) or in PostgreSQL (shared by every process).

GCRA (the generic cell rate algorithm) is a token bucket held as one number per bucket: the *theoretical
arrival time* ``tat``. A policy of ``rate`` per second with ``burst`` lets a request in when, after it,
``tat - now <= burst / rate``; each admitted request moves ``tat`` on by ``1 / rate``. The state is a float,
so a check is one read-modify-write: in memory a dict entry, on PostgreSQL one ``INSERT … ON CONFLICT DO
UPDATE`` on ``rate_limit_buckets`` (an UNLOGGED table: losing it in a crash only forgets who was throttled),
sent on an autocommit connection of the limiter's own small pool, so the bucket row is locked for the
statement only, never for the request's transaction, and a request holding its session's connection never
waits for one from the same pool. The database's clock times every process alike, so N processes share one
budget exactly: the error bound across processes is zero requests (only the Retry-After of a refusal that
raced other checks may be a little short; see ``PostgresBuckets``).

Headers follow draft-ietf-httpapi-ratelimit-headers-10: ``RateLimit-Policy: "api-key";q=200;w=2`` (the burst
as the quota, refilled in ``w`` seconds) and ``RateLimit: "api-key";r=150;t=1`` (requests left now, seconds
until the bucket is full again); a refusal adds ``Retry-After`` (seconds until one request fits).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Float, String, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, create_engine
from oms_api.kit.errors import OmsError
from oms_api.kit.sql import dialect_name

EPSILON = 1e-6
"""Slack for float rounding, so that exactly ``burst`` requests at one instant all fit."""
LIMITER_POOL_SIZE = 4
LIMITER_MAX_OVERFLOW = 0
"""The limiter's own connections per process: a check holds one for a round trip, so four serve thousands of
checks a second; no overflow, because connections opened for a burst and closed after it cost far more CPU
than a short wait for a pooled one."""
SWEEP_EVERY = 4096
"""The in-memory buckets drop full (idle) entries every this many checks: memory stays bounded."""


class RateLimitBucket(Base):
    """One GCRA bucket on PostgreSQL (an idle bucket is the same as none: ``purge`` deletes them)."""

    __tablename__ = "rate_limit_buckets"

    bucket: Mapped[str] = mapped_column(String(200), primary_key=True)
    tat: Mapped[float] = mapped_column(Float, doc="Theoretical arrival time, seconds since the epoch (DB clock)")


@dataclass(frozen=True, slots=True)
class Policy:
    """``per_second`` requests per second with bursts of ``burst``; either 0 turns the limit off."""

    name: str
    per_second: float
    burst: int

    @property
    def enabled(self) -> bool:
        return self.per_second > 0 and self.burst > 0

    @property
    def step(self) -> float:
        return 1.0 / self.per_second

    @property
    def tolerance(self) -> float:
        return self.burst / self.per_second


@dataclass(frozen=True, slots=True)
class Decision:
    policy: Policy
    allowed: bool
    remaining: int
    reset_seconds: float
    retry_after_seconds: float

    def headers(self) -> dict[str, str]:
        """The draft's ``RateLimit-Policy`` and ``RateLimit`` fields, and ``Retry-After`` on a refusal."""
        policy = self.policy
        headers = {
            "RateLimit-Policy": f'"{policy.name}";q={policy.burst};w={max(1, math.ceil(policy.tolerance))}',
            "RateLimit": f'"{policy.name}";r={self.remaining};t={max(0, math.ceil(self.reset_seconds - EPSILON))}',
        }
        if not self.allowed:
            headers["Retry-After"] = str(max(1, math.ceil(self.retry_after_seconds - EPSILON)))
        return headers


def decide(policy: Policy, now: float, tat: float | None) -> tuple[Decision, float | None]:
    """GCRA: the decision for one request at ``now`` on a bucket at ``tat``, and the bucket's new ``tat``
    (None: unchanged)."""
    start = now if tat is None else max(tat, now)
    after = start + policy.step
    if after - now <= policy.tolerance + EPSILON:
        return admitted(policy, now, after), after
    return refused(policy, now, start), None


def admitted(policy: Policy, now: float, tat: float) -> Decision:
    """The decision for a request let in, which moved the bucket to ``tat``."""
    remaining = math.floor((policy.tolerance - (tat - now)) / policy.step + EPSILON)
    return Decision(policy, True, max(0, remaining), tat - now, 0.0)


def refused(policy: Policy, now: float, tat: float) -> Decision:
    """The decision for a request refused by a bucket at ``tat``: one more fits once ``tat + step - tolerance``."""
    wait = max(0.0, tat + policy.step - policy.tolerance - now)
    return Decision(policy, False, 0, max(0.0, tat - now), wait)


class Buckets(Protocol):
    async def hit(self, bucket: str, policy: Policy) -> Decision: ...

    async def close(self) -> None: ...


class MemoryBuckets:
    """This process's buckets (SQLite runs one API process; with several, each keeps its own budget)."""

    def __init__(self) -> None:
        self._tat: dict[str, float] = {}
        self._checks = 0

    async def hit(self, bucket: str, policy: Policy) -> Decision:
        now = time.monotonic()
        decision, tat = decide(policy, now, self._tat.get(bucket))
        if tat is not None:
            self._tat[bucket] = tat
        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self._tat = {key: value for key, value in self._tat.items() if value > now}
        return decision

    async def close(self) -> None:
        self._tat.clear()


_HIT = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now),
    hit AS (
        INSERT INTO rate_limit_buckets AS b (bucket, tat)
        SELECT :bucket, clock.now + :step FROM clock
        ON CONFLICT (bucket) DO UPDATE
            SET tat = greatest(b.tat, excluded.tat - :step) + :step
            WHERE greatest(b.tat, excluded.tat - :step) + :step <= excluded.tat - :step + :tolerance + :epsilon
        RETURNING b.tat
    )
    SELECT clock.now,
           (SELECT tat FROM hit) AS admitted,
           (SELECT tat FROM rate_limit_buckets WHERE bucket = :bucket) AS previous
    FROM clock
    """
)


class PostgresBuckets:
    """Buckets every API process shares: one statement per check, atomic under concurrency.

    The INSERT's conflict branch locks the row and re-reads its latest ``tat``, so concurrent checks of one
    bucket from any number of processes admit exactly what one process would. A refused request reads ``tat``
    from the statement's snapshot, which checks running at the same instant may have moved on since: its
    ``Retry-After`` may then be early by their steps (it is never less than one second anyway).
    """

    def __init__(self, database_url: str) -> None:
        self._url = database_url
        self._engine: AsyncEngine | None = None

    def _connect(self) -> Any:
        if self._engine is None:  # made at the first check: a process that never limits opens nothing
            self._engine = create_engine(
                self._url,
                pool_size=LIMITER_POOL_SIZE,
                max_overflow=LIMITER_MAX_OVERFLOW,
                isolation_level="AUTOCOMMIT",  # every connection, once: no per-checkout switching
                pool_reset_on_return=None,  # no transaction to roll back on return
            )
        return self._engine.connect()

    async def hit(self, bucket: str, policy: Policy) -> Decision:
        params = {"bucket": bucket, "step": policy.step, "tolerance": policy.tolerance, "epsilon": EPSILON}
        async with self._connect() as conn:
            row = (await conn.execute(_HIT, params)).one()
        now = float(row.now)
        if row.admitted is not None:
            return admitted(policy, now, float(row.admitted))
        return refused(policy, now, float(row.previous) if row.previous is not None else now)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None


class TooManyRequests(OmsError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str, decision: Decision, *, code: str | None = None) -> None:
        super().__init__(detail, code=code, headers=decision.headers(), policy=decision.policy.name)


_PURGE = text("DELETE FROM rate_limit_buckets WHERE tat < extract(epoch FROM clock_timestamp())::float8")


async def purge(session: AsyncSession) -> int:
    """Delete idle buckets (their ``tat`` is past: they are full, the same as no row); returns how many went.

    Only PostgreSQL keeps buckets in the table (SQLite keeps them in memory), so elsewhere there is nothing to do.
    """
    if dialect_name(session) != "postgresql":
        return 0
    result = await session.execute(_PURGE)
    return int(result.rowcount)  # type: ignore[attr-defined]
