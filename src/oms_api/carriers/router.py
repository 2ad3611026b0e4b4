"""``/v1/carriers``: carriers with services and rate tables; ``/v1/rate-quotes``: price parcels with them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.carriers import service
from oms_api.carriers.schemas import (
    Carrier,
    CarrierCreate,
    CarrierList,
    CarrierServiceOut,
    CarrierUpdate,
    RateQuoteRequest,
    RateQuoteResult,
    ServiceCreate,
    ServiceUpdate,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.route_marks import BULK_BODY
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["carriers"], route_class=OmsRoute)

CarrierRef = Annotated[str, Path(max_length=64, description="The carrier's code or id")]
ServiceRef = Annotated[str, Path(max_length=64, description="The service's code or id")]


@router.post("/v1/carriers", status_code=201, response_model=Carrier, responses=errors(409), openapi_extra=BULK_BODY)
async def carriers_create(
    body: CarrierCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Carrier:
    """Create a carrier, optionally with its services and their rate tables (409 ``duplicate_carrier``)."""
    carrier = await service.create_carrier(session, principal, body)
    response.headers["Location"] = f"/v1/carriers/{carrier.id}"
    set_etag(response, carrier.version)
    return carrier


@router.get("/v1/carriers", response_model=CarrierList)
async def carriers_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Scope.FULFILMENT_READ),
) -> CarrierList:
    """List carriers with their services, oldest first."""
    result = await service.list_carriers(session, page, active=active)
    return paginate(request, response, result, CarrierList, Carrier)


@router.get("/v1/carriers/{carrier}", response_model=Carrier, responses=errors(404))
async def carriers_get(
    carrier: CarrierRef, session: Session, response: Response, _: Principal = require(Scope.FULFILMENT_READ)
) -> Carrier:
    """One carrier with its services and rate tables."""
    found = await service.get_carrier(session, carrier)
    set_etag(response, found.version)
    return found


@router.patch("/v1/carriers/{carrier}", response_model=Carrier, responses=errors(404, 412), openapi_extra=BULK_BODY)
async def carriers_update(
    carrier: CarrierRef,
    body: CarrierUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Carrier:
    """Rename or (de)activate a carrier; an inactive carrier offers no rates."""
    updated = await service.update_carrier(session, principal, carrier, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post(
    "/v1/carriers/{carrier}/services",
    status_code=201,
    response_model=CarrierServiceOut,
    responses=errors(404, 409),
    openapi_extra=BULK_BODY,
)
async def carrier_services_create(
    carrier: CarrierRef,
    body: ServiceCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> CarrierServiceOut:
    """Add a service (standard, express…) with its rate table, cut-off time and pickup days."""
    created = await service.create_service(session, principal, carrier, body)
    response.headers["Location"] = f"/v1/carriers/{created.carrier}/services/{created.code}"
    set_etag(response, created.version)
    return created


@router.get("/v1/carriers/{carrier}/services/{service_ref}", response_model=CarrierServiceOut, responses=errors(404))
async def carrier_services_get(
    carrier: CarrierRef,
    service_ref: ServiceRef,
    session: Session,
    response: Response,
    _: Principal = require(Scope.FULFILMENT_READ),
) -> CarrierServiceOut:
    """One service of a carrier with its rate table."""
    found = await service.get_service(session, carrier, service_ref)
    set_etag(response, found.version)
    return found


@router.patch(
    "/v1/carriers/{carrier}/services/{service_ref}",
    response_model=CarrierServiceOut,
    responses=errors(404, 412),
    openapi_extra=BULK_BODY,
)
async def carrier_services_update(
    carrier: CarrierRef,
    service_ref: ServiceRef,
    body: ServiceUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> CarrierServiceOut:
    """Change a service; ``zones`` replaces its whole rate table."""
    updated = await service.update_service(session, principal, carrier, service_ref, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.post("/v1/rate-quotes", response_model=RateQuoteResult)
async def rate_quotes_create(
    body: RateQuoteRequest, session: Session, _: Principal = write_access(Scope.FULFILMENT_READ)
) -> RateQuoteResult:
    """Price parcels from a warehouse (or origin country) to a destination with every active service.

    Changes nothing: it reads the rate tables, so a read scope suffices (Idempotency-Key replays the answer).
    """
    return await service.quote_request(session, body)
