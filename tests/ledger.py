"""Stock invariants, checked straight in the database after a scenario."""

from __future__ import annotations

from sqlalchemy import func, select

from oms_api.kit.db import create_engine, session_factory
from oms_api.stock.models import StockLevel, StockMovement


async def assert_ledger_replays(database_url: str) -> None:
    """Nothing negative, reserved <= on_hand, and the ledger's deltas add up to every level."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            levels = list(
                await session.execute(
                    select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
                )
            )
            sums = {
                (row.sku_id, row.warehouse_id): (int(row.on_hand), int(row.reserved))
                for row in await session.execute(
                    select(
                        StockMovement.sku_id,
                        StockMovement.warehouse_id,
                        func.sum(StockMovement.on_hand_delta).label("on_hand"),
                        func.sum(StockMovement.reserved_delta).label("reserved"),
                    ).group_by(StockMovement.sku_id, StockMovement.warehouse_id)
                )
            }
    finally:
        await engine.dispose()
    for level in levels:
        assert 0 <= level.reserved <= level.on_hand, level
        assert sums.get((level.sku_id, level.warehouse_id), (0, 0)) == (level.on_hand, level.reserved), level
