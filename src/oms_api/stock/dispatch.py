"""Stock leaving with a shipment, or given back when a shipment is cancelled before it leaves.

Both consume the order's active reservations of the shipment's lines at the shipment's warehouse, oldest
first, splitting a reservation row when only part of it goes (the rest stays active for the next shipment).
Dispatch lowers ``on_hand`` and ``reserved`` together, release lowers ``reserved`` only, each through the
ledger (one conditional UPDATE over the levels locked in id order, ledger rows, ``stock.changed``).

The caller holds the order's row lock, so no other writer changes these reservations meanwhile; the status
updates still check that every row was active and say so if not, rather than guess.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock import ledger, levels_repository
from oms_api.stock import reservations_repository as reservations
from oms_api.stock.domain import Change, LevelRef, LineUnits, ReservationShortfall, StockOutOfStep

SHIPMENT = "shipment"
RELEASE = "release"


async def dispatch(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[LineUnits],
    reference: str,
    actor: str,
) -> int:
    """The units leave the warehouse: on_hand and reserved drop, the reservations become ``fulfilled``."""
    wanted = await _consume(session, order_id, warehouse_id, lines, reservations.FULFILLED)
    return await _move(session, order_id, warehouse_id, wanted, SHIPMENT, reference, actor, None)


async def release(
    session: AsyncSession,
    *,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[LineUnits],
    reference: str,
    actor: str,
    reason: str | None = None,
) -> int:
    """Give the lines' reserved units back to the warehouse's available stock. Returns how many."""
    wanted = await _consume(session, order_id, warehouse_id, lines, reservations.RELEASED, missing_ok=True)
    return await _move(session, order_id, warehouse_id, wanted, RELEASE, reference, actor, reason)


async def _move(
    session: AsyncSession,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    wanted: dict[uuid.UUID, int],
    kind: str,
    reference: str,
    actor: str,
    note: str | None,
) -> int:
    if not wanted:
        return 0
    levels = await levels_repository.level_refs(session, warehouse_id, list(wanted))
    if len(levels) != len(wanted):
        raise StockOutOfStep(f"reserved SKUs without a stock level at warehouse {warehouse_id}")
    leaves = kind == SHIPMENT
    changes = [
        Change(
            LevelRef(levels[sku_id].id, sku_id, levels[sku_id].sku, warehouse_id, levels[sku_id].code),
            kind,
            on_hand=-quantity if leaves else 0,
            reserved=-quantity,
            reference=reference,
            group_id=order_id,
            note=note,
        )
        for sku_id, quantity in wanted.items()
    ]
    if not (await ledger.apply(session, changes, actor=actor)).ok:
        raise StockOutOfStep(f"stock levels at warehouse {warehouse_id} hold less than order {order_id} reserved")
    return sum(wanted.values())


async def _consume(
    session: AsyncSession,
    order_id: uuid.UUID,
    warehouse_id: uuid.UUID,
    lines: Sequence[LineUnits],
    status: str,
    *,
    missing_ok: bool = False,
) -> dict[uuid.UUID, int]:
    """Move the lines' units from active reservations to ``status``; returns units per SKU.

    ``missing_ok`` (release) takes what is there: a cancelled order has already given everything back.
    """
    needed = {line.order_line_id: line for line in lines if line.quantity > 0}
    if not needed:
        return {}
    by_line: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in await reservations.active_of_lines(session, order_id, warehouse_id, list(needed)):
        by_line[row.order_line_id].append(row)
    whole: list[uuid.UUID] = []
    partial: list[tuple[Any, int]] = []  # (row, units taken)
    units: dict[uuid.UUID, int] = defaultdict(int)
    for line_id, line in needed.items():
        rows = by_line.get(line_id, [])
        available = sum(r.quantity for r in rows)
        if available < line.quantity and not missing_ok:
            raise ReservationShortfall(line_id, line.quantity, available)
        left = min(line.quantity, available)
        for row in rows:
            if left == 0:
                break
            take = min(left, row.quantity)
            if take == row.quantity:
                whole.append(row.id)
            else:
                partial.append((row, take))
            left -= take
            units[line.sku_id] += take
    now = utcnow()
    released_at = now if status == reservations.RELEASED else None
    if await reservations.close(session, whole, status, released_at) != len(whole):
        raise StockOutOfStep(f"reservations of order {order_id} changed while locked")
    split = []
    for row, take in partial:
        if not await reservations.shrink_exactly(session, row.id, row.quantity, row.quantity - take):
            raise StockOutOfStep(f"reservations of order {order_id} changed while locked")
        split.append(
            {
                "id": uuid7(),
                "sku_id": row.sku_id,
                "warehouse_id": warehouse_id,
                "quantity": take,
                "order_id": order_id,
                "order_line_id": row.order_line_id,
                "status": status,
                "created_at": now,
                "released_at": released_at,
            }
        )
    await reservations.insert(session, split)
    return {sku_id: qty for sku_id, qty in units.items() if qty > 0}
