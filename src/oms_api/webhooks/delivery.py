"""Sending deliveries: claim due ones and POST them signed (``recording`` writes what happened).

The worker's loop (``oms_api.worker.runner``) drives claim, send, record; each database step is its own
short transaction, and no transaction is open while a request is in flight. A claim is a lease
(``claimed_until``, with a ``claim_token``) that the worker renews while the request runs (a heartbeat
every third of the lease): a worker that dies keeps nothing, its deliveries become claimable when the lease
runs out. The claim also records the attempt as started, so a crash cannot hide it. Outcomes are written
only under the same token, so a worker whose lease was taken over cannot overwrite the new holder's result
(it still completes its own attempt row).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.kit.metrics import WEBHOOK_ATTEMPT_SECONDS, WEBHOOK_ATTEMPTS
from oms_api.settings import Settings
from oms_api.webhooks import claims_repository, domain, netguard, signing
from oms_api.webhooks.domain import AttemptOutcome

READ_LIMIT = 2048  # bytes of a receiver's answer that are read (the rest is not waited for)


@dataclass(frozen=True, slots=True)
class Work:
    """One claimed delivery, ready to send."""

    delivery_id: uuid.UUID
    endpoint_id: uuid.UUID
    token: uuid.UUID
    attempt_no: int
    attempt_id: uuid.UUID  # the attempt row written at the claim, completed with the outcome
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
    """How long a claim lasts without a heartbeat (the worker renews it every third of that)."""
    return settings.webhooks_claim_lease_seconds


def heartbeat_seconds(settings: Settings) -> float:
    return lease_seconds(settings) / 3


def lease_until(settings: Settings) -> datetime:
    return utcnow() + timedelta(seconds=lease_seconds(settings))


async def claim(
    session: AsyncSession,
    settings: Settings,
    limit: int,
    token: uuid.UUID,
    worker: str,
    sending: Mapping[uuid.UUID, int] | None = None,
) -> list[Work]:
    """Claim up to ``limit`` due deliveries under ``token``, start their attempts, load what sending needs.

    No endpoint gets more than ``webhooks_endpoint_concurrency`` of this worker's requests at once, counting
    those it is ``sending`` ({endpoint id: requests}); none while its circuit is open, one probe while it is
    half-open: see ``claims_repository.claim_due``.
    """
    now = utcnow()
    claimed = await claims_repository.claim_due(
        session, now, limit, lease_until(settings), token, settings.webhooks_endpoint_concurrency, sending or {}
    )
    if not claimed:
        return []
    attempt_ids = await claims_repository.start_attempts(session, claimed, now, worker)
    work = []
    for row in await claims_repository.claimed_work(session, [delivery_id for delivery_id, _ in claimed]):
        body = domain.body_of(domain.envelope(str(row.event_id), row.event_type, row.occurred_at, row.data))
        secrets_ = domain.signing_secrets(row.secret, row.previous_secret, row.previous_secret_expires_at, now)
        work.append(
            Work(
                delivery_id=row.id,
                endpoint_id=row.endpoint_id,
                token=token,
                attempt_no=row.attempt_count,
                attempt_id=attempt_ids[row.id],
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


async def renew(
    session: AsyncSession, settings: Settings, token: uuid.UUID, ids: Sequence[uuid.UUID]
) -> set[uuid.UUID]:
    """The heartbeat: extend the leases of deliveries still in flight; returns those still held."""
    return await claims_repository.renew_leases(session, token, ids, lease_until(settings))


async def release(session: AsyncSession, token: uuid.UUID, ids: Sequence[uuid.UUID]) -> None:
    """Give back claims whose requests were cut short (shutdown); their attempts are marked abandoned."""
    await claims_repository.release_claims(session, token, ids)
