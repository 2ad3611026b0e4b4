"""Stock invariants, checked straight in the database after a scenario: nothing negative, reserved <= on_hand,
and the ledger replays to every level (the service's own check, ``stock.service.ledger_discrepancies``, which
also finds ledger rows with no level)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from oms_api.kit.db import create_engine, session_factory
from oms_api.stock import service as stock
from oms_api.stock.models import StockLevel


async def ledger_discrepancies(database_url: str) -> list[dict[str, Any]]:
    """Stock levels the movement ledger does not replay to (empty when stock and ledger agree)."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await stock.ledger_discrepancies(session)
    finally:
        await engine.dispose()


async def assert_ledger_replays(database_url: str) -> None:
    """Nothing negative, reserved <= on_hand, and the ledger's deltas add up to every level."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            levels = list(await session.execute(select(StockLevel.id, StockLevel.on_hand, StockLevel.reserved)))
            discrepancies = await stock.ledger_discrepancies(session)
    finally:
        await engine.dispose()
    for level in levels:
        assert 0 <= level.reserved <= level.on_hand, level
    assert discrepancies == []
