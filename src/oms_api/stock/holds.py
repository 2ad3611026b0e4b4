"""Cart holds: stock reserved for a cart until checkout, expiry or abandonment.

A hold is a reservation with ``cart_id`` and ``expires_at`` set. It raises ``reserved`` exactly
as an order's reservation does (one conditional UPDATE over rows locked in id order, see
``stock.reservations``), so holds count against availability everywhere without any reader
knowing about carts. A cart holds each SKU at a warehouse in one reservation row, which grows
and shrinks with the cart. At checkout the rows are handed to the order (``convert``): the
stock never goes back to the pool in between, so no other buyer can take it.

Ledger rows: ``hold`` (more units held) and ``hold_release`` (units given back), both with
``reference`` ``cart:<id>`` and the cart id as ``group_id``; each emits ``stock.changed``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import and_, case, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain as allocation
from oms_api.catalog.models import Sku
from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock.models import Reservation, StockLevel, Warehouse
from oms_api.stock.reservations import Hold, SkuStock, load_candidates, shift_reserved, write_ledger

REPLAN_ATTEMPTS = 3
HOLD = "hold"
HOLD_RELEASE = "hold_release"


@dataclass(frozen=True, slots=True)
class Held:
    """An active hold: units of one SKU a cart holds at one warehouse."""

    reservation_id: uuid.UUID
    cart_id: uuid.UUID
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    priority: int
    quantity: int


@dataclass(frozen=True, slots=True)
class HoldRequest:
    """``quantity`` more units of a SKU to hold."""

    sku_id: uuid.UUID
    sku: str
    quantity: int


def reference(cart_id: uuid.UUID) -> str:
    return f"cart:{cart_id}"


async def holds_of(session: AsyncSession, cart_ids: Sequence[uuid.UUID]) -> list[Held]:
    """The active holds of the given carts, oldest first."""
    if not cart_ids:
        return []
    rows = await session.execute(
        select(
            Reservation.id,
            Reservation.cart_id,
            StockLevel.id.label("level_id"),
            Reservation.sku_id,
            Sku.sku,
            Reservation.warehouse_id,
            Warehouse.code,
            Warehouse.priority,
            Reservation.quantity,
        )
        .join(
            StockLevel,
            and_(StockLevel.sku_id == Reservation.sku_id, StockLevel.warehouse_id == Reservation.warehouse_id),
        )
        .join(Sku, Sku.id == Reservation.sku_id)
        .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(Reservation.cart_id.in_(list(cart_ids)), Reservation.status == "active")
        .order_by(Reservation.id)
    )
    return [
        Held(
            r.id,
            cast(uuid.UUID, r.cart_id),
            r.level_id,
            r.sku_id,
            r.sku,
            r.warehouse_id,
            r.code,
            r.priority,
            r.quantity,
        )
        for r in rows
    ]


async def lock_levels(session: AsyncSession, level_ids: Iterable[uuid.UUID]) -> None:
    """Row-lock stock levels in id order (PostgreSQL), before touching them in several statements.

    A job that releases the holds of many carts one cart at a time locks all their levels first,
    in the same order as every reservation does, so it cannot deadlock with placements.
    """
    ids = sorted(set(level_ids))
    if ids:
        await session.execute(
            select(StockLevel.id).where(StockLevel.id.in_(ids)).order_by(StockLevel.id).with_for_update()
        )


async def hold(
    session: AsyncSession,
    requests: Sequence[HoldRequest],
    stock: dict[str, SkuStock],
    *,
    cart_id: uuid.UUID,
    expires_at: datetime,
    held: Sequence[Held],
    actor: str,
    max_split_warehouses: int,
) -> tuple[allocation.Shortage, ...]:
    """Hold every request or none; returns the shortages (empty on success).

    ``stock`` is ``load_candidates`` of the requested SKUs; ``held`` the cart's current holds, which
    grow in place when the plan picks a warehouse the cart already holds the SKU at. As for orders,
    a shortfall found by the guarded UPDATE (a concurrent buyer was faster) re-plans on fresh figures
    read under the locks the first attempt took.
    """
    if not requests:
        return ()
    lines = [allocation.LineRequest(i, r.sku_id, r.quantity) for i, r in enumerate(requests)]
    skus = [r.sku for r in requests]
    for attempt in range(REPLAN_ATTEMPTS):
        if attempt:
            stock = await load_candidates(session, skus)
        plan = allocation.plan(lines, {s.sku_id: s.candidates for s in stock.values()}, max_split_warehouses)
        if not plan.complete:
            return plan.shortages
        level = {(s.sku_id, c.warehouse_id): c for s in stock.values() for c in s.candidates}
        wanted: dict[uuid.UUID, int] = defaultdict(int)
        for a in plan.allocations:
            wanted[level[(a.sku_id, a.warehouse_id)].level_id] += a.quantity
        every_level = [c.level_id for s in stock.values() for c in s.candidates]
        rows = await shift_reserved(session, dict(wanted), guard=True, lock=every_level)
        if len(rows) < len(wanted):
            raised = {row.id: wanted[row.id] for row in rows}
            if raised:
                await shift_reserved(session, {k: -v for k, v in raised.items()}, guard=False)
            continue
        now = utcnow()
        await _store(session, plan.allocations, cart_id, expires_at, held, now)
        names = {
            level[(a.sku_id, a.warehouse_id)].level_id: (
                requests[a.line_no].sku,
                level[(a.sku_id, a.warehouse_id)].warehouse_code,
            )
            for a in plan.allocations
        }
        await write_ledger(session, rows, wanted, HOLD, names, reference(cart_id), cart_id, actor, now)
        return ()
    stock = await load_candidates(session, skus)
    final = allocation.plan(lines, {s.sku_id: s.candidates for s in stock.values()}, max_split_warehouses)
    return final.shortages or tuple(allocation.Shortage(r.sku_id, r.quantity, 0) for r in requests)


async def _store(
    session: AsyncSession,
    allocations: Sequence[allocation.Allocation],
    cart_id: uuid.UUID,
    expires_at: datetime,
    held: Sequence[Held],
    now: datetime,
) -> None:
    """Grow the cart's existing reservation rows and insert the new ones (one statement each)."""
    existing = {(h.sku_id, h.warehouse_id): h.reservation_id for h in held}
    grow: dict[uuid.UUID, int] = {}
    new: list[dict[str, object]] = []
    for a in allocations:
        found = existing.get((a.sku_id, a.warehouse_id))
        if found is not None:
            grow[found] = grow.get(found, 0) + a.quantity
            continue
        new.append(
            {
                "id": uuid7(),
                "sku_id": a.sku_id,
                "warehouse_id": a.warehouse_id,
                "quantity": a.quantity,
                "order_id": None,
                "order_line_id": None,
                "cart_id": cart_id,
                "status": "active",
                "expires_at": expires_at,
                "created_at": now,
            }
        )
    if grow:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(list(grow)))
            .values(quantity=Reservation.quantity + case(grow, value=Reservation.id))
            .execution_options(synchronize_session=False)
        )
    if new:
        await insert_rows(session, Reservation, new)


async def release(
    session: AsyncSession,
    cart_id: uuid.UUID,
    parts: Sequence[tuple[Held, int]],
    *,
    actor: str,
    reason: str,
) -> int:
    """Give back ``quantity`` units of each (hold, quantity) of one cart. Returns the units released.

    A hold given back whole becomes ``released``; a partly released one shrinks.
    """
    parts = [(h, qty) for h, qty in parts if qty > 0]
    if not parts:
        return 0
    give_back: dict[uuid.UUID, int] = defaultdict(int)
    for h, qty in parts:
        if h.cart_id != cart_id or qty > h.quantity:
            raise ValueError(f"cannot release {qty} of hold {h.reservation_id} for cart {cart_id}")
        give_back[h.level_id] += qty
    deltas = {k: -v for k, v in give_back.items()}
    rows = await shift_reserved(session, deltas, guard=False)
    if len(rows) != len(give_back):  # the ledger and the levels disagree: refuse rather than guess
        raise RuntimeError(f"stock levels of cart {cart_id} hold less than its holds")
    now = utcnow()
    whole = [h.reservation_id for h, qty in parts if qty == h.quantity]
    partial = {h.reservation_id: qty for h, qty in parts if qty < h.quantity}
    if whole:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(whole))
            .values(status="released", released_at=now)
            .execution_options(synchronize_session=False)
        )
    if partial:
        await session.execute(
            update(Reservation)
            .where(Reservation.id.in_(list(partial)))
            .values(quantity=Reservation.quantity - case(partial, value=Reservation.id))
            .execution_options(synchronize_session=False)
        )
    names = {h.level_id: (h.sku, h.warehouse) for h, _ in parts}
    await write_ledger(session, rows, deltas, HOLD_RELEASE, names, reference(cart_id), cart_id, actor, now, reason)
    return sum(give_back.values())


async def extend(session: AsyncSession, cart_id: uuid.UUID, expires_at: datetime) -> None:
    """Move the expiry of the cart's active holds (they always expire with their cart)."""
    await session.execute(
        update(Reservation)
        .where(Reservation.cart_id == cart_id, Reservation.status == "active")
        .values(expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )


async def convert(
    session: AsyncSession,
    cart_id: uuid.UUID,
    held: Sequence[Held],
    *,
    order_id: uuid.UUID,
    line_of_sku: dict[uuid.UUID, uuid.UUID],
) -> list[Hold]:
    """Hand the cart's holds to an order, in place: ``reserved`` never moves, so no one can take the stock.

    ``held`` are the cart's active holds (read under the cart's lock); ``line_of_sku`` maps each SKU to
    the order line that takes its holds. Returns the order's reservations as ``placing.finish`` reads them.
    """
    if not held:
        return []
    result = await session.execute(
        update(Reservation)
        .where(Reservation.id.in_([h.reservation_id for h in held]), Reservation.cart_id == cart_id)
        .where(Reservation.status == "active")
        .values(
            order_id=order_id,
            order_line_id=case(line_of_sku, value=Reservation.sku_id),
            cart_id=None,
            expires_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != len(held):  # type: ignore[attr-defined]
        raise RuntimeError(f"the holds of cart {cart_id} changed while it was checked out")
    return [
        Hold(
            order_line_id=line_of_sku[h.sku_id],
            level_id=h.level_id,
            sku_id=h.sku_id,
            sku=h.sku,
            warehouse_id=h.warehouse_id,
            warehouse=h.warehouse,
            quantity=h.quantity,
        )
        for h in held
    ]
