"""Picking use cases: warehouse layout (zones, bins, SKU bins), generating pick lists, confirming picks."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.fulfillment.models import Shipment
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.picking import domain, repository, shipment_steps
from oms_api.picking.domain import ListStatus, Method
from oms_api.picking.models import BinLocation, PickList, PickListLine, SkuBin, Zone
from oms_api.picking.schemas import BinLocation as BinLocationOut
from oms_api.picking.schemas import (
    BinLocationCreate,
    BinLocationUpdate,
    PickConfirm,
    PickListGenerate,
    SkuBinAssign,
    ZoneCreate,
    ZoneUpdate,
)
from oms_api.picking.schemas import GeneratedPickLists as GeneratedOut
from oms_api.picking.schemas import PickList as PickListOut
from oms_api.picking.schemas import PickListLine as PickListLineOut
from oms_api.picking.schemas import PickOrder as PickOrderOut
from oms_api.picking.schemas import SkuBin as SkuBinOut
from oms_api.picking.schemas import Zone as ZoneOut
from oms_api.stock import warehouses
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


# --- pick lists: generation ------------------------------------------------------------------------------------


def _queue(shipments: list[Shipment], rows: list[Any]) -> list[domain.ShipmentToPick]:
    by_shipment: dict[uuid.UUID, list[domain.PickRequest]] = defaultdict(list)
    for row in rows:
        spot = None
        if row.bin_id is not None:
            spot = domain.Spot(
                zone_id=row.zone_id,
                zone_code=row.zone_code,
                zone_sequence=row.zone_sequence,
                aisle=row.aisle,
                position=row.position,
                level=row.level,
                bin_code=row.bin_code,
                bin_id=row.bin_id,
            )
        by_shipment[row.shipment_id].append(
            domain.PickRequest(row.shipment_id, row.shipment_line_id, row.sku_id, row.sku, int(row.quantity), spot)
        )
    return [domain.ShipmentToPick(s.id, s.created_at, tuple(by_shipment.get(s.id, ()))) for s in shipments]


async def _explain_single(session: AsyncSession, shipment_id: uuid.UUID, warehouse: Warehouse) -> None:
    shipment = await repository.get_shipment(session, shipment_id)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}", code="shipment_not_found")
    if shipment.warehouse_id != warehouse.id:
        raise Conflict(f"Shipment {shipment_id} ships from another warehouse", code="shipment_in_other_warehouse")
    raise Conflict(
        f"Shipment {shipment_id} has nothing left to pick (status {shipment.status})",
        code="nothing_to_pick",
        shipment_status=shipment.status,
    )


async def generate(session: AsyncSession, actor: Principal, data: PickListGenerate) -> GeneratedOut:
    """Pick lists for the warehouse's waiting shipments by ``data.method`` (409 ``nothing_to_pick``)."""
    warehouse = await warehouses.get_warehouse(session, data.warehouse)
    now = utcnow()
    window_start: datetime | None = None
    window_end: datetime | None = None
    limit = data.max_orders
    if data.method is Method.SINGLE:
        limit = 1
    elif data.method is Method.WAVE:
        limit = domain.MAX_WAVE_ORDERS
        window_start = data.window.start if data.window else None
        window_end = (data.window.end if data.window else None) or now
    shipments = await repository.lock_pickable_shipments(
        session,
        warehouse.id,
        limit=limit,
        order_statuses=shipment_steps.WORKABLE_ORDER_STATUSES,
        shipment_id=data.shipment,
        released_from=window_start,
        released_before=window_end,
    )
    queue = _queue(shipments, await repository.requests_of(session, [s.id for s in shipments], warehouse.id))
    chosen = domain.choose_shipments(data.method, queue, data.max_orders)
    planned = domain.plan_lists(data.method, chosen)
    if not planned:
        if data.shipment is not None:
            await _explain_single(session, data.shipment, warehouse)
        raise Conflict(f"No shipment waits to be picked in warehouse {warehouse.code!r}", code="nothing_to_pick")
    group_id = uuid7()
    consolidation = (data.consolidation_point or DEFAULT_CONSOLIDATION_POINT) if data.method is Method.WAVE else None
    lists: list[PickList] = []
    for plan in planned:
        pick_list = PickList(
            id=uuid7(),
            warehouse_id=warehouse.id,
            method=data.method.value,
            status=ListStatus.OPEN.value,
            group_id=group_id,
            zone_id=plan.zone_id,
            consolidation_point=consolidation,
            window_start=window_start,
            window_end=window_end,
        )
        session.add(pick_list)
        session.add_all(
            PickListLine(
                pick_list_id=pick_list.id,
                sequence=line.sequence,
                tote=line.tote,
                shipment_id=line.request.shipment_id,
                shipment_line_id=line.request.shipment_line_id,
                sku_id=line.request.sku_id,
                bin_id=line.request.spot.bin_id if line.request.spot else None,
                quantity=line.request.quantity,
            )
            for line in plan.lines
        )
        lists.append(pick_list)
    await session.flush()
    taken = {s.shipment_id for s in chosen}
    for shipment in shipments:
        if shipment.id in taken:
            await shipment_steps.start_picking(session, actor, shipment)
    views = await _views(session, lists)
    for view in views:
        outbox.record(session, "pick_list.created", "pick_list", view.id, _list_snapshot(view), actor=actor.actor)
    return GeneratedOut(group_id=group_id, method=data.method.value, data=views)


# --- pick lists: views -----------------------------------------------------------------------------------------


def _list_snapshot(view: PickListOut) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "warehouse_id": str(view.warehouse_id),
        "method": view.method,
        "status": view.status,
        "group_id": str(view.group_id),
        "zone": view.zone,
        "consolidation_point": view.consolidation_point,
        "shipment_ids": [str(o.shipment_id) for o in view.orders],
        "lines": len(view.lines),
        "version": view.version,
    }


async def _views(session: AsyncSession, lists: list[PickList]) -> list[PickListOut]:
    rows = await repository.line_rows(session, [p.id for p in lists])
    by_list: dict[uuid.UUID, list[PickListLineOut]] = defaultdict(list)
    for row in rows:
        line: PickListLine = row[0]
        by_list[line.pick_list_id].append(
            PickListLineOut(
                id=line.id,
                sequence=line.sequence,
                tote=line.tote,
                shipment_id=line.shipment_id,
                order_id=row.order_id,
                shipment_line_id=line.shipment_line_id,
                sku=row.sku,
                sku_id=line.sku_id,
                name=row.name,
                barcode=row.barcode,
                bin=row.bin_code,
                bin_id=line.bin_id,
                zone=row.zone_code,
                aisle=row.aisle,
                quantity=line.quantity,
                picked_quantity=line.picked_quantity,
                short_quantity=line.short_quantity,
                status=line.status,
                confirmed_at=line.confirmed_at,
            )
        )
    progress = await repository.progress(session, [line.shipment_id for lines in by_list.values() for line in lines])
    codes = await repository.warehouse_codes(session, [p.warehouse_id for p in lists])
    zones = await repository.get_zones(session, [p.zone_id for p in lists if p.zone_id is not None])
    views = []
    for pick_list in lists:
        lines = by_list[pick_list.id]
        orders: dict[uuid.UUID, PickOrderOut] = {}
        for out in sorted(lines, key=lambda item: item.tote):
            if out.shipment_id not in orders:
                total, confirmed = progress.get(out.shipment_id, (0, 0))
                orders[out.shipment_id] = PickOrderOut(
                    tote=out.tote,
                    shipment_id=out.shipment_id,
                    order_id=out.order_id,
                    lines=total,
                    confirmed=confirmed,
                    complete=total > 0 and confirmed == total,
                )
        views.append(
            PickListOut(
                id=pick_list.id,
                warehouse=codes[pick_list.warehouse_id],
                warehouse_id=pick_list.warehouse_id,
                method=pick_list.method,
                status=pick_list.status,
                group_id=pick_list.group_id,
                zone=zones[pick_list.zone_id].code if pick_list.zone_id in zones else None,
                zone_id=pick_list.zone_id,
                consolidation_point=pick_list.consolidation_point,
                window_start=pick_list.window_start,
                window_end=pick_list.window_end,
                orders=list(orders.values()),
                lines=lines,
                version=pick_list.version,
                created_at=pick_list.created_at,
                updated_at=pick_list.updated_at,
                completed_at=pick_list.completed_at,
            )
        )
    return views


async def _pick_list(session: AsyncSession, pick_list_id: uuid.UUID, *, for_update: bool = False) -> PickList:
    found = await repository.get_pick_list(session, pick_list_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No pick list {pick_list_id}", code="pick_list_not_found")
    return found


async def get_pick_list(session: AsyncSession, pick_list_id: uuid.UUID) -> PickListOut:
    return (await _views(session, [await _pick_list(session, pick_list_id)]))[0]


async def list_pick_lists(
    session: AsyncSession,
    page: PageParams,
    *,
    warehouse: str | None = None,
    status: str | None = None,
    method: str | None = None,
    group_id: uuid.UUID | None = None,
) -> Slice[PickList]:
    warehouse_id = None
    if warehouse is not None:
        try:
            warehouse_id = (await warehouses.get_warehouse(session, warehouse)).id
        except NotFound:
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_pick_lists(
        session, page, warehouse_id=warehouse_id, status=status, method=method, group_id=group_id
    )


# --- pick lists: confirming ------------------------------------------------------------------------------------


async def confirm_line(
    session: AsyncSession, actor: Principal, pick_list_id: uuid.UUID, line_id: uuid.UUID, data: PickConfirm
) -> PickListOut:
    """Confirm a line by scanning: a wrong barcode is refused (422) and records nothing; fewer units than
    asked is a short pick, recorded on the shipment line and handed to re-allocation."""
    pick_list = await _pick_list(session, pick_list_id, for_update=True)
    line = await repository.get_line(session, pick_list_id, line_id, for_update=True)
    if line is None:
        raise NotFound(f"No line {line_id} on pick list {pick_list_id}", code="pick_list_line_not_found")
    if line.status != domain.LineStatus.OPEN:
        raise Conflict("This line is already confirmed", code="pick_line_already_confirmed", line_status=line.status)
    sku = await catalog.get_sku(session, str(line.sku_id))
    if not domain.barcode_matches(data.barcode, sku.barcode, sku.sku):
        raise Unprocessable(
            f"The scanned barcode is not SKU {sku.sku!r}; nothing was recorded", code="wrong_barcode", sku=sku.sku
        )
    try:
        confirmation = domain.confirm(line.quantity, data.quantity)
    except domain.OverPick as exc:
        raise Unprocessable(str(exc), code="over_pick", requested=line.quantity) from exc
    shipment = await shipment_steps.lock_workable(session, line.shipment_id)
    if shipment.status not in repository.PICKABLE_STATUSES:
        raise Conflict(
            f"The shipment is {shipment.status}; its picks can no longer be confirmed",
            code="shipment_not_pickable",
            shipment_status=shipment.status,
        )
    shipment_line = await repository.get_shipment_line(session, line.shipment_line_id, for_update=True)
    assert shipment_line is not None  # foreign key
    shipment_line.picked_quantity += confirmation.picked
    shipment_line.short_quantity += confirmation.short
    line.picked_quantity = confirmation.picked
    line.short_quantity = confirmation.short
    line.status = confirmation.status.value
    line.confirmed_at = utcnow()
    await session.flush()
    new_status = domain.list_status(await repository.statuses_of(session, pick_list.id))
    completed = new_status is ListStatus.COMPLETED and pick_list.status != ListStatus.COMPLETED
    pick_list.status = new_status.value
    pick_list.version += 1
    if completed:
        pick_list.completed_at = utcnow()
    await session.flush()
    outbox.record(
        session,
        "pick_list.line_confirmed",
        "pick_list",
        pick_list.id,
        {
            "pick_list_id": str(pick_list.id),
            "line_id": str(line.id),
            "shipment_id": str(line.shipment_id),
            "shipment_line_id": str(line.shipment_line_id),
            "sku": sku.sku,
            "quantity": line.quantity,
            "picked_quantity": line.picked_quantity,
            "short_quantity": line.short_quantity,
            "status": line.status,
        },
        actor=actor.actor,
    )
    if confirmation.short:
        await _short_picked(session, actor, shipment, shipment_line.order_line_id, line, sku.sku)
    await _maybe_picked(session, actor, shipment)
    view = (await _views(session, [pick_list]))[0]
    if completed:
        outbox.record(session, "pick_list.completed", "pick_list", view.id, _list_snapshot(view), actor=actor.actor)
    return view


async def _short_picked(
    session: AsyncSession, actor: Principal, shipment: Shipment, order_line_id: uuid.UUID, line: PickListLine, sku: str
) -> None:
    """Re-allocate the missing units to another warehouse (with the shipment that carries them), and
    record ``shipment.short_picked`` saying whether that worked; if not, the shortfall waits for a person."""
    outcome = await shipment_steps.reallocate_short(session, actor, shipment, order_line_id, line.short_quantity)
    outbox.record(
        session,
        "shipment.short_picked",
        "shipment",
        shipment.id,
        {
            "shipment_id": str(shipment.id),
            "order_id": str(shipment.order_id),
            "warehouse_id": str(shipment.warehouse_id),
            "shipment_line_id": str(line.shipment_line_id),
            "order_line_id": str(order_line_id),
            "sku_id": str(line.sku_id),
            "sku": sku,
            "short_quantity": line.short_quantity,
            "pick_list_id": str(line.pick_list_id),
            "reallocated": outcome.done,
            "new_shipment_ids": outcome.shipment_ids,
            "not_reallocated_because": outcome.reason,
        },
        actor=actor.actor,
        reason="short_pick",
    )


async def _maybe_picked(session: AsyncSession, actor: Principal, shipment: Shipment) -> None:
    lines = await repository.shipment_lines(session, shipment.id)
    if not lines or any(sl.picked_quantity + sl.short_quantity < sl.quantity for sl in lines):
        return
    outbox.record(
        session,
        "shipment.picked",
        "shipment",
        shipment.id,
        {
            "shipment_id": str(shipment.id),
            "order_id": str(shipment.order_id),
            "warehouse_id": str(shipment.warehouse_id),
            "picked_units": sum(sl.picked_quantity for sl in lines),
            "short_units": sum(sl.short_quantity for sl in lines),
        },
        actor=actor.actor,
    )
