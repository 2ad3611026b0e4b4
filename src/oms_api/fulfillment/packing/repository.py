"""Every query of packing: box types, a shipment's lines with their SKUs, packages, plans and scans."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.fulfillment.models import Package, PackageItem, Shipment, ShipmentLine
from oms_api.fulfillment.packing.models import BoxType, PlannedItem
from oms_api.kit.ids import parse_uuid
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code
from oms_api.stock.models import Warehouse


async def add_unique(session: AsyncSession, row: object) -> bool:
    """Insert ``row``; False when a unique key was taken meanwhile (a concurrent create won)."""
    try:
        async with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


# --- box types -------------------------------------------------------------------------------------------------


async def get_box_type(
    session: AsyncSession, ref: str, warehouse_id: uuid.UUID | None = None, *, for_update: bool = False
) -> BoxType | None:
    """A box type by id, or by code within ``warehouse_id``."""
    if warehouse_id is None:
        as_id = parse_uuid(ref)
        if as_id is None:
            return None
        stmt = select(BoxType).where(BoxType.id == as_id)
    else:
        stmt = select(BoxType).where(BoxType.warehouse_id == warehouse_id, id_or_code(BoxType.id, BoxType.code, ref))
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def get_box_types(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, BoxType]:
    if not ids:
        return {}
    return {b.id: b for b in (await session.execute(select(BoxType).where(BoxType.id.in_(set(ids))))).scalars()}


async def active_box_types(
    session: AsyncSession, warehouse_id: uuid.UUID, *, exclude: uuid.UUID | None = None
) -> list[BoxType]:
    stmt = select(BoxType).where(BoxType.warehouse_id == warehouse_id, BoxType.active.is_(True)).order_by(BoxType.id)
    if exclude is not None:
        stmt = stmt.where(BoxType.id != exclude)
    return list((await session.execute(stmt)).scalars())


async def lock_warehouse(session: AsyncSession, warehouse_id: uuid.UUID) -> None:
    """Serialise box-type changes of one warehouse (the at-most-five rule counts rows)."""
    await session.execute(select(Warehouse.id).where(Warehouse.id == warehouse_id).with_for_update())


async def list_box_types(
    session: AsyncSession, page: PageParams, *, warehouse_id: uuid.UUID | None, active: bool | None
) -> Slice[BoxType]:
    stmt = select(BoxType).order_by(BoxType.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(BoxType.id > page.after)
    if warehouse_id is not None:
        stmt = stmt.where(BoxType.warehouse_id == warehouse_id)
    if active is not None:
        stmt = stmt.where(BoxType.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def warehouse_codes(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    rows = await session.execute(select(Warehouse.id, Warehouse.code).where(Warehouse.id.in_(set(ids))))
    return {row.id: row.code for row in rows}


# --- shipments -------------------------------------------------------------------------------------------------


async def get_shipment(session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False) -> Shipment | None:
    stmt = select(Shipment).where(Shipment.id == shipment_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def lines_with_skus(
    session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False
) -> list[tuple[ShipmentLine, Sku]]:
    stmt = (
        select(ShipmentLine, Sku)
        .join(Sku, Sku.id == ShipmentLine.sku_id)
        .where(ShipmentLine.shipment_id == shipment_id)
        .order_by(ShipmentLine.id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=ShipmentLine).execution_options(populate_existing=True)
    return [(row[0], row[1]) for row in await session.execute(stmt)]


# --- packages --------------------------------------------------------------------------------------------------


async def get_package(session: AsyncSession, package_id: uuid.UUID, *, for_update: bool = False) -> Package | None:
    stmt = select(Package).where(Package.id == package_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def packages_of(session: AsyncSession, shipment_id: uuid.UUID) -> list[Package]:
    stmt = select(Package).where(Package.shipment_id == shipment_id).order_by(Package.id)
    return list((await session.execute(stmt)).scalars())


async def planned_of(session: AsyncSession, package_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Per package: shipment line → planned units."""
    out: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    if package_ids:
        stmt = select(PlannedItem).where(PlannedItem.package_id.in_(package_ids))
        for item in (await session.execute(stmt)).scalars():
            out[item.package_id][item.shipment_line_id] = item.quantity
    return out


async def scanned_of(session: AsyncSession, package_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Per package: shipment line → units scanned in."""
    out: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    if package_ids:
        stmt = (
            select(PackageItem.package_id, PackageItem.shipment_line_id, func.sum(PackageItem.quantity))
            .where(PackageItem.package_id.in_(package_ids))
            .group_by(PackageItem.package_id, PackageItem.shipment_line_id)
        )
        for package_id, line_id, quantity in await session.execute(stmt):
            out[package_id][line_id] = int(quantity)
    return out


async def sku_codes_of_lines(session: AsyncSession, line_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not line_ids:
        return {}
    stmt = (
        select(ShipmentLine.id, Sku.sku).join(Sku, Sku.id == ShipmentLine.sku_id).where(ShipmentLine.id.in_(line_ids))
    )
    return {row[0]: row[1] for row in await session.execute(stmt)}
