"""Stock leaving with a shipment, or given back when a shipment is cancelled before it leaves.

Both consume the order's active reservations of the shipment's lines at the shipment's warehouse,
oldest first, splitting a reservation row when only part of it goes (the rest stays active for the
next shipment). Dispatch lowers ``on_hand`` and ``reserved`` together in ONE conditional UPDATE over
the levels locked in id order (the order every stock writer uses, so no deadlock); release lowers
``reserved`` only. Each writes ledger rows and ``stock.changed`` events in the caller's transaction.

The caller holds the order's row lock, so no other writer changes these reservations meanwhile; the
status updates still check that every row was active and say so if not, rather than guess.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.kit import outbox
from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock.models import Reservation, StockLevel, StockMovement, Warehouse
from oms_api.stock.reservations import shift_reserved, write_ledger

SHIPMENT = "shipment"
RELEASE = "release"


@dataclass(frozen=True, slots=True)
class LineUnits:
    """``quantity`` units of an order line (of ``sku_id``) at the shipment's warehouse."""

    order_line_id: uuid.UUID
    sku_id: uuid.UUID
    quantity: int


class ReservationShortfall(Exception):
    """The order no longer holds the units a shipment line needs at its warehouse."""

    def __init__(self, order_line_id: uuid.UUID, needed: int, held: int) -> None:
        self.order_line_id, self.needed, self.held = order_line_id, needed, held
        super().__init__(f"order line {order_line_id} holds {held} units here, {needed} needed")


class StockOutOfStep(Exception):
    """Stock levels or reservations changed under a lock that should have prevented it (never expected)."""


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
    wanted = await _consume(session, order_id, warehouse_id, lines, "fulfilled")
    if not wanted:
        return 0
    levels = await _levels(session, warehouse_id, list(wanted))
    deltas = {levels[sku_id].id: qty for sku_id, qty in wanted.items()}
    delta = case(deltas, value=StockLevel.id)
    locked = (
        select(StockLevel.id)
        .where(StockLevel.id.in_(sorted(deltas)))
        .order_by(StockLevel.id)
        .with_for_update()
        .cte("locked")
    )
    rows = list(
        await session.execute(
            update(StockLevel)
            .where(
                StockLevel.id.in_(list(deltas)),
                StockLevel.id.in_(select(locked.c.id)),
                StockLevel.reserved >= delta,
                StockLevel.on_hand >= delta,
            )
            .values(
                on_hand=StockLevel.on_hand - delta,
                reserved=StockLevel.reserved - delta,
                version=StockLevel.version + 1,
                updated_at=utcnow(),
            )
            .returning(
                StockLevel.id, StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved
            )
            .execution_options(synchronize_session=False)
        )
    )
    if len(rows) != len(deltas):
        raise StockOutOfStep(f"stock levels at warehouse {warehouse_id} hold less than order {order_id} reserved")
    now = utcnow()
    names = {levels[sku_id].id: (levels[sku_id].sku, levels[sku_id].code) for sku_id in wanted}
    await insert_rows(
        session,
        StockMovement,
        [
            {
                "id": uuid7(),
                "sku_id": row.sku_id,
                "warehouse_id": row.warehouse_id,
                "type": SHIPMENT,
                "on_hand_delta": -deltas[row.id],
                "reserved_delta": -deltas[row.id],
                "on_hand_after": row.on_hand,
                "reserved_after": row.reserved,
                "reason": None,
                "reference": reference,
                "group_id": order_id,
                "note": None,
                "actor": actor,
                "created_at": now,
            }
            for row in rows
        ],
    )
    for row in rows:
        sku, warehouse = names[row.id]
        outbox.record(
            session,
            "stock.changed",
            "stock_level",
            row.id,
            {
                "sku": sku,
                "sku_id": str(row.sku_id),
                "warehouse": warehouse,
                "warehouse_id": str(row.warehouse_id),
                "on_hand": row.on_hand,
                "reserved": row.reserved,
                "available": row.on_hand - row.reserved,
            },
            actor=actor,
            reason=SHIPMENT,
        )
    return sum(wanted.values())


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
    wanted = await _consume(session, order_id, warehouse_id, lines, "released", missing_ok=True)
    if not wanted:
        return 0
    levels = await _levels(session, warehouse_id, list(wanted))
    deltas = {levels[sku_id].id: -qty for sku_id, qty in wanted.items()}
    rows = await shift_reserved(session, deltas, guard=False)
    if len(rows) != len(deltas):
        raise StockOutOfStep(f"stock levels at warehouse {warehouse_id} hold less than order {order_id} reserved")
    names = {levels[sku_id].id: (levels[sku_id].sku, levels[sku_id].code) for sku_id in wanted}
    await write_ledger(session, rows, deltas, RELEASE, names, reference, order_id, actor, utcnow(), reason=reason)
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
    held = list(
        await session.execute(
            select(Reservation.id, Reservation.order_line_id, Reservation.sku_id, Reservation.quantity)
            .where(
                Reservation.order_id == order_id,
                Reservation.warehouse_id == warehouse_id,
                Reservation.order_line_id.in_(list(needed)),
                Reservation.status == "active",
            )
            .order_by(Reservation.id)
        )
    )
    by_line: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in held:
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
    released_at = now if status == "released" else None
    if whole:
        result = await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(whole), Reservation.status == "active")
            .values(status=status, released_at=released_at)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(whole):  # type: ignore[attr-defined]
            raise StockOutOfStep(f"reservations of order {order_id} changed while locked")
    for row, take in partial:
        result = await session.execute(
            update(Reservation)
            .where(and_(Reservation.id == row.id, Reservation.status == "active", Reservation.quantity == row.quantity))
            .values(quantity=row.quantity - take)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise StockOutOfStep(f"reservations of order {order_id} changed while locked")
        await insert_rows(
            session,
            Reservation,
            [
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
            ],
        )
    return {sku_id: qty for sku_id, qty in units.items() if qty > 0}


async def _levels(session: AsyncSession, warehouse_id: uuid.UUID, sku_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """The stock level of each SKU at the warehouse, with the codes events show."""
    rows = await session.execute(
        select(StockLevel.id, StockLevel.sku_id, Sku.sku, Warehouse.code)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.warehouse_id == warehouse_id, StockLevel.sku_id.in_(list(sku_ids)))
    )
    found = {row.sku_id: row for row in rows}
    if len(found) != len(set(sku_ids)):
        raise StockOutOfStep(f"reserved SKUs without a stock level at warehouse {warehouse_id}")
    return found
