"""Queries of warehouses, stock levels and the ledger, and what sourcing reads of them.

Quantities change only in ``stock.ledger``. Read models join the catalog's ``skus`` table for the SKU's code,
name and whether it is sold (a named read across contexts: placement validates and sources an order's lines
in one locked read).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, null, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code
from oms_api.stock.models import StockLevel, StockMovement, Warehouse


@dataclass(frozen=True, slots=True)
class LevelView:
    """A stock level with the codes of its SKU and warehouse (what the API shows)."""

    id: uuid.UUID
    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    on_hand: int
    reserved: int
    reorder_point: int | None
    safety_stock: int
    version: int
    updated_at: datetime

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


@dataclass(frozen=True, slots=True)
class MovementView:
    """A ledger row with the codes of its SKU and warehouse."""

    id: uuid.UUID
    type: str
    sku: str
    sku_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    on_hand_delta: int
    reserved_delta: int
    on_hand_after: int
    reserved_after: int
    reason: str | None
    reference: str | None
    group_id: uuid.UUID | None
    note: str | None
    actor: str | None
    created_at: datetime


# --- warehouses -------------------------------------------------------------------------------------------------


async def get_warehouse(session: AsyncSession, ref: str, *, for_update: bool = False) -> Warehouse | None:
    """A warehouse by id or code; ``for_update`` row-locks it for a read-modify-write."""
    stmt = select(Warehouse).where(id_or_code(Warehouse.id, Warehouse.code, ref))
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def find_warehouse_by_code(session: AsyncSession, code: str) -> Warehouse | None:
    return (await session.execute(select(Warehouse).where(Warehouse.code == code))).scalars().first()


async def add_warehouse(session: AsyncSession, warehouse: Warehouse) -> bool:
    """Insert ``warehouse``; False when its code was taken meanwhile (a concurrent create won)."""
    try:
        async with session.begin_nested():
            session.add(warehouse)
    except IntegrityError:
        return False
    return True


async def list_warehouses(session: AsyncSession, page: PageParams, *, active: bool | None) -> Slice[Warehouse]:
    stmt = select(Warehouse).order_by(Warehouse.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Warehouse.id > page.after)
    if active is not None:
        stmt = stmt.where(Warehouse.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def active_warehouses(session: AsyncSession) -> list[Warehouse]:
    stmt = select(Warehouse).where(Warehouse.active.is_(True)).order_by(Warehouse.priority.desc(), Warehouse.code)
    return list((await session.execute(stmt)).scalars())


# --- stock levels -----------------------------------------------------------------------------------------------

_LEVEL_COLUMNS = (
    StockLevel.id,
    Sku.sku,
    StockLevel.sku_id,
    Warehouse.code.label("warehouse"),
    StockLevel.warehouse_id,
    StockLevel.on_hand,
    StockLevel.reserved,
    StockLevel.reorder_point,
    StockLevel.safety_stock,
    StockLevel.version,
    StockLevel.updated_at,
)


def _levels() -> Any:
    return (
        select(*_LEVEL_COLUMNS)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
    )


def level_view(row: Any, sku: str, warehouse: str) -> LevelView:
    """A view from a ``RETURNING`` row of the change statements and the codes the caller knows."""
    return LevelView(
        id=row.id,
        sku=sku,
        sku_id=row.sku_id,
        warehouse=warehouse,
        warehouse_id=row.warehouse_id,
        on_hand=row.on_hand,
        reserved=row.reserved,
        reorder_point=row.reorder_point,
        safety_stock=row.safety_stock,
        version=row.version,
        updated_at=row.updated_at,
    )


async def get_level_view(session: AsyncSession, level_id: uuid.UUID) -> LevelView | None:
    row = (await session.execute(_levels().where(StockLevel.id == level_id))).first()
    return LevelView(**row._mapping) if row else None


async def get_level(session: AsyncSession, level_id: uuid.UUID, *, for_update: bool = False) -> StockLevel | None:
    stmt = select(StockLevel).where(StockLevel.id == level_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def sku_id_by_ref(session: AsyncSession, ref: str) -> uuid.UUID | None:
    """The id of the SKU with this id or code (a read of the catalog's table, for the lists' filters)."""
    return (await session.execute(select(Sku.id).where(id_or_code(Sku.id, Sku.sku, ref)))).scalars().first()


async def list_levels(
    session: AsyncSession, page: PageParams, *, sku_id: uuid.UUID | None, warehouse_id: uuid.UUID | None
) -> Slice[LevelView]:
    """A page of levels, oldest first: a warehouse's are a range of ``ix_stock_levels_warehouse_id_id``
    (``kit.keyset``); a SKU has one per warehouse at most, found through the unique (sku, warehouse) index."""
    stmt = filtered_page(
        _levels(),
        StockLevel.id,
        page.after,
        [(StockLevel.sku_id, sku_id), (StockLevel.warehouse_id, warehouse_id)],
        [(StockLevel.warehouse_id,)] if sku_id is None else [],
    ).limit(page.limit + 1)
    rows = [LevelView(**row._mapping) for row in await session.execute(stmt)]
    return make_slice(rows, page.limit)


@dataclass(frozen=True, slots=True)
class LevelBalance:
    id: uuid.UUID
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


async def level_balance(session: AsyncSession, sku_id: uuid.UUID, warehouse_id: uuid.UUID) -> LevelBalance | None:
    """The current figures of a level (columns, never a cached ORM object), or None when it does not exist."""
    stmt = select(StockLevel.id, StockLevel.on_hand, StockLevel.reserved).where(
        StockLevel.sku_id == sku_id, StockLevel.warehouse_id == warehouse_id
    )
    row = (await session.execute(stmt)).first()
    return LevelBalance(row.id, row.on_hand, row.reserved) if row else None


# --- the ledger -------------------------------------------------------------------------------------------------


async def list_movements(
    session: AsyncSession,
    page: PageParams,
    *,
    sku_id: uuid.UUID | None,
    warehouse_id: uuid.UUID | None,
    type_: str | None,
    reference: str | None,
    created_after: datetime | None,
    created_before: datetime | None,
) -> Slice[MovementView]:
    """A page of the ledger, oldest first: a range of the index of the most selective filter given
    (``kit.keyset``). The SKU and the warehouse come as ids (the service looks the codes up first): a filter on
    the joined ``skus.sku`` could use no index that also gives the ledger's order."""
    stmt = (
        select(
            StockMovement.id,
            StockMovement.type,
            Sku.sku,
            StockMovement.sku_id,
            Warehouse.code.label("warehouse"),
            StockMovement.warehouse_id,
            StockMovement.on_hand_delta,
            StockMovement.reserved_delta,
            StockMovement.on_hand_after,
            StockMovement.reserved_after,
            StockMovement.reason,
            StockMovement.reference,
            StockMovement.group_id,
            StockMovement.note,
            StockMovement.actor,
            StockMovement.created_at,
        )
        .join(Sku, Sku.id == StockMovement.sku_id)
        .join(Warehouse, Warehouse.id == StockMovement.warehouse_id)
    )
    m = StockMovement
    stmt = filtered_page(
        stmt,
        m.id,
        page.after,
        [(m.reference, reference), (m.sku_id, sku_id), (m.warehouse_id, warehouse_id), (m.type, type_)],
        [(m.reference,), (m.sku_id, m.warehouse_id), (m.sku_id,), (m.warehouse_id,), (m.type,)],
    ).limit(page.limit + 1)
    if created_after is not None:
        stmt = stmt.where(StockMovement.created_at >= created_after)
    if created_before is not None:
        stmt = stmt.where(StockMovement.created_at < created_before)
    if created_after or created_before:
        await plan_for_values(session)
    rows = [MovementView(**row._mapping) for row in await session.execute(stmt)]
    return make_slice(rows, page.limit)


async def availability_rows(session: AsyncSession, sku_id: uuid.UUID) -> list[Any]:
    """Every warehouse holding a level of the SKU plus every active one, best-preferred first."""
    stmt = (
        select(
            Warehouse.id,
            Warehouse.code,
            Warehouse.active,
            func.coalesce(StockLevel.on_hand, 0).label("on_hand"),
            func.coalesce(StockLevel.reserved, 0).label("reserved"),
        )
        .outerjoin(StockLevel, and_(StockLevel.warehouse_id == Warehouse.id, StockLevel.sku_id == sku_id))
        .where(or_(StockLevel.id.is_not(None), Warehouse.active.is_(True)))
        .order_by(Warehouse.priority.desc(), Warehouse.code)
    )
    return list(await session.execute(stmt))


async def ledger_mismatches(session: AsyncSession) -> list[Any]:
    """Levels whose figures differ from their ledger's summed deltas, and ledgers with no level at all."""
    sums = (
        select(
            StockMovement.sku_id,
            StockMovement.warehouse_id,
            func.sum(StockMovement.on_hand_delta).label("on_hand"),
            func.sum(StockMovement.reserved_delta).label("reserved"),
        )
        .group_by(StockMovement.sku_id, StockMovement.warehouse_id)
        .subquery()
    )
    ledger_on_hand = func.coalesce(sums.c.on_hand, 0)
    ledger_reserved = func.coalesce(sums.c.reserved, 0)
    levels = (
        select(
            StockLevel.id,
            StockLevel.sku_id,
            StockLevel.warehouse_id,
            StockLevel.on_hand,
            StockLevel.reserved,
            ledger_on_hand.label("ledger_on_hand"),
            ledger_reserved.label("ledger_reserved"),
        )
        .outerjoin(sums, and_(sums.c.sku_id == StockLevel.sku_id, sums.c.warehouse_id == StockLevel.warehouse_id))
        .where(or_(ledger_on_hand != StockLevel.on_hand, ledger_reserved != StockLevel.reserved))
        .order_by(StockLevel.id)
    )
    has_level = exists().where(StockLevel.sku_id == sums.c.sku_id, StockLevel.warehouse_id == sums.c.warehouse_id)
    orphans = select(
        null().label("id"),
        sums.c.sku_id,
        sums.c.warehouse_id,
        null().label("on_hand"),
        null().label("reserved"),
        sums.c.on_hand.label("ledger_on_hand"),
        sums.c.reserved.label("ledger_reserved"),
    ).where(~has_level, or_(sums.c.on_hand != 0, sums.c.reserved != 0))
    return [*await session.execute(levels), *await session.execute(orphans)]
