"""Scheduled jobs: a small registry of interval jobs, each run by one worker at a time.

Each job has a row in ``scheduled_jobs``. A worker claims a due job with one conditional UPDATE (due, and
not claimed or its claim expired), which only one worker can win on any database; it then runs the job
and records the result and the next run in the same transaction as the job's work. A worker killed
mid-job leaves an expiring claim and an uncommitted transaction: the job simply runs again later.
Jobs must therefore be idempotent (they are: purges and expiries by time).

Jobs of other contexts are registered when their module exists (``oms_api.carts.tasks.expire_carts``,
``oms_api.integrations.tasks.process_pending``), so the worker runs with whatever is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import idempotency, ratelimit
from oms_api.kit.clock import utcnow
from oms_api.kit.metrics import JOB_RUNS, JOB_SECONDS
from oms_api.kit.redaction import describe
from oms_api.kit.sql import upsert_insert
from oms_api.payments.tasks import reconcile_pending as reconcile_payments
from oms_api.settings import Settings
from oms_api.webhooks.tasks import purge_deliveries
from oms_api.worker.models import ScheduledJob, WorkerLock
from oms_api.worker.tx import Sessions, transaction

log = structlog.get_logger("oms_api.worker.jobs")

JobFunction = Callable[[AsyncSession], Awaitable[int]]
LOCKS = ("outbox_fanout",)


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    interval_seconds: float
    run: JobFunction
    description: str


def _optional(module: str, attribute: str) -> JobFunction | None:
    """``module.attribute`` if the module is installed (an import error inside it is not hidden)."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None
    if spec is None:
        return None
    return cast(JobFunction, getattr(importlib.import_module(module), attribute))


def default_jobs(settings: Settings) -> list[Job]:
    """Every scheduled job of the service."""

    async def purge_webhooks(session: AsyncSession) -> int:
        return await purge_deliveries(session, settings.webhooks_retention_days)

    jobs = [
        Job(
            "idempotency_purge",
            settings.job_idempotency_purge_seconds,
            idempotency.purge,
            "Delete expired Idempotency-Key results",
        ),
        Job(
            "webhook_deliveries_purge",
            settings.job_webhooks_purge_seconds,
            purge_webhooks,
            "Delete finished webhook deliveries past their retention",
        ),
        Job(
            "rate_limits_purge",
            settings.job_rate_limits_purge_seconds,
            ratelimit.purge,
            "Delete idle rate-limit buckets (PostgreSQL)",
        ),
    ]
    expire_carts = _optional("oms_api.carts.tasks", "expire_carts")
    if expire_carts is not None:
        jobs.append(
            Job("cart_expiry", settings.job_cart_expiry_seconds, expire_carts, "Release the holds of expired carts")
        )
    mark_overdue = _optional("oms_api.invoices.tasks", "mark_overdue")
    if mark_overdue is not None:
        jobs.append(
            Job(
                "invoice_overdue",
                settings.job_invoice_overdue_seconds,
                mark_overdue,
                "Mark invoices past their due date with money still due overdue",
            )
        )
    expire_quotes = _optional("oms_api.quotes.tasks", "expire_quotes")
    if expire_quotes is not None:
        jobs.append(
            Job(
                "quote_expiry",
                settings.job_quote_expiry_seconds,
                expire_quotes,
                "Expire sent quotes past their validity and release their held stock",
            )
        )
    process_pending = _optional("oms_api.integrations.tasks", "process_pending")
    if process_pending is not None:
        jobs.append(
            Job(
                "storefront_intake",
                settings.job_intake_seconds,
                process_pending,
                "Turn stored storefront deliveries into orders",
            )
        )

    async def settle_payments(session: AsyncSession) -> int:
        return await reconcile_payments(session, settings)

    jobs.append(
        Job(
            "payments_reconcile",
            settings.job_payments_reconcile_seconds,
            settle_payments,
            "Ask payment gateways again about operations whose call timed out (same idempotency keys)",
        )
    )
    return jobs


async def prepare(session: AsyncSession, jobs: list[Job]) -> None:
    """Make sure every lock and job has its row (first run, or a job added by an upgrade)."""
    now = utcnow()
    for name in LOCKS:
        await session.execute(upsert_insert(session, WorkerLock).values(name=name).on_conflict_do_nothing())
    for job in jobs:
        await session.execute(
            upsert_insert(session, ScheduledJob).values(name=job.name, next_run_at=now).on_conflict_do_nothing()
        )


async def due_jobs(session: AsyncSession, names: list[str], now: datetime) -> list[str]:
    rows = await session.execute(
        select(ScheduledJob.name).where(
            ScheduledJob.name.in_(names),
            ScheduledJob.next_run_at <= now,
            or_(ScheduledJob.claimed_until.is_(None), ScheduledJob.claimed_until < now),
        )
    )
    return list(rows.scalars())


async def claim(session: AsyncSession, name: str, worker: str, now: datetime, lease_seconds: float) -> bool:
    """Take a due job for ``lease_seconds``; False if it is not due or another worker holds it."""
    result = await session.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.name == name,
            ScheduledJob.next_run_at <= now,
            or_(ScheduledJob.claimed_until.is_(None), ScheduledJob.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=lease_seconds), claimed_by=worker, last_started_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def _finish(session: AsyncSession, job: Job, worker: str, started: float, values: dict[str, Any]) -> None:
    now = utcnow()
    await session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.name == job.name, ScheduledJob.claimed_by == worker)
        .values(
            claimed_until=None,
            claimed_by=None,
            next_run_at=now + timedelta(seconds=job.interval_seconds),
            last_finished_at=now,
            last_duration_ms=int((time.perf_counter() - started) * 1000),
            runs=ScheduledJob.runs + 1,
            **values,
        )
    )


async def run_due(sessions: Sessions, jobs: list[Job], worker: str, settings: Settings) -> int:
    """Run every job that is due and that this worker wins; returns how many ran."""
    by_name = {job.name: job for job in jobs}
    now = utcnow()

    async def find(session: AsyncSession) -> list[str]:
        return await due_jobs(session, list(by_name), now)

    ran = 0
    for name in await transaction(sessions, find):
        job = by_name[name]

        async def take(session: AsyncSession, name: str = name) -> bool:
            return await claim(session, name, worker, utcnow(), settings.worker_job_lease_seconds)

        if not await transaction(sessions, take):
            continue
        await run_one(sessions, job, worker)
        ran += 1
    return ran


async def run_one(sessions: Sessions, job: Job, worker: str) -> None:
    """Run a claimed job: its work and its bookkeeping commit together; a failure is recorded on its own."""
    started = time.perf_counter()

    async def work(session: AsyncSession) -> int:
        result = await job.run(session)
        await _finish(session, job, worker, started, {"last_result": int(result or 0), "last_error": None})
        return int(result or 0)

    try:
        result = await transaction(sessions, work)
    except Exception as exc:
        JOB_RUNS.labels(job.name, "error").inc()
        JOB_SECONDS.labels(job.name).observe(time.perf_counter() - started)
        error = f"{type(exc).__name__}: {exc}"[:500]
        # The message may quote row values: its type and a value-free traceback (kit.redaction) instead.
        log.error("job_failed", job=job.name, error=describe(exc), exc_info=exc)

        async def failed(session: AsyncSession) -> None:
            await _finish(session, job, worker, started, {"last_error": error})

        await transaction(sessions, failed)
        return
    JOB_RUNS.labels(job.name, "ok").inc()
    JOB_SECONDS.labels(job.name).observe(time.perf_counter() - started)
    if result:
        log.info("job_done", job=job.name, result=result)
