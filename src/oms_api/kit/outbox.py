"""Domain events, written in the transaction that makes the change (transactional outbox).

Services call ``record``; the events are buffered on the session and written in one
multi-row INSERT (``COPY`` for a large batch, see ``kit.bulk``) just before commit
(``flush_events``), so an event exists if and only if its change committed. ``seq`` gives one
total order for delivery; per aggregate it is the order in which things happened. The order
history (``GET /v1/orders/{id}/events``) is read from this same table, so the history and what
partners are told can never disagree.

This module is the only one that touches the buffer: work that may be undone on its own runs in
``savepoint``, which drops the events that work recorded when it rolls back.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, cast

from sqlalchemy import JSON, BigInteger, Index, Integer, String, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base
from oms_api.kit.ids import uuid7

_PENDING = "oms_pending_events"


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_aggregate", "aggregate_type", "aggregate_id", "seq"),
        # The worker's fan-out reads the unpublished events in seq order: keep that a short index scan.
        Index(
            "ix_events_unpublished",
            "seq",
            sqlite_where=text("published_at IS NULL"),
            postgresql_where=text("published_at IS NULL"),
        ),
    )

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    id: Mapped[uuid.UUID] = mapped_column(unique=True)
    type: Mapped[str] = mapped_column(String(64), index=True)
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[uuid.UUID]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    actor: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, index=True, doc="Webhook replay finds its range here")
    published_at: Mapped[datetime | None] = mapped_column(default=None)


def record(
    session: AsyncSession,
    type_: str,
    aggregate_type: str,
    aggregate_id: uuid.UUID,
    data: dict[str, Any],
    *,
    actor: str | None = None,
    reason: str | None = None,
) -> None:
    """Buffer one event for this transaction (``data`` must be JSON-ready: a snapshot)."""
    _pending(session).append(
        {
            "id": uuid7(),
            "type": type_,
            "aggregate_type": aggregate_type,
            "aggregate_id": aggregate_id,
            "data": data,
            "actor": actor,
            "reason": reason,
            "occurred_at": utcnow(),
        }
    )


def _pending(session: AsyncSession) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], session.info.setdefault(_PENDING, []))


async def flush_events(session: AsyncSession) -> None:
    """Write the buffered events; call right before commit (or before a savepoint that must not hold them)."""
    pending = session.info.pop(_PENDING, None)
    if pending:
        await insert_rows(session, Event, pending)  # one statement, however many events


def discard_events(session: AsyncSession) -> None:
    """Forget buffered events of a transaction that is being rolled back."""
    session.info.pop(_PENDING, None)


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """Run a block in a savepoint: if it raises, its changes AND the events it recorded are undone.

    Work that may fail without failing the request (a storefront order that turns out to be out of stock,
    a short pick that cannot be re-sourced) runs inside; events recorded before the block are kept.
    """
    kept = len(_pending(session))
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        del _pending(session)[kept:]
        raise


# --- publishing (the worker's fan-out) -----------------------------------------------------------------------


async def unpublished(session: AsyncSession, limit: int) -> list[Any]:
    """Up to ``limit`` events not yet handed to the subscribers, oldest first (``seq``, ``id``, ``type``,
    ``aggregate_type``, ``aggregate_id``)."""
    stmt = (
        select(Event.seq, Event.id, Event.type, Event.aggregate_type, Event.aggregate_id)
        .where(Event.published_at.is_(None))
        .order_by(Event.seq)
        .limit(limit)
    )
    return list(await session.execute(stmt))


async def mark_published(session: AsyncSession, seqs: Sequence[int], now: datetime) -> None:
    """Say these events were handed to the subscribers (the fan-out's deliveries commit with this)."""
    await session.execute(update(Event).where(Event.seq.in_(list(seqs))).values(published_at=now))
