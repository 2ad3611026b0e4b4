"""``/v1/warehouses/{warehouse}/zones``, ``/v1/bin-locations``, ``/v1/sku-bins`` and ``/v1/pick-lists``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.fulfillment.picking import service
from oms_api.fulfillment.picking.domain import ListStatus, Method
from oms_api.fulfillment.picking.schemas import (
    BinLocation,
    BinLocationCreate,
    BinLocationList,
    BinLocationUpdate,
    GeneratedPickLists,
    PickConfirm,
    PickList,
    PickListGenerate,
    PickListPage,
    PickListSummary,
    SkuBin,
    SkuBinAssign,
    SkuBinList,
    Zone,
    ZoneCreate,
    ZoneList,
    ZoneUpdate,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import SINGLE_LINE

WarehouseRef = Annotated[str, Path(max_length=64, pattern=SINGLE_LINE, description="The warehouse's code or its id")]
ZoneRef = Annotated[str, Path(max_length=64, pattern=SINGLE_LINE, description="The zone's code or its id")]
Read = Scope.FULFILMENT_READ
Write = Scope.FULFILMENT_WRITE


# --- zones -----------------------------------------------------------------------------------------------------

zones = APIRouter(prefix="/v1/warehouses/{warehouse}/zones", tags=["picking"], route_class=OmsRoute)


@zones.post("", status_code=201, response_model=Zone, responses=errors(404, 409))
async def zones_create(
    warehouse: WarehouseRef,
    body: ZoneCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Write),
) -> Zone:
    """Create a zone of the warehouse (a picker's area). Codes are unique per warehouse (409 ``duplicate_zone``)."""
    zone = await service.create_zone(session, principal, warehouse, body)
    response.headers["Location"] = f"/v1/warehouses/{zone.warehouse_id}/zones/{zone.id}"
    set_etag(response, zone.version)
    return zone


@zones.get("", response_model=ZoneList, responses=errors(404))
async def zones_list(
    warehouse: WarehouseRef,
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    _: Principal = require(Read),
) -> ZoneList:
    """The warehouse's zones, oldest first."""
    result = await service.list_zones(session, warehouse, page)
    return paginate(request, response, result, ZoneList, Zone)


@zones.get("/{zone}", response_model=Zone, responses=errors(404))
async def zones_get(
    warehouse: WarehouseRef, zone: ZoneRef, session: Session, response: Response, _: Principal = require(Read)
) -> Zone:
    """One zone, by code or id."""
    found = await service.get_zone(session, warehouse, zone)
    set_etag(response, found.version)
    return found


@zones.patch("/{zone}", response_model=Zone, responses=errors(404, 412))
async def zones_update(
    warehouse: WarehouseRef,
    zone: ZoneRef,
    body: ZoneUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Write),
) -> Zone:
    """Rename a zone or change its place in the walking order."""
    updated = await service.update_zone(session, principal, warehouse, zone, body, if_match)
    set_etag(response, updated.version)
    return updated


# --- bins ------------------------------------------------------------------------------------------------------

bins = APIRouter(prefix="/v1/bin-locations", tags=["picking"], route_class=OmsRoute)


@bins.post("", status_code=201, response_model=BinLocation, responses=errors(404, 409))
async def bin_locations_create(
    body: BinLocationCreate, session: Session, response: Response, principal: Principal = write_access(Write)
) -> BinLocation:
    """Create a bin location in a zone. Codes are unique per warehouse (409 ``duplicate_bin``)."""
    created = await service.create_bin(session, principal, body)
    response.headers["Location"] = f"/v1/bin-locations/{created.id}"
    set_etag(response, created.version)
    return created


@bins.get("", response_model=BinLocationList)
async def bin_locations_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    warehouse: Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Code or id")] = None,
    zone_id: Annotated[uuid.UUID | None, Query()] = None,
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Read),
) -> BinLocationList:
    """Bin locations, oldest first."""
    result = await service.list_bins(session, page, warehouse=warehouse, zone_id=zone_id, active=active)
    return paginate(request, response, result, BinLocationList, BinLocation)


@bins.get("/{bin_id}", response_model=BinLocation, responses=errors(404))
async def bin_locations_get(
    bin_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Read)
) -> BinLocation:
    """One bin location."""
    found = await service.get_bin(session, bin_id)
    set_etag(response, found.version)
    return found


@bins.patch("/{bin_id}", response_model=BinLocation, responses=errors(404, 412))
async def bin_locations_update(
    bin_id: uuid.UUID,
    body: BinLocationUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Write),
) -> BinLocation:
    """Move a bin to another zone, renumber it, or retire it (``active: false``)."""
    updated = await service.update_bin(session, principal, bin_id, body, if_match)
    set_etag(response, updated.version)
    return updated


# --- SKU bins --------------------------------------------------------------------------------------------------

sku_bins = APIRouter(prefix="/v1/sku-bins", tags=["picking"], route_class=OmsRoute)


@sku_bins.post(
    "",
    status_code=201,
    response_model=SkuBin,
    responses={200: {"model": SkuBin, "description": "The SKU moved to this bin"}, **errors(404, 409)},
)
async def sku_bins_assign(
    body: SkuBinAssign, session: Session, response: Response, principal: Principal = write_access(Write)
) -> SkuBin:
    """Give a SKU its pick bin in a warehouse (one per warehouse): 201 when new, 200 when it moved."""
    assigned, created = await service.assign_sku_bin(session, principal, body)
    response.status_code = 201 if created else 200
    response.headers["Location"] = f"/v1/sku-bins/{assigned.id}"
    return assigned


@sku_bins.get("", response_model=SkuBinList)
async def sku_bins_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    warehouse: Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Code or id")] = None,
    sku: Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Code or id")] = None,
    bin_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Read),
) -> SkuBinList:
    """SKU bin assignments, oldest first."""
    result = await service.list_sku_bins(session, page, warehouse=warehouse, sku=sku, bin_id=bin_id)
    return paginate(request, response, result, SkuBinList, SkuBin)


@sku_bins.delete("/{assignment_id}", status_code=204, response_class=Response, responses=errors(404))
async def sku_bins_delete(
    assignment_id: uuid.UUID, session: Session, principal: Principal = write_access(Write)
) -> Response:
    """Remove a SKU's bin assignment (its lines are then picked last, from no bin)."""
    await service.unassign_sku_bin(session, principal, assignment_id)
    return Response(status_code=204)


# --- pick lists ------------------------------------------------------------------------------------------------

pick_lists = APIRouter(prefix="/v1/pick-lists", tags=["picking"], route_class=OmsRoute)


@pick_lists.post("", status_code=201, response_model=GeneratedPickLists, responses=errors(404, 409))
async def pick_lists_create(
    body: PickListGenerate, session: Session, principal: Principal = write_access(Write)
) -> GeneratedPickLists:
    """Generate pick lists for a warehouse's waiting shipments (``pending``/``picking``, oldest first).

    ``single``: one shipment; ``batch``: up to ``max_orders`` shipments on one list, one tote each;
    ``zone``: up to ``max_orders`` shipments, one list per zone; ``wave``: every shipment released in
    ``window``, one list per zone, all into ``consolidation_point``. Lines come in walking order.
    409 ``nothing_to_pick`` when no shipment waits.
    """
    return await service.generate(session, principal, body)


@pick_lists.get("", response_model=PickListPage)
async def pick_lists_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    warehouse: Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Code or id")] = None,
    status: Annotated[ListStatus | None, Query()] = None,
    method: Annotated[Method | None, Query()] = None,
    group_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Read),
) -> PickListPage:
    """Pick lists, oldest first (without their lines)."""
    result = await service.list_pick_lists(
        session,
        page,
        warehouse=warehouse,
        status=status.value if status else None,
        method=method.value if method else None,
        group_id=group_id,
    )
    return paginate(request, response, result, PickListPage, PickListSummary)


@pick_lists.get("/{pick_list_id}", response_model=PickList, responses=errors(404))
async def pick_lists_get(
    pick_list_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Read)
) -> PickList:
    """One pick list with its lines in walking order and the progress of each of its orders."""
    found = await service.get_pick_list(session, pick_list_id)
    set_etag(response, found.version)
    return found


@pick_lists.post("/{pick_list_id}/lines/{line_id}/confirm", response_model=PickList, responses=errors(404, 409))
async def pick_lists_confirm_line(
    pick_list_id: uuid.UUID,
    line_id: uuid.UUID,
    body: PickConfirm,
    request: Request,
    session: Session,
    response: Response,
    principal: Principal = write_access(Write),
) -> PickList:
    """Confirm a line with the scanned barcode and the units taken.

    A barcode that is not the line's SKU is refused (422 ``wrong_barcode``) and nothing is recorded.
    Fewer units than asked is a short pick: the shortfall is recorded on the shipment line and
    ``shipment.short_picked`` asks for the missing units to be re-allocated elsewhere.
    """
    updated = await service.confirm_line(session, principal, pick_list_id, line_id, body, request.app.state.settings)
    set_etag(response, updated.version)
    return updated


routers = [zones, bins, sku_bins, pick_lists]
