"""``oms-api worker``: outbox fan-out, webhook delivery and scheduled jobs, in one asyncio process.

Four loops share the process:

- fan-out: holds the ``outbox_fanout`` lock for one short transaction at a time and turns committed events
  into deliveries (one fan-out runs at a time across all workers, so deliveries are made in event order);
- delivery: claims as many due deliveries as it has free slots (``webhooks_concurrency``), never more for one
  endpoint than its budget (``webhooks_endpoint_concurrency``, and none while its circuit is open), sends each
  in its own task, and hands the results to a writer task that records them in batches (group commit); a
  heartbeat renews the leases of the deliveries it holds every third of ``webhooks_claim_lease_seconds``;
- jobs: runs due scheduled jobs (``worker.jobs``), each claimed by one worker;
- metrics: refreshes the backlog gauges.

Any number of workers may run on PostgreSQL; on SQLite one is enough (more are safe, not faster).
SIGTERM (or SIGINT) stops claiming, lets in-flight deliveries finish within
``worker_shutdown_grace_seconds``, releases the claims of those that did not, and records every result;
a second signal skips the wait. A SIGKILLed worker loses nothing: its leases expire (no heartbeat renews
them) and others take over; the attempts it had started stay recorded, as ``abandoned``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from functools import partial
from typing import TypeVar

import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from oms_api.bootstrap import bootstrap
from oms_api.kit import secrets
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.metrics import WORKER_BACKLOG, WORKER_OLDEST_PENDING
from oms_api.kit.redaction import describe
from oms_api.settings import Settings
from oms_api.webhooks import delivery, fanout, netguard, recording, repository
from oms_api.worker import jobs as scheduled
from oms_api.worker.tx import Sessions, transaction, try_lock

log = structlog.get_logger("oms_api.worker")
T = TypeVar("T")

WRITE_BATCH = 500
METRICS_EVERY_SECONDS = 5.0
JOBS_EVERY_SECONDS = 1.0
MAX_ERROR_BACKOFF_SECONDS = 30.0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    """One worker process's loops; ``run()`` until ``request_stop()``."""

    def __init__(
        self,
        settings: Settings,
        sessions: Sessions | None = None,
        *,
        name: str | None = None,
        jobs: list[scheduled.Job] | None = None,
    ) -> None:
        bootstrap()  # the jobs publish to the event bus and read the event type catalogue
        secrets.install(settings)  # deliveries are signed with sealed secrets; no key on PostgreSQL: refused
        self.settings = settings
        self._engine: AsyncEngine | None = None
        if sessions is None:
            self._engine = create_engine(
                settings.database_url,
                pool_size=min(settings.db_pool_size, 5),
                max_overflow=settings.db_max_overflow,
                busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            )
            sessions = session_factory(self._engine)
        self.sessions: Sessions = sessions
        self.name = name or worker_name()
        self.jobs = scheduled.default_jobs(settings) if jobs is None else jobs
        self.token = uuid.uuid4()  # this process's claim token: its claims, and only its, are its to settle
        self._stop = asyncio.Event()
        self._force = asyncio.Event()
        self._wake = asyncio.Event()
        self._inflight: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._holding: set[uuid.UUID] = set()  # claimed and not yet recorded: the heartbeat renews their leases
        self._sending: Counter[uuid.UUID] = Counter()  # requests in flight per endpoint: its budget's use
        self._results: asyncio.Queue[delivery.Result | None] = asyncio.Queue()
        self._rng = random.Random()
        self._errors = 0
        self._prepared = False
        self.client = netguard.guarded_client(
            allow_private=settings.webhooks_allow_private_networks,
            max_connections=settings.webhooks_concurrency,
            timeout=settings.webhooks_timeout_seconds,
        )

    # --- lifecycle ----------------------------------------------------------------------------------------------

    def request_stop(self) -> None:
        """Stop gracefully; a second request stops without waiting for in-flight deliveries."""
        if self._stop.is_set():
            self._force.set()
        self._stop.set()
        self._wake.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> None:
        """Run every loop until a stop is requested, then shut down cleanly."""
        log.info("worker_started", worker=self.name, jobs=[job.name for job in self.jobs])
        try:
            while not self.stopping and not await self._guard("prepare", self._prepare, default=False):
                await self._pause(self._backoff())
            if not self.stopping:
                loops = [self._fanout_loop(), self._delivery_loop(), self._jobs_loop(), self._metrics_loop()]
                await asyncio.gather(*loops)
        finally:
            await self.client.aclose()
            if self._engine is not None:
                await self._engine.dispose()
            log.info("worker_stopped", worker=self.name)

    async def _prepare(self) -> bool:
        """Create the rows of the worker's locks and jobs (once per process)."""
        if self._prepared:
            return True

        async def work(session: AsyncSession) -> None:
            await scheduled.prepare(session, self.jobs)

        await transaction(self.sessions, work)
        self._prepared = True
        return True

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake at once on a stop request."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), seconds)

    async def _nap(self, seconds: float) -> None:
        """Sleep until new work may exist (``_wake``), a stop, or ``seconds``."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    def _backoff(self) -> float:
        return float(min(MAX_ERROR_BACKOFF_SECONDS, 0.5 * 2 ** min(self._errors, 6)))

    async def _guard(self, step: str, fn: Callable[[], Awaitable[T]], *, default: T) -> T:
        """Run one step; a database or programming error is logged and the loop goes on after a pause."""
        try:
            result = await fn()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._errors += 1
            log.error("worker_step_failed", step=step, worker=self.name, error=describe(exc), exc_info=exc)
            await self._pause(self._backoff())
            return default
        self._errors = 0
        return result

    # --- fan-out ------------------------------------------------------------------------------------------------

    async def fanout_step(self) -> int:
        """Fan out one batch of events (0 when none, or when another worker is fanning out)."""

        await self._prepare()

        async def work(session: AsyncSession) -> int:
            if not await try_lock(session, "outbox_fanout"):
                return 0
            return await fanout.fan_out(session, self.settings.worker_fanout_batch)

        made = await transaction(self.sessions, work)
        if made:
            self._wake.set()
        return made

    async def _fanout_loop(self) -> None:
        while not self.stopping:
            made = await self._guard("fanout", self.fanout_step, default=0)
            if made < self.settings.worker_fanout_batch:
                await self._pause(self.settings.worker_poll_interval_seconds)

    # --- delivery -----------------------------------------------------------------------------------------------

    async def claim_step(self, limit: int) -> list[delivery.Work]:
        async def work(session: AsyncSession) -> list[delivery.Work]:
            return await delivery.claim(session, self.settings, limit, self.token, self.name, self._sending)

        return await transaction(self.sessions, work)

    async def record(self, results: list[delivery.Result]) -> None:
        async def work(session: AsyncSession) -> None:
            await recording.record(session, results, self.settings, self.name, self._rng)

        await transaction(self.sessions, work)

    async def deliver_batch(self, limit: int | None = None) -> int:
        """Claim, send and record one batch without the loops (tests, benchmarks); returns how many were sent."""
        claimed = await self.claim_step(limit or self.settings.webhooks_concurrency)
        if not claimed:
            return 0
        ids = {work.delivery_id for work in claimed}
        self._holding |= ids
        try:
            async with self._heartbeats():
                results = await asyncio.gather(*(delivery.send(self.client, work, self.settings) for work in claimed))
                await self.record(list(results))
        finally:
            self._holding -= ids
        return len(claimed)

    async def heartbeat_step(self) -> None:
        """Renew the leases of the deliveries this worker holds, so a long request keeps its claim."""
        ids = list(self._holding)
        if not ids:
            return

        async def work(session: AsyncSession) -> set[uuid.UUID]:
            return await delivery.renew(session, self.settings, self.token, ids)

        held = await transaction(self.sessions, work)
        lost = (set(ids) - held) & self._holding
        if lost:  # the lease ran out before a renewal (a stalled process): another worker may send them too
            log.warning("worker_leases_lost", worker=self.name, deliveries=len(lost))

    @contextlib.asynccontextmanager
    async def _heartbeats(self) -> AsyncIterator[None]:
        async def beat() -> None:
            while True:
                await asyncio.sleep(delivery.heartbeat_seconds(self.settings))
                await self._guard("heartbeat", self.heartbeat_step, default=None)

        task = asyncio.create_task(beat(), name="lease-heartbeat")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def drain(self, *, rounds: int = 1000) -> None:
        """Fan out and deliver until nothing is due (tests: retries waiting for later are left)."""
        for _ in range(rounds):
            made = await self.fanout_step()
            sent = await self.deliver_batch()
            if not made and not sent:
                return

    def _start(self, work: delivery.Work) -> None:
        async def deliver() -> None:
            try:
                result = await delivery.send(self.client, work, self.settings)
            finally:
                self._inflight.pop(work.delivery_id, None)
                self._sending[work.endpoint_id] -= 1
                if self._sending[work.endpoint_id] <= 0:
                    del self._sending[work.endpoint_id]
                self._wake.set()  # a slot, and the endpoint's budget, are free again
            await self._results.put(result)

        self._holding.add(work.delivery_id)
        self._sending[work.endpoint_id] += 1
        self._inflight[work.delivery_id] = asyncio.create_task(deliver(), name=f"delivery-{work.delivery_id}")

    async def _delivery_loop(self) -> None:
        """Claim into free slots until stopped; the heartbeat runs until the last result is recorded."""
        async with self._heartbeats():
            writer = asyncio.create_task(self._writer(), name="delivery-writer")
            try:
                while not self.stopping:
                    self._wake.clear()
                    free = self.settings.webhooks_concurrency - len(self._inflight)
                    if free > 0:
                        none: list[delivery.Work] = []
                        claimed = await self._guard("claim", partial(self.claim_step, free), default=none)
                        for work in claimed:
                            self._start(work)
                    await self._nap(self.settings.worker_poll_interval_seconds)
            finally:
                await self._finish_inflight()
                await self._results.put(None)
                await writer

    async def _finish_inflight(self) -> None:
        """Shutdown: let in-flight deliveries end within the grace period; give the others' claims back."""
        tasks = dict(self._inflight)
        if not tasks:
            return
        grace = 0.0 if self._force.is_set() else self.settings.worker_shutdown_grace_seconds
        log.info("worker_draining", worker=self.name, in_flight=len(tasks), grace_seconds=grace)
        all_done = asyncio.create_task(asyncio.wait(list(tasks.values())))
        force = asyncio.create_task(self._force.wait())
        await asyncio.wait([all_done, force], timeout=grace, return_when=asyncio.FIRST_COMPLETED)
        for helper in (all_done, force):
            helper.cancel()
        pending = {delivery_id: task for delivery_id, task in tasks.items() if not task.done()}
        for task in pending.values():
            task.cancel()
        await asyncio.gather(*pending.values(), return_exceptions=True)
        if pending:
            ids = list(pending)

            async def work(session: AsyncSession) -> None:
                await delivery.release(session, self.token, ids)

            await self._guard("release", lambda: transaction(self.sessions, work), default=None)
            self._holding -= set(ids)
            log.info("worker_released_claims", worker=self.name, deliveries=len(ids))

    async def _writer(self) -> None:
        """Record results in batches, in their own transactions, as they come."""
        done = False
        while not done:
            first = await self._results.get()
            batch: list[delivery.Result] = []
            if first is None:
                done = True
            else:
                batch.append(first)
            while len(batch) < WRITE_BATCH and not self._results.empty():
                item = self._results.get_nowait()
                if item is None:
                    done = True
                else:
                    batch.append(item)
            if batch:
                await self._record_with_retry(batch)
                self._holding -= {result.work.delivery_id for result in batch}
                self._wake.set()

    async def _record_with_retry(self, batch: list[delivery.Result]) -> None:
        """A batch that cannot be recorded is dropped after a few tries: its leases expire and it is resent."""
        for attempt in range(5):
            try:
                await self.record(batch)
                return
            except Exception as exc:
                log.error(
                    "worker_record_failed", worker=self.name, attempt=attempt + 1, error=describe(exc), exc_info=exc
                )
                await asyncio.sleep(min(0.5 * 2**attempt, 5.0))

    # --- jobs and metrics ---------------------------------------------------------------------------------------

    async def jobs_step(self) -> int:
        await self._prepare()
        return await scheduled.run_due(self.sessions, self.jobs, self.name, self.settings)

    async def _jobs_loop(self) -> None:
        while not self.stopping:
            await self._guard("jobs", self.jobs_step, default=0)
            await self._pause(JOBS_EVERY_SECONDS)

    async def metrics_step(self) -> None:
        now = utcnow()

        async def work(session: AsyncSession) -> dict[str, tuple[int, datetime | None]]:
            return await repository.backlog(session, now)

        for queue, (size, oldest) in (await transaction(self.sessions, work)).items():
            WORKER_BACKLOG.labels(queue).set(size)
            if queue != "due":
                age = (now - oldest).total_seconds() if oldest is not None else 0.0
                WORKER_OLDEST_PENDING.labels(queue).set(max(0.0, age))

    async def _metrics_loop(self) -> None:
        while not self.stopping:
            await self._guard("metrics", self.metrics_step, default=None)
            await self._pause(METRICS_EVERY_SECONDS)


async def run_worker(settings: Settings) -> None:
    """``oms-api worker``: run until SIGTERM/SIGINT (a second one skips the grace period)."""
    worker = Worker(settings)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    try:
        await worker.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
