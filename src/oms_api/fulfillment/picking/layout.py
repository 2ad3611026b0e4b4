"""A warehouse's layout for picking: zones, bin locations, and the bin each SKU is picked from."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.fulfillment.picking import repository
from oms_api.fulfillment.picking.models import BinLocation, SkuBin, Zone
from oms_api.fulfillment.picking.schemas import BinLocation as BinLocationOut
from oms_api.fulfillment.picking.schemas import (
    BinLocationCreate,
    BinLocationUpdate,
    SkuBinAssign,
    ZoneCreate,
    ZoneUpdate,
)
from oms_api.fulfillment.picking.schemas import SkuBin as SkuBinOut
from oms_api.fulfillment.picking.schemas import Zone as ZoneOut
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.stock import service as warehouses

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.stock.models import Warehouse

DEFAULT_CONSOLIDATION_POINT = "CONSOLIDATION"


def _restrict(result: Slice[Any], items: list[Any]) -> Slice[Any]:
    return Slice(items=items, has_more=result.has_more, next_after=result.next_after)


# --- zones -----------------------------------------------------------------------------------------------------


def _zone_view(zone: Zone, warehouse_code: str) -> ZoneOut:
    return ZoneOut(
        id=zone.id,
        warehouse=warehouse_code,
        warehouse_id=zone.warehouse_id,
        code=zone.code,
        name=zone.name,
        sequence=zone.sequence,
        version=zone.version,
        created_at=zone.created_at,
        updated_at=zone.updated_at,
    )


def _zone_snapshot(zone: Zone) -> dict[str, Any]:
    return {
        "id": str(zone.id),
        "warehouse_id": str(zone.warehouse_id),
        "code": zone.code,
        "name": zone.name,
        "sequence": zone.sequence,
        "version": zone.version,
    }


async def _zone(session: AsyncSession, warehouse: Warehouse, ref: str) -> Zone:
    zone = await repository.get_zone(session, warehouse.id, ref)
    if zone is None:
        raise NotFound(f"No zone {ref!r} in warehouse {warehouse.code!r}", code="zone_not_found")
    return zone


async def create_zone(session: AsyncSession, actor: Principal, warehouse_ref: str, data: ZoneCreate) -> ZoneOut:
    warehouse = await warehouses.get_warehouse(session, warehouse_ref)
    existing = await repository.get_zone(session, warehouse.id, data.code)
    zone = Zone(warehouse_id=warehouse.id, **data.model_dump())
    if existing is not None or not await repository.add_unique(session, zone):
        clash = existing or await repository.get_zone(session, warehouse.id, data.code)
        raise Conflict(
            f"Warehouse {warehouse.code!r} already has a zone {data.code!r}",
            code="duplicate_zone",
            existing_id=str(clash.id) if clash else None,
        )
    outbox.record(session, "zone.created", "zone", zone.id, _zone_snapshot(zone), actor=actor.actor)
    return _zone_view(zone, warehouse.code)


async def get_zone(session: AsyncSession, warehouse_ref: str, zone_ref: str) -> ZoneOut:
    warehouse = await warehouses.get_warehouse(session, warehouse_ref)
    return _zone_view(await _zone(session, warehouse, zone_ref), warehouse.code)


async def update_zone(
    session: AsyncSession, actor: Principal, warehouse_ref: str, zone_ref: str, data: ZoneUpdate, if_match: str | None
) -> ZoneOut:
    warehouse = await warehouses.get_warehouse(session, warehouse_ref)
    zone = await _zone(session, warehouse, zone_ref)
    check_if_match(if_match, zone.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(zone, k) != v}
    if changes:
        for field, value in changes.items():
            setattr(zone, field, value)
        zone.version += 1
        await session.flush()
        outbox.record(session, "zone.updated", "zone", zone.id, _zone_snapshot(zone), actor=actor.actor)
    return _zone_view(zone, warehouse.code)


async def list_zones(session: AsyncSession, warehouse_ref: str, page: PageParams) -> Slice[ZoneOut]:
    warehouse = await warehouses.get_warehouse(session, warehouse_ref)
    result = await repository.list_zones(session, warehouse.id, page)
    return _restrict(result, [_zone_view(z, warehouse.code) for z in result.items])


# --- bins ------------------------------------------------------------------------------------------------------


async def _bin_views(session: AsyncSession, bins: list[BinLocation]) -> list[BinLocationOut]:
    codes = await repository.warehouse_codes(session, [b.warehouse_id for b in bins])
    zones = await repository.get_zones(session, [b.zone_id for b in bins])
    return [
        BinLocationOut(
            id=b.id,
            warehouse=codes[b.warehouse_id],
            warehouse_id=b.warehouse_id,
            zone=zones[b.zone_id].code,
            zone_id=b.zone_id,
            code=b.code,
            aisle=b.aisle,
            position=b.position,
            level=b.level,
            active=b.active,
            version=b.version,
            created_at=b.created_at,
            updated_at=b.updated_at,
        )
        for b in bins
    ]


def _bin_snapshot(bin_: BinLocation) -> dict[str, Any]:
    return {
        "id": str(bin_.id),
        "warehouse_id": str(bin_.warehouse_id),
        "zone_id": str(bin_.zone_id),
        "code": bin_.code,
        "aisle": bin_.aisle,
        "position": bin_.position,
        "level": bin_.level,
        "active": bin_.active,
        "version": bin_.version,
    }


async def _bin(session: AsyncSession, bin_id: uuid.UUID) -> BinLocation:
    found = await repository.get_bin(session, str(bin_id))
    if found is None:
        raise NotFound(f"No bin location {bin_id}", code="bin_not_found")
    return found


async def create_bin(session: AsyncSession, actor: Principal, data: BinLocationCreate) -> BinLocationOut:
    warehouse = await warehouses.get_warehouse(session, data.warehouse)
    zone = await _zone(session, warehouse, data.zone)
    values = data.model_dump(exclude={"warehouse", "zone"})
    bin_ = BinLocation(warehouse_id=warehouse.id, zone_id=zone.id, **values)
    existing = await repository.get_bin(session, data.code, warehouse.id)
    if existing is not None or not await repository.add_unique(session, bin_):
        raise Conflict(
            f"Warehouse {warehouse.code!r} already has a bin {data.code!r}",
            code="duplicate_bin",
            existing_id=str(existing.id) if existing else None,
        )
    outbox.record(session, "bin_location.created", "bin_location", bin_.id, _bin_snapshot(bin_), actor=actor.actor)
    return (await _bin_views(session, [bin_]))[0]


async def get_bin(session: AsyncSession, bin_id: uuid.UUID) -> BinLocationOut:
    return (await _bin_views(session, [await _bin(session, bin_id)]))[0]


async def update_bin(
    session: AsyncSession, actor: Principal, bin_id: uuid.UUID, data: BinLocationUpdate, if_match: str | None
) -> BinLocationOut:
    bin_ = await _bin(session, bin_id)
    check_if_match(if_match, bin_.version)
    changes = data.model_dump(exclude_unset=True, exclude={"zone"})
    if data.zone is not None:
        warehouse = await warehouses.get_warehouse(session, str(bin_.warehouse_id))
        changes["zone_id"] = (await _zone(session, warehouse, data.zone)).id
    changes = {k: v for k, v in changes.items() if getattr(bin_, k) != v}
    if changes:
        for field, value in changes.items():
            setattr(bin_, field, value)
        bin_.version += 1
        await session.flush()
        outbox.record(session, "bin_location.updated", "bin_location", bin_.id, _bin_snapshot(bin_), actor=actor.actor)
    return (await _bin_views(session, [bin_]))[0]


async def list_bins(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse: str | None = None,
    zone_id: uuid.UUID | None = None,
    active: bool | None = None,
) -> Slice[BinLocationOut]:
    warehouse_id = None
    if warehouse is not None:
        try:
            warehouse_id = (await warehouses.get_warehouse(session, warehouse)).id
        except NotFound:  # filtering by an unknown warehouse finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    result = await repository.list_bins(session, page, warehouse_id=warehouse_id, zone_id=zone_id, active=active)
    return _restrict(result, await _bin_views(session, list(result.items)))


# --- SKU bins --------------------------------------------------------------------------------------------------


async def _sku_bin_views(session: AsyncSession, rows: list[SkuBin]) -> list[SkuBinOut]:
    skus = await repository.sku_codes(session, [r.sku_id for r in rows])
    codes = await repository.warehouse_codes(session, [r.warehouse_id for r in rows])
    bins = await repository.get_bins(session, [r.bin_id for r in rows])
    zones = await repository.get_zones(session, [b.zone_id for b in bins.values()])
    return [
        SkuBinOut(
            id=r.id,
            sku=skus[r.sku_id].sku,
            sku_id=r.sku_id,
            warehouse=codes[r.warehouse_id],
            warehouse_id=r.warehouse_id,
            bin=bins[r.bin_id].code,
            bin_id=r.bin_id,
            zone=zones[bins[r.bin_id].zone_id].code,
            created_at=r.created_at,
            updated_at=r.updated_at,
        )
        for r in rows
    ]


async def assign_sku_bin(session: AsyncSession, actor: Principal, data: SkuBinAssign) -> tuple[SkuBinOut, bool]:
    """Put the SKU's pick face in ``bin`` (replacing its previous bin there); True when newly assigned."""
    sku = await catalog.get_sku(session, data.sku)
    warehouse = await warehouses.get_warehouse(session, data.warehouse)
    bin_ = await repository.get_bin(session, data.bin, warehouse.id)
    if bin_ is None:
        raise NotFound(f"No bin {data.bin!r} in warehouse {warehouse.code!r}", code="bin_not_found")
    if not bin_.active:
        raise Conflict(f"Bin {bin_.code!r} is inactive", code="bin_inactive")
    row = await repository.get_sku_bin(session, sku.id, warehouse.id)
    created = row is None
    if row is None:
        row = SkuBin(sku_id=sku.id, warehouse_id=warehouse.id, bin_id=bin_.id)
        if not await repository.add_unique(session, row):
            raise Conflict("The SKU was assigned a bin meanwhile; retry", code="sku_bin_conflict")
    elif row.bin_id != bin_.id:
        row.bin_id = bin_.id
        row.updated_at = utcnow()
        await session.flush()
    view = (await _sku_bin_views(session, [row]))[0]
    outbox.record(session, "sku_bin.assigned", "sku_bin", row.id, _sku_bin_snapshot(view), actor=actor.actor)
    return view, created


def _sku_bin_snapshot(view: SkuBinOut) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "sku_id": str(view.sku_id),
        "sku": view.sku,
        "warehouse_id": str(view.warehouse_id),
        "bin_id": str(view.bin_id),
        "bin": view.bin,
    }


async def unassign_sku_bin(session: AsyncSession, actor: Principal, assignment_id: uuid.UUID) -> None:
    row = await repository.get_sku_bin_by_id(session, assignment_id)
    if row is None:
        raise NotFound(f"No SKU bin assignment {assignment_id}", code="sku_bin_not_found")
    view = (await _sku_bin_views(session, [row]))[0]
    await session.delete(row)
    await session.flush()
    outbox.record(session, "sku_bin.unassigned", "sku_bin", row.id, _sku_bin_snapshot(view), actor=actor.actor)


async def list_sku_bins(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse: str | None = None,
    sku: str | None = None,
    bin_id: uuid.UUID | None = None,
) -> Slice[SkuBinOut]:
    empty: Slice[SkuBinOut] = Slice(items=[], has_more=False, next_after=None)
    warehouse_id = sku_id = None
    try:
        if warehouse is not None:
            warehouse_id = (await warehouses.get_warehouse(session, warehouse)).id
        if sku is not None:
            sku_id = (await catalog.get_sku(session, sku)).id
    except NotFound:  # an unknown filter value finds nothing
        return empty
    result = await repository.list_sku_bins(session, page, warehouse_id=warehouse_id, sku_id=sku_id, bin_id=bin_id)
    return _restrict(result, await _sku_bin_views(session, list(result.items)))
