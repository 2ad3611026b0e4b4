"""Transactions of the worker: outbox events written before commit, deadlocks and lock timeouts retried."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.kit import outbox
from oms_api.kit.routing import is_retryable
from oms_api.worker.models import WorkerLock

T = TypeVar("T")
Sessions = async_sessionmaker[AsyncSession]


async def transaction(sessions: Sessions, work: Callable[[AsyncSession], Awaitable[T]], attempts: int = 3) -> T:
    """Run ``work`` in one transaction, as ``kit.routing.OmsRoute`` does for a request.

    Events recorded with ``outbox.record`` (a job expiring carts, an endpoint disabled) are written just
    before the commit, so they exist if and only if the change committed.
    """
    for attempt in range(1, attempts + 1):
        async with sessions() as session:
            try:
                result = await work(session)
                await outbox.flush_events(session)
                await session.commit()
                return result
            except BaseException as exc:
                outbox.discard_events(session)
                await session.rollback()
                if attempt < attempts and is_retryable(exc):
                    await asyncio.sleep(random.uniform(0.01, 0.1) * attempt)
                    continue
                raise
    raise AssertionError("unreachable")


async def try_lock(session: AsyncSession, name: str) -> bool:
    """Hold the named lock for this transaction, or say that another worker holds it (never wait).

    PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` on the lock's row; the lock ends with the transaction, so
    a killed worker's lock ends with its connection. SQLite: the transaction already holds the database's one
    write lock (``BEGIN IMMEDIATE``), which serialises workers the same way.
    """
    stmt = select(WorkerLock.name).where(WorkerLock.name == name).with_for_update(skip_locked=True)
    return (await session.execute(stmt)).scalar_one_or_none() is not None
