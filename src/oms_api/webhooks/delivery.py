"""Sending deliveries: claim due ones, POST them signed, and record what happened.

The worker's loop (``oms_api.worker.runner``) drives these three steps; each database step is its own
short transaction, and no transaction is open while a request is in flight. A claim is a lease
(``claimed_until``, with a ``claim_token``): a worker that dies keeps nothing, its deliveries become
claimable when the lease runs out. Outcomes are written only under the same token, so a worker whose
lease was taken over cannot overwrite the new holder's result (it still logs its attempt).
"""

from __future__ import annotations

import asyncio
import random
import ssl
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.kit.metrics import (
    WEBHOOK_ATTEMPT_SECONDS,
    WEBHOOK_ATTEMPTS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERY_LAG,
    WEBHOOK_ENDPOINTS_DISABLED,
)
from oms_api.settings import Settings
from oms_api.webhooks import domain, netguard, repository, signing
from oms_api.webhooks.domain import AttemptOutcome, DeliveryStatus
from oms_api.webhooks.snapshots import snapshot

READ_LIMIT = 2048  # bytes of a receiver's answer that are read (the rest is not waited for)
WORKER_ACTOR = "worker"


@dataclass(frozen=True, slots=True)
class Work:
    """One claimed delivery, ready to send."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    token: uuid.UUID
    attempt_no: int
    url: str
    secrets: tuple[str, ...]
    event_id: str
    occurred_at: datetime
    body: str


@dataclass(frozen=True, slots=True)
class Result:
    work: Work
    attempted_at: datetime
    finished_at: datetime
    duration_ms: int
    outcome: AttemptOutcome
    status_code: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None


def lease_seconds(settings: Settings) -> float:
    """A claim outlives the longest attempt by a margin, whatever the settings say."""
    return max(settings.webhooks_claim_lease_seconds, settings.webhooks_timeout_seconds + 10)


async def claim(session: AsyncSession, settings: Settings, limit: int, token: uuid.UUID) -> list[Work]:
    """Claim up to ``limit`` due deliveries under ``token`` and load what sending them needs."""
    now = utcnow()
    ids = await repository.claim_due(session, now, limit, now + timedelta(seconds=lease_seconds(settings)), token)
    if not ids:
        return []
    work = []
    for row in await repository.claimed_work(session, ids):
        body = domain.body_of(domain.envelope(str(row.event_id), row.event_type, row.occurred_at, row.data))
        secrets_ = domain.signing_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
        work.append(
            Work(
                delivery_id=row.id,
                endpoint_id=row.endpoint_id,
                token=token,
                attempt_no=row.attempt_count + 1,
                url=row.url,
                secrets=tuple(secrets_),
                event_id=str(row.event_id),
                occurred_at=row.occurred_at,
                body=body,
            )
        )
    return work


async def send(client: httpx.AsyncClient, work: Work, settings: Settings) -> Result:
    """One signed POST within the attempt's time limit; never raises for anything the network does."""
    attempted_at = utcnow()
    started = time.perf_counter()
    headers = signing.headers(work.secrets, work.event_id, attempted_at, work.body)
    status: int | None = None
    error: str | None = None
    excerpt: str | None = None
    retry_after: float | None = None
    try:
        async with (
            asyncio.timeout(settings.webhooks_timeout_seconds),
            client.stream("POST", work.url, content=work.body.encode(), headers=headers) as response,
        ):
            status = response.status_code
            raw = b""
            async for chunk in response.aiter_bytes():
                raw += chunk
                if len(raw) >= READ_LIMIT:
                    break
            excerpt = domain.excerpt(raw.decode("utf-8", "replace")) if raw else None
            retry_after = domain.parse_retry_after(response.headers.get("retry-after"), utcnow())
            location = response.headers.get("location")
        if 200 <= status < 300:
            outcome = AttemptOutcome.SUCCEEDED
        else:
            outcome = AttemptOutcome.HTTP_ERROR
            error = f"HTTP {status}"
            if 300 <= status < 400:
                error += f": redirect to {location!r} not followed" if location else ": redirects are not followed"
    except netguard.ForbiddenAddress as exc:
        outcome, error = AttemptOutcome.REFUSED, str(exc)
    except (TimeoutError, httpx.TimeoutException):
        outcome, error = AttemptOutcome.TIMEOUT, f"no answer within {settings.webhooks_timeout_seconds:g} s"
        status = None
    except (httpx.HTTPError, OSError, ssl.SSLError, UnicodeError) as exc:
        outcome, error = AttemptOutcome.NETWORK_ERROR, f"{type(exc).__name__}: {exc}".rstrip(": ")
        status = None
    duration = time.perf_counter() - started
    WEBHOOK_ATTEMPTS.labels(outcome.value).inc()
    WEBHOOK_ATTEMPT_SECONDS.observe(duration)
    return Result(
        work=work,
        attempted_at=attempted_at,
        finished_at=utcnow(),
        duration_ms=int(duration * 1000),
        outcome=outcome,
        status_code=status,
        error=domain.excerpt(error) if error else None,
        excerpt=excerpt,
        retry_after=retry_after if status in (429, 503) else None,
    )


def _consequence(result: Result, settings: Settings, rng: random.Random) -> tuple[dict[str, Any], str | None]:
    """The delivery's new state after ``result`` (every settled field), and a reason to disable at once (410)."""
    state: dict[str, Any] = {
        "attempt_count": result.work.attempt_no,
        "last_status_code": result.status_code,
        "last_error": result.error,
        "status": DeliveryStatus.FAILED.value,
        "next_attempt_at": result.finished_at,
        "finished_at": result.finished_at,
    }
    if result.outcome is AttemptOutcome.SUCCEEDED:
        return {**state, "status": DeliveryStatus.SUCCEEDED.value}, None
    if result.status_code == 410:
        return state, "the endpoint answered 410 Gone"
    delay = domain.next_delay(
        result.work.attempt_no,
        settings.retry_schedule,
        jitter=settings.webhooks_retry_jitter,
        random_unit=rng.random(),
        retry_after=result.retry_after,
        retry_after_max=settings.webhooks_retry_after_max_seconds,
    )
    if delay is None:
        return state, None  # every retry spent: a dead letter
    retry_at = result.finished_at + timedelta(seconds=delay)
    return {**state, "status": DeliveryStatus.PENDING.value, "next_attempt_at": retry_at, "finished_at": None}, None


async def record(
    session: AsyncSession, results: Sequence[Result], settings: Settings, worker: str, rng: random.Random
) -> None:
    """Write the attempts and their consequences: success, retry later, dead letter, endpoint disabled.

    Only deliveries this worker still holds are settled (a lease that ran out belongs to whoever took it
    over); every attempt is logged all the same, as long as its delivery exists.
    """
    ordered = sorted(results, key=lambda r: r.attempted_at)
    ids = [r.work.delivery_id for r in ordered]
    tokens = {r.work.token for r in ordered}
    held: set[uuid.UUID] = set()
    for token in tokens:
        held |= await repository.still_held(
            session, token, [r.work.delivery_id for r in ordered if r.work.token == token]
        )
    attempts: list[dict[str, Any]] = []
    settled: list[dict[str, Any]] = []
    succeeded: set[uuid.UUID] = set()
    disable: dict[uuid.UUID, str] = {}
    dead: list[uuid.UUID] = []
    for result in ordered:
        work = result.work
        state, gone = _consequence(result, settings, rng)
        attempts.append(
            {
                "id": uuid7(),
                "delivery_id": work.delivery_id,
                "attempt_no": work.attempt_no,
                "attempted_at": result.attempted_at,
                "duration_ms": result.duration_ms,
                "outcome": result.outcome.value,
                "status_code": result.status_code,
                "error": result.error,
                "response_excerpt": result.excerpt,
                "next_attempt_at": state["next_attempt_at"] if state["status"] == DeliveryStatus.PENDING else None,
                "worker": worker,
            }
        )
        if work.delivery_id not in held:
            continue
        settled.append({"delivery_id": work.delivery_id, **state})
        if state["status"] == DeliveryStatus.SUCCEEDED:
            succeeded.add(work.endpoint_id)
            disable.pop(work.endpoint_id, None)
            WEBHOOK_DELIVERIES.labels("succeeded").inc()
            WEBHOOK_DELIVERY_LAG.observe(max(0.0, (result.finished_at - work.occurred_at).total_seconds()))
        elif state["status"] == DeliveryStatus.FAILED:
            WEBHOOK_DELIVERIES.labels("failed").inc()
            if gone is not None:
                disable[work.endpoint_id] = gone
            else:
                dead.append(work.endpoint_id)
    await repository.settle(session, settled)
    for endpoint_id in dead:
        if await repository.count_failure(session, endpoint_id) >= settings.webhooks_disable_after_failures:
            disable.setdefault(
                endpoint_id, f"{settings.webhooks_disable_after_failures} deliveries in a row failed after every retry"
            )
    unheld = [i for i in ids if i not in held]
    present = held | await repository.existing_deliveries(session, unheld)
    await repository.insert_attempts(session, [a for a in attempts if a["delivery_id"] in present])
    await repository.reset_failures(session, sorted(succeeded - disable.keys()))
    for endpoint_id, reason in disable.items():
        await _disable(session, endpoint_id, reason)


async def _disable(session: AsyncSession, endpoint_id: uuid.UUID, reason: str) -> None:
    if not await repository.disable_if_active(session, endpoint_id, reason, utcnow()):
        return
    endpoint = await repository.get_endpoint(session, endpoint_id)
    if endpoint is None:
        return
    await session.refresh(endpoint)
    WEBHOOK_ENDPOINTS_DISABLED.labels("gone" if "410" in reason else "failures").inc()
    outbox.record(
        session,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        endpoint.id,
        snapshot(endpoint),
        actor=WORKER_ACTOR,
        reason=reason,
    )


async def release(session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """Give claimed, unsent deliveries back (graceful shutdown)."""
    await repository.release_claims(session, token, ids)
