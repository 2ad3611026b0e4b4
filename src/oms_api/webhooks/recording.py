"""Recording attempts: complete each attempt row, settle its delivery, and keep the endpoint's health.

One transaction per batch of results (the worker's writer groups them). Per endpoint, in the order the
attempts ended:

- the failure run (``consecutive_failures``): deliveries that failed after every retry, a success ending
  the run; ``webhooks_disable_after_failures`` of them disable the endpoint, and the count stops there;
- the circuit breaker: attempts with no answer (timeouts, connections refused or reset) in a row open it
  for ``webhooks_circuit_cooldown_seconds``; then one probe goes, and its answer closes it;
- 410 Gone disables the endpoint at once.

A disabled endpoint is announced by a ``webhook_endpoint.disabled`` event (through the outbox, so it exists
only if this transaction commits) that says how many deliveries it leaves pending.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.metrics import (
    WEBHOOK_CIRCUITS_OPENED,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERY_LAG,
    WEBHOOK_ENDPOINTS_DISABLED,
)
from oms_api.settings import Settings
from oms_api.webhooks import claims_repository, domain, repository
from oms_api.webhooks.delivery import Result
from oms_api.webhooks.domain import AttemptOutcome, Breaker, Circuit, DeliveryStatus
from oms_api.webhooks.snapshots import snapshot

log = structlog.get_logger("oms_api.webhooks")

WORKER_ACTOR = "worker"


def _consequence(result: Result, settings: Settings, rng: random.Random) -> tuple[dict[str, Any], str | None]:
    """The delivery's new state after ``result`` (every settled field), and a reason to disable at once (410)."""
    state: dict[str, Any] = {
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


def _attempt_row(result: Result, state: dict[str, Any]) -> dict[str, Any]:
    return {
        "attempt_id": result.work.attempt_id,
        "attempted_at": result.attempted_at,
        "duration_ms": result.duration_ms,
        "outcome": result.outcome.value,
        "status_code": result.status_code,
        "error": result.error,
        "response_excerpt": result.excerpt,
        "next_attempt_at": state["next_attempt_at"] if state["status"] == DeliveryStatus.PENDING else None,
    }


@dataclass(frozen=True, slots=True)
class Ended:
    """One held delivery's attempt as the endpoint's health sees it."""

    result: Result
    status: str  # the delivery's new status
    gone: str | None  # why the endpoint is disabled at once (410), if so


def _final(ended: Ended) -> bool:
    """Whether the delivery ended (succeeded, or failed after every retry; a 410 disables on its own)."""
    return ended.status != DeliveryStatus.PENDING and ended.gone is None


async def record(
    session: AsyncSession, results: Sequence[Result], settings: Settings, worker: str, rng: random.Random
) -> None:
    """Write the attempts and their consequences: success, retry later, dead letter, circuit, endpoint disabled.

    Only deliveries this worker still holds are settled (a lease that ran out belongs to whoever took it
    over); every attempt row is completed all the same, as long as it exists.
    """
    ordered = sorted(results, key=lambda r: r.finished_at)
    held: set[uuid.UUID] = set()
    for token in {r.work.token for r in ordered}:
        mine = [r.work.delivery_id for r in ordered if r.work.token == token]
        held |= await claims_repository.still_held(session, token, mine)
    attempts: list[dict[str, Any]] = []
    settled: list[dict[str, Any]] = []
    by_endpoint: dict[uuid.UUID, list[Ended]] = defaultdict(list)
    for result in ordered:
        work = result.work
        state, gone = _consequence(result, settings, rng)
        attempts.append(_attempt_row(result, state))
        if work.delivery_id not in held:
            continue
        settled.append({"delivery_id": work.delivery_id, **state})
        by_endpoint[work.endpoint_id].append(Ended(result, state["status"], gone))
        if state["status"] == DeliveryStatus.SUCCEEDED:
            WEBHOOK_DELIVERIES.labels("succeeded").inc()
            WEBHOOK_DELIVERY_LAG.observe(max(0.0, (result.finished_at - work.occurred_at).total_seconds()))
        elif state["status"] == DeliveryStatus.FAILED:
            WEBHOOK_DELIVERIES.labels("failed").inc()
    await claims_repository.settle(session, settled)
    await claims_repository.finish_attempts(session, attempts)
    await claims_repository.abandon_earlier(session, {r.work.delivery_id: r.work.attempt_no for r in ordered})
    await _endpoint_health(session, by_endpoint, settings)


async def _endpoint_health(
    session: AsyncSession, by_endpoint: dict[uuid.UUID, list[Ended]], settings: Settings
) -> None:
    """The failure run and circuit of each endpoint after its attempts; disable the endpoint if it must be."""
    threshold = settings.webhooks_disable_after_failures
    cooldown = timedelta(seconds=settings.webhooks_circuit_cooldown_seconds)
    now = utcnow()
    for endpoint_id, row in (await claims_repository.lock_health(session, list(by_endpoint))).items():
        ended = by_endpoint[endpoint_id]
        before = Breaker(row.circuit_failures, row.circuit_open_until)
        breaker = before.after(
            ((e.result.outcome, e.result.finished_at) for e in ended), settings.webhooks_circuit_threshold, cooldown
        )
        failures, reached, gone = row.consecutive_failures, False, None
        if row.active:  # a disabled endpoint's count stays as it was when it was disabled
            finals = [e.status == DeliveryStatus.SUCCEEDED for e in ended if _final(e)]
            failures, reached = domain.failure_run(row.consecutive_failures, finals, threshold)
            for e in ended:  # a success after a 410 (in flight beside it) says the endpoint is there after all
                gone = e.gone or (None if e.status == DeliveryStatus.SUCCEEDED else gone)
        if (failures, breaker) != (row.consecutive_failures, before):
            await claims_repository.write_health(session, endpoint_id, failures, breaker)
        if before.state(now) is not Circuit.OPEN and breaker.state(now) is Circuit.OPEN:
            WEBHOOK_CIRCUITS_OPENED.inc()
            log.warning(
                "webhook_circuit_opened",
                endpoint_id=str(endpoint_id),
                failures=breaker.failures,
                until=breaker.open_until.isoformat() if breaker.open_until else None,
            )
        reason = gone or (f"{threshold} deliveries in a row failed after every retry" if reached else None)
        if reason is not None:
            await _disable(session, endpoint_id, reason, now)


async def _disable(session: AsyncSession, endpoint_id: uuid.UUID, reason: str, now: datetime) -> None:
    if not await claims_repository.disable_if_active(session, endpoint_id, reason, now):
        return
    endpoint = await repository.get_endpoint(session, endpoint_id)
    if endpoint is None:
        return
    await session.refresh(endpoint)
    counts = (await repository.delivery_counts(session, [endpoint_id])).get(endpoint_id, (0, 0))
    WEBHOOK_ENDPOINTS_DISABLED.labels("gone" if "410" in reason else "failures").inc()
    log.warning("webhook_endpoint_disabled", endpoint_id=str(endpoint_id), reason=reason, pending=counts[0])
    outbox.record(
        session,
        "webhook_endpoint.disabled",
        "webhook_endpoint",
        endpoint.id,
        snapshot(endpoint, counts),
        actor=WORKER_ACTOR,
        reason=reason,
    )
