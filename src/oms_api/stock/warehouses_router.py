"""``/v1/warehouses``: the stock locations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import SINGLE_LINE
from oms_api.stock import warehouses as service
from oms_api.stock.schemas import Warehouse, WarehouseCreate, WarehouseList, WarehouseUpdate

router = APIRouter(prefix="/v1/warehouses", tags=["warehouses"], route_class=OmsRoute)

WarehouseRef = Annotated[str, Path(max_length=64, pattern=SINGLE_LINE, description="The warehouse's code or its id")]


@router.post("", status_code=201, response_model=Warehouse, responses=errors(409))
async def warehouses_create(
    body: WarehouseCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.STOCK_WRITE),
) -> Warehouse:
    """Create a warehouse. Its code must be unique (409 ``duplicate_warehouse``)."""
    warehouse = await service.create_warehouse(session, principal, body)
    response.headers["Location"] = f"/v1/warehouses/{warehouse.id}"
    set_etag(response, warehouse.version)
    return Warehouse.model_validate(warehouse)


@router.get("", response_model=WarehouseList)
async def warehouses_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Scope.STOCK_READ),
) -> WarehouseList:
    """List warehouses, oldest first."""
    result = await service.list_warehouses(session, page, active=active)
    return paginate(request, response, result, WarehouseList, Warehouse)


@router.get("/{warehouse}", response_model=Warehouse, responses=errors(404))
async def warehouses_get(
    warehouse: WarehouseRef, session: Session, response: Response, _: Principal = require(Scope.STOCK_READ)
) -> Warehouse:
    """One warehouse, by code or id."""
    found = await service.get_warehouse(session, warehouse)
    set_etag(response, found.version)
    return Warehouse.model_validate(found)


@router.patch("/{warehouse}", response_model=Warehouse, responses=errors(404, 412))
async def warehouses_update(
    warehouse: WarehouseRef,
    body: WarehouseUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.STOCK_WRITE),
) -> Warehouse:
    """Change a warehouse (send ``If-Match`` with the ETag you read to avoid lost updates)."""
    updated = await service.update_warehouse(session, principal, warehouse, body, if_match)
    set_etag(response, updated.version)
    return Warehouse.model_validate(updated)
