"""The stock context's service: its own use cases (levels, availability, ledger checks) and, re-exported, what
other contexts may ask of stock.

Other contexts import this module only. Quantities change in ``stock.ledger`` alone, called by the use-case
modules re-exported here: manual movements, orders' reservations, carts' holds and shipments' dispatch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import NotFound
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.stock import domain, repository
from oms_api.stock.dispatch import dispatch
from oms_api.stock.dispatch import release as release_shipment
from oms_api.stock.domain import (
    ActiveReservation,
    Balance,
    Held,
    Hold,
    LevelFacts,
    LineUnits,
    PartRelease,
    ReservationShortfall,
    SkuStock,
    StockCandidate,
    StockOutOfStep,
)
from oms_api.stock.holds import convert as convert_holds
from oms_api.stock.holds import extend as extend_holds
from oms_api.stock.holds import hold, holds_of
from oms_api.stock.holds import release as release_holds
from oms_api.stock.levels_repository import load_candidates, load_levels, lock_levels, lock_levels_by_code
from oms_api.stock.movements import MovementResult, create_movement
from oms_api.stock.repository import LevelView, MovementView
from oms_api.stock.reservations import (
    active_of_orders,
    release_for_order,
    release_part,
    release_reservations,
    reserve,
    reserve_for_orders,
)
from oms_api.stock.reservations_repository import allocations_for
from oms_api.stock.schemas import StockLevelUpdate
from oms_api.stock.warehouses import active_warehouses, get_warehouse

__all__ = [
    "ActiveReservation",
    "Availability",
    "Held",
    "Hold",
    "LevelFacts",
    "LevelView",
    "LineUnits",
    "MovementResult",
    "MovementView",
    "PartRelease",
    "ReservationShortfall",
    "SkuStock",
    "StockCandidate",
    "StockOutOfStep",
    "WarehouseAvailability",
    "active_of_orders",
    "active_warehouses",
    "allocations_for",
    "convert_holds",
    "create_movement",
    "dispatch",
    "extend_holds",
    "get_availability",
    "get_stock_level",
    "get_warehouse",
    "hold",
    "holds_of",
    "ledger_discrepancies",
    "list_movements",
    "list_stock_levels",
    "load_candidates",
    "load_levels",
    "lock_levels",
    "lock_levels_by_code",
    "release_for_order",
    "release_holds",
    "release_part",
    "release_reservations",
    "release_shipment",
    "reserve",
    "reserve_for_orders",
    "update_stock_level",
]


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


async def _filter_ids(
    session: AsyncSession, sku: str | None, warehouse: str | None
) -> tuple[uuid.UUID | None, uuid.UUID | None] | None:
    """The ids the SKU and warehouse filters name (None when one names nothing: the list is empty).

    Lists filter their own ``sku_id``/``warehouse_id`` rather than the joined codes: only a filter on the
    listed table can use an index that also gives the list's order (``ix_stock_movements_sku_id_id`` …), so
    page one reads a few index entries instead of walking the ledger's primary key.
    """
    sku_id: uuid.UUID | None = None
    if sku is not None and (sku_id := await repository.sku_id_by_ref(session, sku)) is None:
        return None
    warehouse_id: uuid.UUID | None = None
    if warehouse is not None:
        place = await repository.get_warehouse(session, warehouse)
        if place is None:
            return None
        warehouse_id = place.id
    return sku_id, warehouse_id


async def list_stock_levels(
    session: AsyncSession, page: PageParams, *, sku: str | None = None, warehouse: str | None = None
) -> Slice[LevelView]:
    ids = await _filter_ids(session, sku, warehouse)
    if ids is None:  # a filter that names no SKU or warehouse finds nothing, as other filters do
        return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_levels(session, page, sku_id=ids[0], warehouse_id=ids[1])


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
    ids = await _filter_ids(session, sku, warehouse)
    if ids is None:  # a filter that names no SKU or warehouse finds nothing, as other filters do
        return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_movements(
        session,
        page,
        sku_id=ids[0],
        warehouse_id=ids[1],
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
