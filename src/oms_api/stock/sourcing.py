"""What the sourcing engine reads and changes in stock: levels with their warehouses, partial releases.

``load_levels`` reads every stock level of some SKUs, at every warehouse (active or not: the
engine explains why it rejects one), with the warehouse facts sourcing needs. With ``lock`` the
levels are row-locked in id order (the order ``reservations.reserve`` locks in, so no deadlock),
which makes the figures exact until the transaction ends: a plan made on them cannot be beaten to
the stock by a concurrent order, and only stock above the safety stock is promised.
``release_part`` gives back some units of some order lines at one warehouse (re-allocation).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock import reservations
from oms_api.stock.models import Reservation, StockLevel, StockMovement, Warehouse


@dataclass(frozen=True, slots=True)
class SourcingLevel:
    """A stock level with its warehouse, as sourcing sees it."""

    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse_code: str
    priority: int
    active: bool
    latitude: float | None
    longitude: float | None
    serves_countries: tuple[str, ...]
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


async def load_levels(session: AsyncSession, sku_ids: Iterable[uuid.UUID], *, lock: bool) -> list[SourcingLevel]:
    """Every level of the SKUs with its warehouse, in level-id order; ``lock`` row-locks them in that order."""
    ids = sorted(set(sku_ids))
    if not ids:
        return []
    stmt = (
        select(
            StockLevel.id,
            StockLevel.sku_id,
            Sku.sku,
            Warehouse.id.label("wid"),
            Warehouse.code,
            Warehouse.priority,
            Warehouse.active,
            Warehouse.latitude,
            Warehouse.longitude,
            Warehouse.serves_countries,
            StockLevel.on_hand,
            StockLevel.reserved,
            StockLevel.safety_stock,
        )
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .where(StockLevel.sku_id.in_(ids))
        .order_by(StockLevel.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=StockLevel)
    return [
        SourcingLevel(
            row.id,
            row.sku_id,
            row.sku,
            row.wid,
            row.code,
            row.priority,
            row.active,
            row.latitude,
            row.longitude,
            tuple(row.serves_countries or ()),
            row.on_hand,
            row.reserved,
            row.safety_stock,
        )
        for row in await session.execute(stmt)
    ]


_LOCK_LEVELS_BY_CODE = (
    select(
        StockLevel.id,
        StockLevel.sku_id,
        Sku.sku,
        Sku.name,
        Sku.active.label("sku_active"),
        Warehouse.id.label("wid"),
        Warehouse.code,
        Warehouse.priority,
        Warehouse.active,
        Warehouse.latitude,
        Warehouse.longitude,
        Warehouse.serves_countries,
        StockLevel.on_hand,
        StockLevel.reserved,
        StockLevel.safety_stock,
    )
    .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
    .join(Sku, Sku.id == StockLevel.sku_id)
    .where(Sku.sku.in_(bindparam("codes", expanding=True)))
    .order_by(StockLevel.id)
    .with_for_update(of=StockLevel)
)
"""Every level of some SKUs (by code) with its SKU and warehouse, row-locked in id order; built once."""


async def lock_levels_by_code(
    session: AsyncSession, sku_codes: Iterable[str]
) -> tuple[dict[str, reservations.SkuStock], list[SourcingLevel]]:
    """The SKUs by code with ALL their levels row-locked in id order, in one query: what placement validates
    the lines against AND what the engine plans on (``load_levels(lock=True)`` of the same SKUs, by code).

    Returns the SKUs (candidates at active warehouses, as ``reservations.load_candidates`` gives them) and the
    levels. A SKU that has no stock level anywhere, or does not exist, is looked up by a second, unlocked
    query: nothing of it can be reserved, so there is nothing to lock.
    """
    codes = sorted(set(sku_codes))
    if not codes:
        return {}, []
    skus: dict[str, reservations.SkuStock] = {}
    levels = []
    for row in await session.execute(_LOCK_LEVELS_BY_CODE, {"codes": codes}):
        level = SourcingLevel(
            row.id,
            row.sku_id,
            row.sku,
            row.wid,
            row.code,
            row.priority,
            row.active,
            row.latitude,
            row.longitude,
            tuple(row.serves_countries or ()),
            row.on_hand,
            row.reserved,
            row.safety_stock,
        )
        levels.append(level)
        stock = skus.setdefault(row.sku, reservations.SkuStock(row.sku_id, row.sku, row.name, row.sku_active, []))
        if row.active:
            stock.candidates.append(
                reservations.LevelCandidate(row.wid, row.code, row.priority, level.available, row.id)
            )
    missing = [code for code in codes if code not in skus]
    if missing:
        skus.update(await reservations.load_candidates(session, missing))
    return skus, levels


@dataclass(frozen=True, slots=True)
class PartRelease:
    """Give back ``quantity`` units of an order line reserved at a warehouse."""

    order_line_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: int


async def release_part(
    session: AsyncSession,
    order_id: uuid.UUID,
    parts: Sequence[PartRelease],
    *,
    reference: str,
    actor: str,
    reason: str | None = None,
) -> int:
    """Release part of an order's reservations; a partly released reservation is replaced by one for the rest.

    Raises ``ValueError`` when a line holds fewer active units at the warehouse than asked (callers check first).
    """
    wanted: dict[tuple[uuid.UUID, uuid.UUID], int] = defaultdict(int)
    for part in parts:
        wanted[(part.order_line_id, part.warehouse_id)] += part.quantity
    newest_first = reservations.held_by_orders([order_id]).order_by(Reservation.id.desc())  # oldest stay as they are
    held = list(await session.execute(newest_first))
    give_back: dict[uuid.UUID, int] = defaultdict(int)
    closed: list[uuid.UUID] = []
    remainders: list[dict[str, object]] = []
    names: dict[uuid.UUID, tuple[str, str]] = {}
    now = utcnow()
    for row in held:
        key = (row.order_line_id, row.warehouse_id)
        take = min(wanted.get(key, 0), row.quantity)
        if take <= 0:
            continue
        wanted[key] -= take
        give_back[row.level_id] += take
        names[row.level_id] = (row.sku, row.code)
        closed.append(row.id)
        if take < row.quantity:
            remainders.append(
                {
                    "id": uuid7(),
                    "sku_id": row.sku_id,
                    "warehouse_id": row.warehouse_id,
                    "quantity": row.quantity - take,
                    "order_id": order_id,
                    "order_line_id": row.order_line_id,
                    "status": "active",
                    "created_at": now,
                }
            )
    if any(left > 0 for left in wanted.values()):
        raise ValueError("an order line holds fewer units at the warehouse than asked to release")
    if not give_back:
        return 0
    rows = await reservations.shift_reserved(session, {k: -v for k, v in give_back.items()}, guard=False)
    if len(rows) != len(give_back):  # the ledger and the levels disagree: refuse rather than guess
        raise RuntimeError(f"stock levels of order {order_id} hold less than its reservations")
    await session.execute(
        update(Reservation)
        .where(Reservation.id.in_(closed))
        .values(status="released", released_at=now)
        .execution_options(synchronize_session=False)
    )
    if remainders:
        await session.execute(insert(Reservation).values(remainders))
    await reservations.write_ledger(
        session,
        rows,
        {k: -v for k, v in give_back.items()},
        "release",
        names,
        reference,
        order_id,
        actor,
        now,
        reason=reason,
    )
    return sum(give_back.values())


# --- many orders at once (batch sourcing) -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ActiveReservation:
    reservation_id: uuid.UUID
    order_id: uuid.UUID
    order_line_id: uuid.UUID | None
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    quantity: int


async def active_reservations(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[ActiveReservation]:
    """The active reservations of some orders, with their stock levels, in one query."""
    if not order_ids:
        return []
    rows = await session.execute(reservations.held_by_orders(list(order_ids)).order_by(Reservation.id))
    return [
        ActiveReservation(
            row.id,
            row.order_id,
            row.order_line_id,
            row.level_id,
            row.sku_id,
            row.sku,
            row.warehouse_id,
            row.code,
            row.quantity,
        )
        for row in rows
        if row.order_id is not None
    ]


@dataclass(frozen=True, slots=True)
class _Change:
    order_id: uuid.UUID
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    delta: int


_LEDGER = cast(Table, StockMovement.__table__)
_RESERVATIONS = cast(Table, Reservation.__table__)


async def _shift_many(
    session: AsyncSession, changes: Sequence[_Change], *, kind: str, actor: str, reason: str | None
) -> list[dict[str, Any]]:
    """One UPDATE for every level, one ledger row per order and level (running figures); returns the
    ``stock.changed`` events (one per level, final figures) for the caller to write with its own."""
    if not changes:
        return []
    totals: dict[uuid.UUID, int] = defaultdict(int)
    for change in changes:
        totals[change.level_id] += change.delta
    rows = await reservations.shift_reserved(session, dict(totals), guard=True)  # callers hold the locks
    if len(rows) != len(totals):
        raise RuntimeError("stock levels changed under a batch that held their locks")  # callers lock first
    final = {row.id: row for row in rows}
    running = {level_id: final[level_id].reserved - total for level_id, total in totals.items()}
    now = utcnow()
    ledger = []
    for change in changes:
        running[change.level_id] += change.delta
        ledger.append(
            {
                "id": uuid7(),
                "sku_id": change.sku_id,
                "warehouse_id": change.warehouse_id,
                "type": kind,
                "on_hand_delta": 0,
                "reserved_delta": change.delta,
                "on_hand_after": final[change.level_id].on_hand,
                "reserved_after": running[change.level_id],
                "reason": None,
                "reference": f"order:{change.order_id}",
                "group_id": change.order_id,
                "note": reason,
                "actor": actor,
                "created_at": now,
            }
        )
    await insert_rows(session, _LEDGER, ledger)
    names = {change.level_id: (change.sku, change.warehouse) for change in changes}
    events = []
    for row in rows:
        sku, warehouse = names[row.id]
        events.append(
            {
                "id": uuid7(),
                "type": "stock.changed",
                "aggregate_type": "stock_level",
                "aggregate_id": row.id,
                "data": {
                    "sku": sku,
                    "sku_id": str(row.sku_id),
                    "warehouse": warehouse,
                    "warehouse_id": str(row.warehouse_id),
                    "on_hand": row.on_hand,
                    "reserved": row.reserved,
                    "available": row.on_hand - row.reserved,
                },
                "actor": actor,
                "reason": kind,
                "occurred_at": now,
            }
        )
    return events


async def release_reservations(
    session: AsyncSession, held: Sequence[ActiveReservation], *, actor: str, reason: str | None = None
) -> list[dict[str, Any]]:
    """Release these active reservations (of any number of orders) in a handful of statements; returns the
    ``stock.changed`` events to write (``kit.outbox.Event`` rows)."""
    if not held:
        return []
    merged: dict[tuple[uuid.UUID, uuid.UUID], _Change] = {}
    for r in held:
        key = (r.order_id, r.level_id)
        known = merged.get(key)
        delta = -r.quantity + (known.delta if known else 0)
        merged[key] = _Change(r.order_id, r.level_id, r.sku_id, r.sku, r.warehouse_id, r.warehouse, delta)
    events = await _shift_many(session, list(merged.values()), kind="release", actor=actor, reason=reason)
    await session.execute(
        update(Reservation)
        .where(Reservation.id.in_([r.reservation_id for r in held]))
        .values(status="released", released_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return events


async def reserve_for_orders(
    session: AsyncSession, holds: Sequence[tuple[uuid.UUID, reservations.Hold]], *, actor: str
) -> list[dict[str, Any]]:
    """Reserve the holds of many orders (``(order_id, hold)``) at once; returns the ``stock.changed`` events.

    The levels must be locked by the caller (``load_levels(lock=True)``) and the holds planned on those
    figures: a shortfall is then impossible, and raises rather than reserving part of the batch.
    """
    if not holds:
        return []
    merged: dict[tuple[uuid.UUID, uuid.UUID], _Change] = {}
    for order_id, h in holds:
        key = (order_id, h.level_id)
        known = merged.get(key)
        delta = h.quantity + (known.delta if known else 0)
        merged[key] = _Change(order_id, h.level_id, h.sku_id, h.sku, h.warehouse_id, h.warehouse, delta)
    events = await _shift_many(session, list(merged.values()), kind="reservation", actor=actor, reason=None)
    now = utcnow()
    await insert_rows(
        session,
        _RESERVATIONS,
        [
            {
                "id": uuid7(),
                "sku_id": h.sku_id,
                "warehouse_id": h.warehouse_id,
                "quantity": h.quantity,
                "order_id": order_id,
                "order_line_id": h.order_line_id,
                "status": "active",
                "created_at": now,
            }
            for order_id, h in holds
        ],
    )
    return events
