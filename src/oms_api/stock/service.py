"""Stock use cases: levels, manual movements (receipt, adjustment, transfer), availability, ledger checks.

Every change of a quantity is one conditional statement whose ``RETURNING`` feeds the ledger
row and the ``stock.changed`` event, all in the request's transaction: the ledger always
replays to the levels, and nothing reads a figure to decide a write.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.stock import domain, repository
from oms_api.stock.domain import MAX_STOCK, Balance
from oms_api.stock.repository import LevelView, MovementView
from oms_api.stock.schemas import AdjustmentCreate, ReceiptCreate, StockLevelUpdate, TransferCreate
from oms_api.stock.warehouses import active_warehouses, get_warehouse

__all__ = [
    "Availability",
    "LevelView",
    "MovementResult",
    "MovementView",
    "Place",
    "WarehouseAvailability",
    "active_warehouses",
    "create_movement",
    "get_availability",
    "get_stock_level",
    "get_warehouse",
    "ledger_discrepancies",
    "list_movements",
    "list_stock_levels",
    "update_stock_level",
]


@dataclass(frozen=True, slots=True)
class Place:
    """A SKU at a warehouse, with the codes that read models and events show."""

    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str


@dataclass(frozen=True, slots=True)
class MovementResult:
    """What a manual movement wrote: its ledger rows and the levels as they now stand."""

    movements: list[MovementView]
    stock_levels: list[LevelView]


@dataclass(frozen=True, slots=True)
class WarehouseAvailability:
    warehouse: str
    warehouse_id: uuid.UUID
    warehouse_active: bool
    on_hand: int
    reserved: int
    available: int


@dataclass(frozen=True, slots=True)
class Availability:
    sku: str
    sku_id: uuid.UUID
    on_hand: int
    reserved: int
    available: int
    warehouses: list[WarehouseAvailability]


# --- stock levels -----------------------------------------------------------------------------------------------


async def get_stock_level(session: AsyncSession, level_id: uuid.UUID) -> LevelView:
    level = await repository.get_level_view(session, level_id)
    if level is None:
        raise NotFound(f"No stock level {level_id}", code="stock_level_not_found")
    return level


async def list_stock_levels(
    session: AsyncSession, page: PageParams, *, sku: str | None = None, warehouse: str | None = None
) -> Slice[LevelView]:
    return await repository.list_levels(session, page, sku=sku, warehouse=warehouse)


async def update_stock_level(
    session: AsyncSession, actor: Principal, level_id: uuid.UUID, data: StockLevelUpdate, if_match: str | None
) -> LevelView:
    """Change the replenishment settings; the row is locked so concurrent stock changes keep their version bump."""
    level = await repository.get_level(session, level_id, for_update=True)
    if level is None:
        raise NotFound(f"No stock level {level_id}", code="stock_level_not_found")
    check_if_match(if_match, level.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(level, k) != v}
    if changes:
        for field, value in changes.items():
            setattr(level, field, value)
        level.version += 1
        await session.flush()
    view = await get_stock_level(session, level_id)
    if changes:
        data_out = {
            "id": str(view.id),
            "sku": view.sku,
            "sku_id": str(view.sku_id),
            "warehouse": view.warehouse,
            "warehouse_id": str(view.warehouse_id),
            "reorder_point": view.reorder_point,
            "safety_stock": view.safety_stock,
            "version": view.version,
        }
        outbox.record(session, "stock_level.updated", "stock_level", view.id, data_out, actor=actor.actor)
    return view


# --- the one way quantities change by hand ----------------------------------------------------------------------


def _insufficient(place: Place, requested: int, available: int) -> Conflict:
    return Conflict(
        f"Only {available} of {place.sku!r} available at {place.warehouse!r}; {requested} needed",
        code="insufficient_stock",
        sku=place.sku,
        warehouse=place.warehouse,
        requested=requested,
        available=available,
    )


async def _shift(session: AsyncSession, place: Place, delta: int, level_id: uuid.UUID | None) -> Any:
    """Apply ``delta`` to on_hand in one conditional statement; returns the level's new figures."""
    if delta > 0:
        row = await repository.add_on_hand(session, place.sku_id, place.warehouse_id, delta)
        if row is None:
            raise Conflict(
                f"{place.sku!r} at {place.warehouse!r} would exceed {MAX_STOCK} units on hand",
                code="stock_limit_exceeded",
                limit=MAX_STOCK,
            )
        return row
    row = await repository.shift_on_hand(session, level_id, delta) if level_id is not None else None
    if row is None:  # refused: nothing was written; read the figure only to explain why
        balance = await repository.level_balance(session, place.sku_id, place.warehouse_id)
        raise _insufficient(place, -delta, balance.available if balance else 0)
    return row


def _record(
    session: AsyncSession,
    place: Place,
    row: Any,
    delta: int,
    *,
    type_: str,
    actor: str,
    reason: str | None,
    reference: str | None,
    group_id: uuid.UUID | None,
    note: str | None,
    now: datetime,
) -> tuple[MovementView, LevelView]:
    """The ledger row and the event of one applied change (the row's figures come from RETURNING)."""
    movement = MovementView(
        id=uuid7(),
        type=type_,
        sku=place.sku,
        sku_id=place.sku_id,
        warehouse=place.warehouse,
        warehouse_id=place.warehouse_id,
        on_hand_delta=delta,
        reserved_delta=0,
        on_hand_after=row.on_hand,
        reserved_after=row.reserved,
        reason=reason,
        reference=reference,
        group_id=group_id,
        note=note,
        actor=actor,
        created_at=now,
    )
    level = repository.level_view(row, place.sku, place.warehouse)
    outbox.record(session, "stock.changed", "stock_level", level.id, stock_changed(level), actor=actor, reason=type_)
    return movement, level


def stock_changed(level: LevelView) -> dict[str, Any]:
    """The ``stock.changed`` event payload."""
    return {
        "sku": level.sku,
        "sku_id": str(level.sku_id),
        "warehouse": level.warehouse,
        "warehouse_id": str(level.warehouse_id),
        "on_hand": level.on_hand,
        "reserved": level.reserved,
        "available": level.available,
    }


async def _save(session: AsyncSession, changes: list[tuple[MovementView, LevelView]]) -> MovementResult:
    movements = [movement for movement, _ in changes]
    rows = [{k: v for k, v in asdict(m).items() if k not in ("sku", "warehouse")} for m in movements]
    await repository.add_movements(session, rows)
    return MovementResult(movements=movements, stock_levels=[level for _, level in changes])


async def _place(session: AsyncSession, sku_ref: str, warehouse_ref: str) -> Place:
    sku = await catalog.get_sku(session, sku_ref)
    warehouse = await get_warehouse(session, warehouse_ref)
    return Place(sku.id, sku.sku, warehouse.id, warehouse.code)


async def create_movement(
    session: AsyncSession, actor: Principal, data: ReceiptCreate | AdjustmentCreate | TransferCreate
) -> MovementResult:
    """Receive, adjust or transfer stock by hand. Inactive SKUs and warehouses may still hold stock."""
    if isinstance(data, TransferCreate):
        return await _transfer(session, actor, data)
    place = await _place(session, data.sku, data.warehouse)
    reason: str | None = None
    if isinstance(data, AdjustmentCreate):
        problem = domain.adjustment_error(data.reason, data.quantity)
        if problem is not None:
            raise field_error("/body/quantity", problem, code="wrong_sign")
        reason = data.reason.value
    level_id = None
    if data.quantity < 0:
        balance = await repository.level_balance(session, place.sku_id, place.warehouse_id)
        level_id = balance.id if balance else None
    row = await _shift(session, place, data.quantity, level_id)
    change = _record(
        session,
        place,
        row,
        data.quantity,
        type_=data.type,
        actor=actor.actor,
        reason=reason,
        reference=data.reference,
        group_id=None,
        note=data.note,
        now=utcnow(),
    )
    return await _save(session, [change])


async def _transfer(session: AsyncSession, actor: Principal, data: TransferCreate) -> MovementResult:
    """Both sides in one transaction; rows are changed in level-id order, like reservations lock them,
    so a transfer never deadlocks with a reservation or an opposite transfer."""
    sku = await catalog.get_sku(session, data.sku)
    source = await get_warehouse(session, data.from_warehouse)
    target = await get_warehouse(session, data.to_warehouse)
    if source.id == target.id:
        raise field_error("/body/to_warehouse", "A transfer needs two different warehouses", code="same_warehouse")
    out_place = Place(sku.id, sku.sku, source.id, source.code)
    in_place = Place(sku.id, sku.sku, target.id, target.code)
    out_level = await repository.level_balance(session, sku.id, source.id)
    if out_level is None:
        raise _insufficient(out_place, data.quantity, 0)
    in_level = await repository.level_balance(session, sku.id, target.id)
    steps = [(out_place, -data.quantity, out_level.id), (in_place, data.quantity, in_level.id if in_level else None)]
    rows: dict[uuid.UUID, Any] = {}
    for place, delta, level_id in sorted(steps, key=lambda s: (s[2] is None, s[2] or uuid.UUID(int=0))):
        rows[place.warehouse_id] = await _shift(session, place, delta, level_id)
    group_id, now = uuid7(), utcnow()
    common: dict[str, Any] = {
        "actor": actor.actor,
        "reason": None,
        "reference": data.reference,
        "group_id": group_id,
        "note": data.note,
        "now": now,
    }
    changes = [
        _record(session, out_place, rows[source.id], -data.quantity, type_="transfer_out", **common),
        _record(session, in_place, rows[target.id], data.quantity, type_="transfer_in", **common),
    ]
    return await _save(session, changes)


async def list_movements(
    session: AsyncSession,
    page: PageParams,
    *,
    sku: str | None = None,
    warehouse: str | None = None,
    type_: str | None = None,
    reference: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> Slice[MovementView]:
    return await repository.list_movements(
        session,
        page,
        sku=sku,
        warehouse=warehouse,
        type_=type_,
        reference=reference,
        created_after=created_after,
        created_before=created_before,
    )


# --- reading ----------------------------------------------------------------------------------------------------


async def get_availability(session: AsyncSession, sku_ref: str) -> Availability:
    """Available-to-promise of a SKU: every warehouse holding it or active, and the totals over those rows."""
    sku = await catalog.get_sku(session, sku_ref)
    rows = await repository.availability_rows(session, sku.id)
    warehouses = [
        WarehouseAvailability(
            warehouse=row.code,
            warehouse_id=row.id,
            warehouse_active=row.active,
            on_hand=row.on_hand,
            reserved=row.reserved,
            available=domain.available(row.on_hand, row.reserved),
        )
        for row in rows
    ]
    totals = domain.total(Balance(w.on_hand, w.reserved) for w in warehouses)
    return Availability(
        sku=sku.sku,
        sku_id=sku.id,
        on_hand=totals.on_hand,
        reserved=totals.reserved,
        available=totals.available,
        warehouses=warehouses,
    )


async def ledger_discrepancies(session: AsyncSession) -> list[dict[str, Any]]:
    """Stock levels whose on_hand/reserved differ from the sums of their ledger deltas (empty: it replays)."""
    return [
        {
            "stock_level_id": str(row.id) if row.id is not None else None,
            "sku_id": str(row.sku_id),
            "warehouse_id": str(row.warehouse_id),
            "on_hand": row.on_hand,
            "reserved": row.reserved,
            "ledger_on_hand": int(row.ledger_on_hand),
            "ledger_reserved": int(row.ledger_reserved),
        }
        for row in await repository.ledger_mismatches(session)
    ]
