"""``/v1/box-types``, box selection and packages of a shipment, and ``/v1/packages`` (scan, seal)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.fulfillment.packing import service
from oms_api.fulfillment.packing.schemas import (
    BoxSelection,
    BoxType,
    BoxTypeCreate,
    BoxTypeList,
    BoxTypeUpdate,
    Package,
    PackageList,
    PackagesCreate,
    PackagesCreated,
    ScanBody,
    ScanResult,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import SINGLE_LINE

Read = Scope.FULFILMENT_READ
Write = Scope.FULFILMENT_WRITE

# --- box types -------------------------------------------------------------------------------------------------

box_types = APIRouter(prefix="/v1/box-types", tags=["packing"], route_class=OmsRoute)


@box_types.post("", status_code=201, response_model=BoxType, responses=errors(404, 409))
async def box_types_create(
    body: BoxTypeCreate, session: Session, response: Response, principal: Principal = write_access(Write)
) -> BoxType:
    """Add a standard box to a warehouse: at most five active per warehouse (409 ``too_many_box_types``),
    all costed in one currency (409 ``box_currency_mismatch``); codes are unique per warehouse."""
    created = await service.create_box_type(session, principal, body)
    response.headers["Location"] = f"/v1/box-types/{created.id}"
    set_etag(response, created.version)
    return created


@box_types.get("", response_model=BoxTypeList)
async def box_types_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    warehouse: Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Code or id")] = None,
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Read),
) -> BoxTypeList:
    """Box types, oldest first."""
    result = await service.list_box_types(session, page, warehouse=warehouse, active=active)
    return paginate(request, response, result, BoxTypeList, BoxType)


@box_types.get("/{box_type_id}", response_model=BoxType, responses=errors(404))
async def box_types_get(
    box_type_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Read)
) -> BoxType:
    """One box type."""
    found = await service.get_box_type(session, box_type_id)
    set_etag(response, found.version)
    return found


@box_types.patch("/{box_type_id}", response_model=BoxType, responses=errors(404, 409, 412))
async def box_types_update(
    box_type_id: uuid.UUID,
    body: BoxTypeUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Write),
) -> BoxType:
    """Change a box type, or retire it with ``active: false``."""
    updated = await service.update_box_type(session, principal, box_type_id, body, if_match)
    set_etag(response, updated.version)
    return updated


# --- a shipment's boxes ----------------------------------------------------------------------------------------

shipment_packing = APIRouter(prefix="/v1/shipments/{shipment_id}", tags=["packing"], route_class=OmsRoute)


@shipment_packing.post("/box-selection", response_model=BoxSelection, responses=errors(404, 409))
async def shipments_box_selection(
    shipment_id: uuid.UUID, session: Session, principal: Principal = write_access(Write)
) -> BoxSelection:
    """Choose the cheapest set of the warehouse's boxes for the units still to pack (3-D packing with
    rotations, by size and weight): which unit goes where, the cost, and the units no box can hold.
    Nothing is stored; ``POST …/packages`` with ``from_selection`` opens the packages."""
    return await service.select_boxes(session, shipment_id)


@shipment_packing.post("/packages", status_code=201, response_model=PackagesCreated, responses=errors(404, 409))
async def shipments_packages_create(
    shipment_id: uuid.UUID, body: PackagesCreate, session: Session, principal: Principal = write_access(Write)
) -> PackagesCreated:
    """Open packages: from the box selection (each with its planned contents) or empty boxes of given types."""
    return await service.create_packages(session, principal, shipment_id, body)


@shipment_packing.get("/packages", response_model=PackageList, responses=errors(404))
async def shipments_packages_list(
    shipment_id: uuid.UUID, session: Session, _: Principal = require(Read)
) -> PackageList:
    """The shipment's packages with what was planned and what was scanned into each."""
    return PackageList(data=await service.list_packages(session, shipment_id))


# --- packages --------------------------------------------------------------------------------------------------

packages = APIRouter(prefix="/v1/packages", tags=["packing"], route_class=OmsRoute)


@packages.get("/{package_id}", response_model=Package, responses=errors(404))
async def packages_get(package_id: uuid.UUID, session: Session, _: Principal = require(Read)) -> Package:
    """One package."""
    return await service.get_package(session, package_id)


@packages.post("/{package_id}/scan", response_model=ScanResult, responses=errors(404, 409))
async def packages_scan(
    package_id: uuid.UUID, body: ScanBody, session: Session, principal: Principal = write_access(Write)
) -> ScanResult:
    """Scan a unit into the package by its barcode (pack verification).

    422 ``wrong_item`` (not in this shipment), ``extra_item`` (no unit left to pack, or beyond the
    package's plan) or ``wrong_package`` (planned for another package); nothing is recorded then.
    A planned package seals itself when complete; the last unit of the shipment seals the rest and
    the shipment becomes ``packed``.
    """
    return await service.scan(session, principal, package_id, body)


@packages.post("/{package_id}/seal", response_model=Package, responses=errors(404, 409))
async def packages_seal(package_id: uuid.UUID, session: Session, principal: Principal = write_access(Write)) -> Package:
    """Close a package by hand (409 ``package_empty`` / ``package_incomplete`` while short of its plan)."""
    return await service.seal(session, principal, package_id)


routers = [box_types, shipment_packing, packages]
