"""Reserving and releasing stock for orders: the oversell-proof heart of placement.

A reservation raises ``reserved`` on a set of stock levels in ONE conditional UPDATE
(``WHERE on_hand - reserved >= qty``) that locks the rows in id order first, so no
interleaving of any number of processes can oversell and concurrent orders cannot
deadlock on each other. If some rows no longer have the stock (a concurrent order took
it between planning and reserving), the rows that were raised are lowered again and the
caller re-plans on fresh figures. Every change writes ledger rows and ``stock.changed``
events in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Table, Uuid, and_, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from oms_api.allocation.domain import Candidate
from oms_api.catalog.models import Sku
from oms_api.kit import outbox
from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock.models import Reservation, StockLevel, StockMovement, Warehouse


@dataclass(frozen=True, slots=True)
class LevelCandidate(Candidate):
    level_id: uuid.UUID


@dataclass
class SkuStock:
    """A SKU of an order with the active warehouses that hold it."""

    sku_id: uuid.UUID
    sku: str
    name: str
    active: bool
    candidates: list[LevelCandidate]


@dataclass(frozen=True, slots=True)
class Hold:
    """Reserve ``quantity`` of a SKU at a warehouse for one order line."""

    order_line_id: uuid.UUID
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    quantity: int


async def load_candidates(session: AsyncSession, sku_codes: Iterable[str]) -> dict[str, SkuStock]:
    """SKUs by code with their stock at every active warehouse, in one query."""
    stmt = (
        select(
            Sku.id,
            Sku.sku,
            Sku.name,
            Sku.active,
            StockLevel.id.label("level_id"),
            Warehouse.id.label("wid"),
            Warehouse.code,
            Warehouse.priority,
            (StockLevel.on_hand - StockLevel.reserved).label("available"),
        )
        .select_from(Sku)
        .outerjoin(StockLevel, StockLevel.sku_id == Sku.id)
        .outerjoin(Warehouse, and_(Warehouse.id == StockLevel.warehouse_id, Warehouse.active.is_(True)))
        .where(Sku.sku.in_(sorted(set(sku_codes))))
    )
    found: dict[str, SkuStock] = {}
    for row in await session.execute(stmt):
        stock = found.setdefault(row.sku, SkuStock(row.id, row.sku, row.name, row.active, []))
        if row.level_id is not None and row.wid is not None:
            stock.candidates.append(LevelCandidate(row.wid, row.code, row.priority, row.available, row.level_id))
    return found


_LEVELS = cast(Table, StockLevel.__table__)
_SHIFTED: dict[str, TypeEngine[Any]] = {
    "id": Uuid(),
    "sku_id": Uuid(),
    "warehouse_id": Uuid(),
    "on_hand": Integer(),
    "reserved": Integer(),
}


def _shift_sql(condition: str) -> Any:
    return text(
        f"""
        WITH locked AS (
            SELECT id FROM stock_levels WHERE id = ANY(CAST(:lock AS uuid[])) ORDER BY id FOR UPDATE
        )
        UPDATE stock_levels AS s
           SET reserved = s.reserved + v.delta, version = s.version + 1, updated_at = :now
          FROM unnest(CAST(:ids AS uuid[]), CAST(:deltas AS integer[])) AS v(id, delta)
         WHERE s.id = v.id AND s.id IN (SELECT id FROM locked) AND {condition}
        RETURNING s.id, s.sku_id, s.warehouse_id, s.on_hand, s.reserved
        """
    ).columns(**_SHIFTED)


_SHIFT_PG = {
    True: _shift_sql("s.reserved + v.delta >= 0 AND s.reserved + v.delta <= s.on_hand"),
    False: _shift_sql("s.reserved + v.delta >= 0"),
}
"""PostgreSQL: one fixed text for any number of levels (array parameters), so one prepared statement serves
every order; the portable CASE below is compiled anew for every number of levels."""


def _locked_ids(ids: Sequence[uuid.UUID]) -> Any:
    """The given stock levels, row-locked in id order (PostgreSQL; SQLite serialises writers anyway)."""
    return select(_LEVELS.c.id).where(_LEVELS.c.id.in_(ids)).order_by(_LEVELS.c.id).with_for_update().cte("locked")


async def _shift_reserved(
    session: AsyncSession, deltas: dict[uuid.UUID, int], *, guard: bool, lock: Iterable[uuid.UUID] = ()
) -> list[Any]:
    """Add ``deltas`` to ``reserved`` in one statement; with ``guard``, only where the stock allows.

    The rows of ``deltas`` and of ``lock`` are locked first, all in id order.
    """
    if session.get_bind().dialect.name == "postgresql":
        ids = list(deltas)
        params = {
            "lock": sorted(set(deltas) | set(lock)),
            "ids": ids,
            "deltas": [deltas[i] for i in ids],
            "now": utcnow(),
        }
        return list(await session.execute(_SHIFT_PG[guard], params))
    levels = _LEVELS.c
    delta = case(deltas, value=levels.id)
    locked = _locked_ids(sorted(set(deltas) | set(lock)))
    condition: ColumnElement[bool] = and_(levels.id.in_(list(deltas)), levels.id.in_(select(locked.c.id)))
    if guard:
        condition = and_(condition, levels.on_hand - levels.reserved >= delta)
    else:
        condition = and_(condition, levels.reserved + delta >= 0)
    stmt = (
        update(_LEVELS)
        .where(condition)
        .values(reserved=levels.reserved + delta, version=levels.version + 1, updated_at=utcnow())
        .returning(levels.id, levels.sku_id, levels.warehouse_id, levels.on_hand, levels.reserved)
    )
    return list(await session.execute(stmt))


async def reserve(
    session: AsyncSession,
    holds: Sequence[Hold],
    *,
    order_id: uuid.UUID,
    reference: str,
    actor: str,
    lock: Iterable[uuid.UUID] = (),
) -> set[uuid.UUID]:
    """Reserve every hold or none. Returns the stock levels that fell short (empty on success).

    ``lock`` names every level the caller might fall back on (all candidates of the order's SKUs):
    they are locked too, in the same id order, so that a re-plan after a shortfall needs no new lock
    (no deadlock) and reads figures no one else can change until this transaction ends.
    """
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for hold in holds:
        wanted[hold.level_id] += hold.quantity
    rows = await _shift_reserved(session, dict(wanted), guard=True, lock=lock)
    if len(rows) < len(wanted):
        raised = {row.id: wanted[row.id] for row in rows}
        if raised:
            await _shift_reserved(session, {k: -v for k, v in raised.items()}, guard=False)
        return set(wanted) - set(raised)
    now = utcnow()
    names = {h.level_id: (h.sku, h.warehouse) for h in holds}
    await insert_rows(
        session,
        Reservation,
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
            for h in holds
        ],
    )
    await _write_ledger(session, rows, wanted, "reservation", names, reference, order_id, actor, now)
    return set()


def held_by_orders(order_ids: Sequence[uuid.UUID]) -> Any:
    """The active reservations of some orders with their stock level id, SKU code and warehouse code."""
    return (
        select(
            Reservation.id,
            Reservation.order_id,
            Reservation.order_line_id,
            Reservation.sku_id,
            Reservation.warehouse_id,
            Reservation.quantity,
            StockLevel.id.label("level_id"),
            Sku.sku,
            Warehouse.code,
        )
        .join(
            StockLevel,
            and_(StockLevel.sku_id == Reservation.sku_id, StockLevel.warehouse_id == Reservation.warehouse_id),
        )
        .join(Sku, Sku.id == Reservation.sku_id)
        .join(Warehouse, Warehouse.id == Reservation.warehouse_id)
        .where(Reservation.order_id.in_(order_ids), Reservation.status == "active")
    )


async def release_for_order(
    session: AsyncSession, order_id: uuid.UUID, *, reference: str, actor: str, reason: str | None = None
) -> int:
    """Release the order's active reservations (cancellation). Returns how many units went back."""
    held = list(await session.execute(held_by_orders([order_id])))
    if not held:
        return 0
    give_back: dict[uuid.UUID, int] = defaultdict(int)
    for row in held:
        give_back[row.level_id] += row.quantity
    rows = await _shift_reserved(session, {k: -v for k, v in give_back.items()}, guard=False)
    if len(rows) != len(give_back):  # the ledger and the levels disagree: refuse rather than guess
        raise RuntimeError(f"stock levels of order {order_id} hold less than its reservations")
    now = utcnow()
    await session.execute(
        update(Reservation)
        .where(Reservation.id.in_([r.id for r in held]))
        .values(status="released", released_at=now)
        .execution_options(synchronize_session=False)
    )
    names = {row.level_id: (row.sku, row.code) for row in held}
    await _write_ledger(
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


async def _write_ledger(
    session: AsyncSession,
    rows: Sequence[Any],
    deltas: dict[uuid.UUID, int],
    kind: str,
    names: dict[uuid.UUID, tuple[str, str]],
    reference: str,
    group_id: uuid.UUID,
    actor: str,
    now: Any,
    reason: str | None = None,
) -> None:
    await insert_rows(
        session,
        StockMovement,
        [
            {
                "id": uuid7(),
                "sku_id": row.sku_id,
                "warehouse_id": row.warehouse_id,
                "type": kind,
                "on_hand_delta": 0,
                "reserved_delta": deltas[row.id],
                "on_hand_after": row.on_hand,
                "reserved_after": row.reserved,
                "reason": None,
                "reference": reference,
                "group_id": group_id,
                "note": reason,
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
            reason=kind,
        )


async def allocations_for(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Reservations of the given orders, by order line, with warehouse codes."""
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


# Shared with ``stock.holds`` (cart holds), which follows the same locking order and ledger rules.
shift_reserved = _shift_reserved
write_ledger = _write_ledger
