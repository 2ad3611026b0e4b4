"""Queries of reservations: orders' reservations and carts' holds (a hold is a reservation with ``cart_id``).

Their quantities in ``stock_levels`` move only in ``stock.ledger``; these statements keep the reservation rows
in step with them, in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.kit.bulk import insert_rows
from oms_api.stock.domain import ActiveReservation, Held
from oms_api.stock.models import Reservation, StockLevel, Warehouse

_RESERVATIONS = cast(Table, Reservation.__table__)

ACTIVE, RELEASED, FULFILLED = "active", "released", "fulfilled"


def _active_with_levels(*columns: Any) -> Any:
    """Active reservations joined to their stock level, SKU and warehouse: ``columns`` say what to read."""
    return (
        select(*columns)
        .join(
            StockLevel,
            and_(StockLevel.sku_id == Reservation.sku_id, StockLevel.warehouse_id == Reservation.warehouse_id),
        )
        .join(Sku, Sku.id == Reservation.sku_id)
        .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(Reservation.status == ACTIVE)
    )


async def active_of_orders(
    session: AsyncSession, order_ids: Sequence[uuid.UUID], *, newest_first: bool = False
) -> list[ActiveReservation]:
    """The active reservations of some orders with their stock levels, in one query (oldest first)."""
    if not order_ids:
        return []
    order = Reservation.id.desc() if newest_first else Reservation.id
    stmt = _active_with_levels(
        Reservation.id,
        Reservation.order_id,
        Reservation.order_line_id,
        StockLevel.id.label("level_id"),
        Reservation.sku_id,
        Sku.sku,
        Reservation.warehouse_id,
        Warehouse.code,
        Reservation.quantity,
    ).where(Reservation.order_id.in_(list(order_ids)))
    rows = await session.execute(stmt.order_by(order))
    return [ActiveReservation(*cast(tuple[Any, ...], row)) for row in rows if row.order_id is not None]


async def allocations_for(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Reservations of the given orders (any status), by order line, with warehouse codes."""
    rows = await session.execute(
        select(
            Reservation.order_line_id,
            Reservation.warehouse_id,
            Warehouse.code,
            Reservation.quantity,
            Reservation.status,
        )
        .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(Reservation.order_id.in_(order_ids))
        .order_by(Reservation.id)
    )
    by_line: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        if row.order_line_id is not None:
            by_line[row.order_line_id].append(row)
    return by_line


async def active_of_lines(
    session: AsyncSession, order_id: uuid.UUID, warehouse_id: uuid.UUID, order_line_ids: Sequence[uuid.UUID]
) -> list[Any]:
    """The active reservations of some lines of an order at one warehouse, oldest first."""
    return list(
        await session.execute(
            select(Reservation.id, Reservation.order_line_id, Reservation.sku_id, Reservation.quantity)
            .where(
                Reservation.order_id == order_id,
                Reservation.warehouse_id == warehouse_id,
                Reservation.order_line_id.in_(list(order_line_ids)),
                Reservation.status == ACTIVE,
            )
            .order_by(Reservation.id)
        )
    )


async def holds_of(session: AsyncSession, cart_ids: Sequence[uuid.UUID]) -> list[Held]:
    """The active holds of the given carts, oldest first."""
    if not cart_ids:
        return []
    stmt = _active_with_levels(
        Reservation.id,
        Reservation.cart_id,
        StockLevel.id.label("level_id"),
        Reservation.sku_id,
        Sku.sku,
        Reservation.warehouse_id,
        Warehouse.code,
        Warehouse.priority,
        Reservation.quantity,
    ).where(Reservation.cart_id.in_(list(cart_ids)))
    rows = await session.execute(stmt.order_by(Reservation.id))
    return [Held(*cast(tuple[Any, ...], row)) for row in rows if row.cart_id is not None]


# --- writing reservation rows -----------------------------------------------------------------------------------


async def insert(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    await insert_rows(session, _RESERVATIONS, rows)


async def close(session: AsyncSession, reservation_ids: Sequence[uuid.UUID], status: str, at: datetime | None) -> int:
    """Mark active reservations ``released`` or ``fulfilled``; returns how many were active."""
    if not reservation_ids:
        return 0
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id.in_(list(reservation_ids)), Reservation.status == ACTIVE)
        .values(status=status, released_at=at)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def resize(session: AsyncSession, deltas: dict[uuid.UUID, int]) -> None:
    """Grow or shrink active reservations in place (a cart's holds follow its lines)."""
    if deltas:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(list(deltas)))
            .values(quantity=Reservation.quantity + case(deltas, value=Reservation.id))
            .execution_options(synchronize_session=False)
        )


async def shrink_exactly(session: AsyncSession, reservation_id: uuid.UUID, was: int, becomes: int) -> bool:
    """Lower one active reservation from ``was`` to ``becomes`` units; False if it was not exactly that."""
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id == reservation_id, Reservation.status == ACTIVE, Reservation.quantity == was)
        .values(quantity=becomes)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def extend_holds(session: AsyncSession, cart_id: uuid.UUID, expires_at: datetime) -> None:
    await session.execute(
        update(Reservation)
        .where(Reservation.cart_id == cart_id, Reservation.status == ACTIVE)
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def hand_to_order(
    session: AsyncSession,
    cart_id: uuid.UUID,
    reservation_ids: Sequence[uuid.UUID],
    order_id: uuid.UUID,
    line_of_sku: dict[uuid.UUID, uuid.UUID],
) -> int:
    """Make a cart's active holds the order's reservations, in place; returns how many rows moved."""
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id.in_(list(reservation_ids)), Reservation.cart_id == cart_id, Reservation.status == ACTIVE)
        .values(
            order_id=order_id,
            order_line_id=case(line_of_sku, value=Reservation.sku_id),
            cart_id=None,
            expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
