"""What planning reads of stock: SKUs with the warehouses that hold them, and stock levels with their warehouse's
facts, locked in id order when the caller is about to reserve (every stock writer locks in that order)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.stock.domain import LevelFacts, SkuStock, StockCandidate
from oms_api.stock.models import StockLevel, Warehouse

# --- what sourcing reads --------------------------------------------------------------------------------------


async def load_candidates(session: AsyncSession, sku_codes: Iterable[str]) -> dict[str, SkuStock]:
    """SKUs by code with their stock at every active warehouse, in one query."""
    stmt = (
        select(
            Sku.id,
            Sku.sku,
            Sku.name,
            Sku.active,
            Sku.tax_category,
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
        stock = found.setdefault(row.sku, SkuStock(row.id, row.sku, row.name, row.active, [], row.tax_category))
        if row.level_id is not None and row.wid is not None:
            stock.candidates.append(StockCandidate(row.wid, row.code, row.priority, row.available, row.level_id))
    return found


_FACTS = (
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


def _facts(row: Any) -> LevelFacts:
    return LevelFacts(
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


async def load_levels(
    session: AsyncSession, sku_ids: Iterable[uuid.UUID], *, lock: bool, also: Iterable[uuid.UUID] = ()
) -> list[LevelFacts]:
    """Every level of the SKUs with its warehouse, in level-id order; ``lock`` row-locks them in that order.

    ``also`` names more levels (of other SKUs) to read and lock in the same statement, so that a writer about
    to touch both sets takes every lock at once, in one id order.
    """
    ids, more = sorted(set(sku_ids)), sorted(set(also))
    if not ids and not more:
        return []
    stmt = (
        select(*_FACTS)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .where(or_(StockLevel.sku_id.in_(ids), StockLevel.id.in_(more)) if more else StockLevel.sku_id.in_(ids))
        .order_by(StockLevel.id)
    )
    if lock:
        stmt = stmt.with_for_update(of=StockLevel)
    return [_facts(row) for row in await session.execute(stmt)]


_LOCK_LEVELS_BY_CODE = (
    select(*_FACTS, Sku.name, Sku.active.label("sku_active"), Sku.tax_category)
    .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
    .join(Sku, Sku.id == StockLevel.sku_id)
    .where(Sku.sku.in_(bindparam("codes", expanding=True)))
    .order_by(StockLevel.id)
    .with_for_update(of=StockLevel)
)
"""Every level of some SKUs (by code) with its SKU and warehouse, row-locked in id order; built once."""


async def lock_levels_by_code(
    session: AsyncSession, sku_codes: Iterable[str]
) -> tuple[dict[str, SkuStock], list[LevelFacts]]:
    """The SKUs by code with ALL their levels row-locked in id order, in one query: what placement validates
    the lines against AND what the engine plans on (``load_levels(lock=True)`` of the same SKUs, by code).

    Returns the SKUs (candidates at active warehouses, as ``load_candidates`` gives them) and the levels. A SKU
    that has no stock level anywhere, or does not exist, is looked up by a second, unlocked query: nothing of
    it can be reserved, so there is nothing to lock.
    """
    codes = sorted(set(sku_codes))
    if not codes:
        return {}, []
    skus: dict[str, SkuStock] = {}
    levels = []
    for row in await session.execute(_LOCK_LEVELS_BY_CODE, {"codes": codes}):
        level = _facts(row)
        levels.append(level)
        stock = skus.setdefault(row.sku, SkuStock(row.sku_id, row.sku, row.name, row.sku_active, [], row.tax_category))
        if row.active:
            stock.candidates.append(StockCandidate(row.wid, row.code, row.priority, level.available, row.id))
    missing = [code for code in codes if code not in skus]
    if missing:
        skus.update(await load_candidates(session, missing))
    return skus, levels


async def lock_levels(session: AsyncSession, level_ids: Iterable[uuid.UUID]) -> None:
    """Row-lock stock levels in id order (PostgreSQL), before touching them in several statements."""
    ids = sorted(set(level_ids))
    if ids:
        await session.execute(
            select(StockLevel.id).where(StockLevel.id.in_(ids)).order_by(StockLevel.id).with_for_update()
        )


async def level_refs(
    session: AsyncSession, warehouse_id: uuid.UUID, sku_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Any]:
    """The stock level of each SKU at the warehouse, with the codes events show (by SKU id)."""
    rows = await session.execute(
        select(StockLevel.id, StockLevel.sku_id, Sku.sku, Warehouse.code)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.warehouse_id == warehouse_id, StockLevel.sku_id.in_(list(sku_ids)))
    )
    return {row.sku_id: row for row in rows}
