"""The outbox's savepoint: work undone on its own takes its events with it, and only its own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.outbox import Event
from tests.service.conftest import Transaction


async def _failing(session: AsyncSession, aggregate_id: uuid.UUID) -> None:
    async with outbox.savepoint(session):
        outbox.record(session, "test.dropped", "test", aggregate_id, {})
        raise ValueError("undone")


async def test_a_savepoint_that_fails_drops_its_events_and_keeps_the_earlier_ones(tx: Transaction) -> None:
    kept, dropped, after = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)
    async with tx() as session:
        outbox.record(session, "test.kept", "test", kept, {})
        with pytest.raises(ValueError, match="undone"):
            await _failing(session, dropped)
        async with outbox.savepoint(session):
            outbox.record(session, "test.after", "test", after, {})
    async with tx() as session:
        written = list((await session.execute(select(Event.type).order_by(Event.seq))).scalars())
    assert written == ["test.kept", "test.after"]


async def test_events_are_written_in_one_batch_however_many(tx: Transaction) -> None:
    """Past ``kit.bulk.COPY_FROM_ROWS`` the batch goes as COPY on PostgreSQL; here (SQLite) as one INSERT."""
    async with tx() as session:
        for i in range(450):
            outbox.record(session, "test.many", "test", uuid.UUID(int=i), {"i": i})
    async with tx() as session:
        rows = list((await session.execute(select(Event.data).order_by(Event.seq))).scalars())
    assert [row["i"] for row in rows] == list(range(450))
