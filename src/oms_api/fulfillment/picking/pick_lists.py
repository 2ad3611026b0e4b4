"""Pick lists: generating them by single, batch, zone or wave, in walking order, and reading them."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import floor
from oms_api.fulfillment.models import Shipment
from oms_api.fulfillment.picking import domain, repository
from oms_api.fulfillment.picking.domain import ListStatus, Method
from oms_api.fulfillment.picking.models import PickList, PickListLine
from oms_api.fulfillment.picking.schemas import GeneratedPickLists as GeneratedOut
from oms_api.fulfillment.picking.schemas import PickList as PickListOut
from oms_api.fulfillment.picking.schemas import (
    PickListGenerate,
)
from oms_api.fulfillment.picking.schemas import PickListLine as PickListLineOut
from oms_api.fulfillment.picking.schemas import PickOrder as PickOrderOut
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.stock import service as warehouses

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.stock.models import Warehouse

DEFAULT_CONSOLIDATION_POINT = "CONSOLIDATION"


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
        order_statuses=floor.WORKABLE_ORDER_STATUSES,
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
            await floor.start_picking(session, actor, shipment)
    made = await views(session, lists)
    for view in made:
        outbox.record(session, "pick_list.created", "pick_list", view.id, list_snapshot(view), actor=actor.actor)
    return GeneratedOut(group_id=group_id, method=data.method.value, data=made)


# --- pick lists: views -----------------------------------------------------------------------------------------


def list_snapshot(view: PickListOut) -> dict[str, Any]:
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


async def views(session: AsyncSession, lists: list[PickList]) -> list[PickListOut]:
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


async def pick_list(session: AsyncSession, pick_list_id: uuid.UUID, *, for_update: bool = False) -> PickList:
    found = await repository.get_pick_list(session, pick_list_id, for_update=for_update)
    if found is None:
        raise NotFound(f"No pick list {pick_list_id}", code="pick_list_not_found")
    return found


async def get_pick_list(session: AsyncSession, pick_list_id: uuid.UUID) -> PickListOut:
    return (await views(session, [await pick_list(session, pick_list_id)]))[0]


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
