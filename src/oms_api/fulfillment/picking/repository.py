"""Every query of picking: layout lookups, the queue of shipments to pick, pick lists and their lines.

Generating pick lists locks the shipments it takes (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, the
database write lock on SQLite), then reads their unlisted lines in a new statement, so two pickers
generating at once get disjoint shipments; the unique ``pick_list_lines.shipment_line_id`` is the
last line of defence.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.fulfillment.models import Shipment, ShipmentLine
from oms_api.fulfillment.picking.models import BinLocation, PickList, PickListLine, SkuBin, Zone
from oms_api.kit.ids import parse_uuid
from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code
from oms_api.orders.models import Order
from oms_api.stock.models import Warehouse

PICKABLE_STATUSES = ("pending", "picking")


async def add_unique(session: AsyncSession, row: object) -> bool:
    """Insert ``row``; False when a unique key was taken meanwhile (a concurrent create won)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


# --- zones -----------------------------------------------------------------------------------------------------


async def get_zone(session: AsyncSession, warehouse_id: uuid.UUID, ref: str) -> Zone | None:
    stmt = select(Zone).where(Zone.warehouse_id == warehouse_id, id_or_code(Zone.id, Zone.code, ref))
    return (await session.execute(stmt)).scalars().first()


async def get_zones(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Zone]:
    if not ids:
        return {}
    return {z.id: z for z in (await session.execute(select(Zone).where(Zone.id.in_(set(ids))))).scalars()}


async def list_zones(session: AsyncSession, warehouse_id: uuid.UUID, page: PageParams) -> Slice[Zone]:
    stmt = select(Zone).where(Zone.warehouse_id == warehouse_id).order_by(Zone.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Zone.id > page.after)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


# --- bins ------------------------------------------------------------------------------------------------------


async def get_bin(session: AsyncSession, ref: str, warehouse_id: uuid.UUID | None = None) -> BinLocation | None:
    """A bin by id, or by code within ``warehouse_id``."""
    if warehouse_id is None:
        as_id = parse_uuid(ref)
        if as_id is None:
            return None
        stmt = select(BinLocation).where(BinLocation.id == as_id)
    else:
        stmt = select(BinLocation).where(
            BinLocation.warehouse_id == warehouse_id, id_or_code(BinLocation.id, BinLocation.code, ref)
        )
    return (await session.execute(stmt)).scalars().first()


async def get_bins(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BinLocation]:
    if not ids:
        return {}
    rows = (await session.execute(select(BinLocation).where(BinLocation.id.in_(set(ids))))).scalars()
    return {b.id: b for b in rows}


async def list_bins(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse_id: uuid.UUID | None,
    zone_id: uuid.UUID | None,
    active: bool | None,
) -> Slice[BinLocation]:
    stmt = select(BinLocation).order_by(BinLocation.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(BinLocation.id > page.after)
    if warehouse_id is not None:
        stmt = stmt.where(BinLocation.warehouse_id == warehouse_id)
    if zone_id is not None:
        stmt = stmt.where(BinLocation.zone_id == zone_id)
    if active is not None:
        stmt = stmt.where(BinLocation.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def bin_in_use(session: AsyncSession, bin_id: uuid.UUID) -> bool:
    return bool((await session.execute(select(exists().where(SkuBin.bin_id == bin_id)))).scalar())


# --- SKU bins --------------------------------------------------------------------------------------------------


async def get_sku_bin(session: AsyncSession, sku_id: uuid.UUID, warehouse_id: uuid.UUID) -> SkuBin | None:
    stmt = select(SkuBin).where(SkuBin.sku_id == sku_id, SkuBin.warehouse_id == warehouse_id)
    return (await session.execute(stmt.with_for_update().execution_options(populate_existing=True))).scalars().first()


async def get_sku_bin_by_id(session: AsyncSession, assignment_id: uuid.UUID) -> SkuBin | None:
    return await session.get(SkuBin, assignment_id)


async def list_sku_bins(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse_id: uuid.UUID | None,
    sku_id: uuid.UUID | None,
    bin_id: uuid.UUID | None,
) -> Slice[SkuBin]:
    stmt = select(SkuBin).order_by(SkuBin.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(SkuBin.id > page.after)
    if warehouse_id is not None:
        stmt = stmt.where(SkuBin.warehouse_id == warehouse_id)
    if sku_id is not None:
        stmt = stmt.where(SkuBin.sku_id == sku_id)
    if bin_id is not None:
        stmt = stmt.where(SkuBin.bin_id == bin_id)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def sku_codes(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Sku]:
    if not ids:
        return {}
    return {s.id: s for s in (await session.execute(select(Sku).where(Sku.id.in_(set(ids))))).scalars()}


async def warehouse_codes(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_(set(ids))))
    return {row.id: row.code for row in rows}


# --- the pick queue --------------------------------------------------------------------------------------------


def _unlisted_open_line() -> Any:
    """A shipment line with units still to pick that no pick list has taken yet."""
    return and_(
        ShipmentLine.quantity - ShipmentLine.picked_quantity - ShipmentLine.short_quantity > 0,
        ~exists().where(PickListLine.shipment_line_id == ShipmentLine.id),
    )


async def lock_pickable_shipments(
    session: AsyncSession,
    warehouse_id: uuid.UUID,
    *,
    limit: int,
    order_statuses: Sequence[str],
    shipment_id: uuid.UUID | None = None,
    released_from: datetime | None = None,
    released_before: datetime | None = None,
) -> list[Shipment]:
    """The oldest shipments of the warehouse waiting to be picked (of orders in ``order_statuses``: not
    held or cancelled), locked for this transaction; shipments another generation holds are skipped."""
    has_work = exists().where(ShipmentLine.shipment_id == Shipment.id, _unlisted_open_line())
    stmt = (
        select(Shipment)
        .join(Order, Order.id == Shipment.order_id)
        .where(
            Shipment.warehouse_id == warehouse_id,
            Shipment.status.in_(PICKABLE_STATUSES),
            Order.status.in_(order_statuses),
            has_work,
        )
        .order_by(Shipment.created_at, Shipment.id)
        .limit(limit)
        .with_for_update(of=Shipment, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    if shipment_id is not None:
        stmt = stmt.where(Shipment.id == shipment_id)
    if released_from is not None:
        stmt = stmt.where(Shipment.created_at >= released_from)
    if released_before is not None:
        stmt = stmt.where(Shipment.created_at < released_before)
    return list((await session.execute(stmt)).scalars())


async def requests_of(session: AsyncSession, shipment_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID) -> list[Any]:
    """Unlisted open lines of ``shipment_ids`` with their SKU and, when assigned, their bin and zone."""
    if not shipment_ids:
        return []
    stmt = (
        select(
            ShipmentLine.id.label("shipment_line_id"),
            ShipmentLine.shipment_id,
            ShipmentLine.sku_id,
            (ShipmentLine.quantity - ShipmentLine.picked_quantity - ShipmentLine.short_quantity).label("quantity"),
            Sku.sku,
            BinLocation.id.label("bin_id"),
            BinLocation.code.label("bin_code"),
            BinLocation.aisle,
            BinLocation.position,
            BinLocation.level,
            Zone.id.label("zone_id"),
            Zone.code.label("zone_code"),
            Zone.sequence.label("zone_sequence"),
        )
        .join(Sku, Sku.id == ShipmentLine.sku_id)
        .outerjoin(SkuBin, and_(SkuBin.sku_id == ShipmentLine.sku_id, SkuBin.warehouse_id == warehouse_id))
        .outerjoin(BinLocation, BinLocation.id == SkuBin.bin_id)
        .outerjoin(Zone, Zone.id == BinLocation.zone_id)
        .where(ShipmentLine.shipment_id.in_(shipment_ids), _unlisted_open_line())
        .order_by(ShipmentLine.id)
    )
    return list(await session.execute(stmt))


# --- pick lists ------------------------------------------------------------------------------------------------


async def get_pick_list(session: AsyncSession, pick_list_id: uuid.UUID, *, for_update: bool = False) -> PickList | None:
    stmt = select(PickList).where(PickList.id == pick_list_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def get_line(
    session: AsyncSession, pick_list_id: uuid.UUID, line_id: uuid.UUID, *, for_update: bool = False
) -> PickListLine | None:
    stmt = select(PickListLine).where(PickListLine.id == line_id, PickListLine.pick_list_id == pick_list_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def line_rows(session: AsyncSession, pick_list_ids: Sequence[uuid.UUID]) -> list[Any]:
    """The lines of the lists, in walking order, with what a picker sees (SKU, barcode, bin, zone, order)."""
    if not pick_list_ids:
        return []
    stmt = (
        select(
            PickListLine,
            Shipment.order_id,
            Sku.sku,
            Sku.name,
            Sku.barcode,
            BinLocation.code.label("bin_code"),
            BinLocation.aisle,
            Zone.code.label("zone_code"),
        )
        .join(Shipment, Shipment.id == PickListLine.shipment_id)
        .join(Sku, Sku.id == PickListLine.sku_id)
        .outerjoin(BinLocation, BinLocation.id == PickListLine.bin_id)
        .outerjoin(Zone, Zone.id == BinLocation.zone_id)
        .where(PickListLine.pick_list_id.in_(pick_list_ids))
        .order_by(PickListLine.pick_list_id, PickListLine.sequence)
    )
    return list(await session.execute(stmt))


async def statuses_of(session: AsyncSession, pick_list_id: uuid.UUID) -> list[str]:
    stmt = select(PickListLine.status).where(PickListLine.pick_list_id == pick_list_id)
    return list((await session.execute(stmt)).scalars())


async def progress(session: AsyncSession, shipment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Per shipment, over every pick list: (lines, lines confirmed)."""
    if not shipment_ids:
        return {}
    stmt = (
        select(
            PickListLine.shipment_id,
            func.count(),
            func.sum(case((PickListLine.status != "open", 1), else_=0)),
        )
        .where(PickListLine.shipment_id.in_(set(shipment_ids)))
        .group_by(PickListLine.shipment_id)
    )
    return {row[0]: (int(row[1]), int(row[2] or 0)) for row in await session.execute(stmt)}


async def shipment_lines(session: AsyncSession, shipment_id: uuid.UUID) -> list[ShipmentLine]:
    stmt = select(ShipmentLine).where(ShipmentLine.shipment_id == shipment_id).order_by(ShipmentLine.id)
    return list((await session.execute(stmt)).scalars())


async def get_shipment(session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False) -> Shipment | None:
    stmt = select(Shipment).where(Shipment.id == shipment_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def get_shipment_line(
    session: AsyncSession, line_id: uuid.UUID, *, for_update: bool = False
) -> ShipmentLine | None:
    stmt = select(ShipmentLine).where(ShipmentLine.id == line_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def list_pick_lists(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse_id: uuid.UUID | None,
    status: str | None,
    method: str | None,
    group_id: uuid.UUID | None,
) -> Slice[PickList]:
    """A page of pick lists, oldest first: a range of the index of the most selective filter given
    (``kit.keyset``)."""
    stmt = filtered_page(
        select(PickList),
        PickList.id,
        page.after,
        [
            (PickList.group_id, group_id),
            (PickList.warehouse_id, warehouse_id),
            (PickList.status, status),
            (PickList.method, method),
        ],
        [(PickList.group_id,), (PickList.warehouse_id,), (PickList.status,), (PickList.method,)],
    ).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)
