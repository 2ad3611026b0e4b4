"""``/v1/stock-levels``, ``/v1/stock-movements`` and ``/v1/skus/{sku}/availability``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import SINGLE_LINE
from oms_api.stock import service
from oms_api.stock.schemas import (
    Availability,
    MovementCreate,
    StockLevel,
    StockLevelList,
    StockLevelUpdate,
    StockMovement,
    StockMovementList,
    StockMovementResult,
    UtcTimestamp,
)

router = APIRouter(prefix="/v1", tags=["stock"], route_class=OmsRoute)

LevelId = Annotated[uuid.UUID, Path(description="The stock level's id")]
SkuFilter = Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="SKU code or id")]
WarehouseFilter = Annotated[str | None, Query(max_length=64, pattern=SINGLE_LINE, description="Warehouse code or id")]


@router.get("/stock-levels", response_model=StockLevelList)
async def stock_levels_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    sku: SkuFilter = None,
    warehouse: WarehouseFilter = None,
    _: Principal = require(Scope.STOCK_READ),
) -> StockLevelList:
    """Stock per SKU and warehouse, oldest level first."""
    result = await service.list_stock_levels(session, page, sku=sku, warehouse=warehouse)
    return paginate(request, response, result, StockLevelList, StockLevel)


@router.get("/stock-levels/{stock_level_id}", response_model=StockLevel, responses=errors(404))
async def stock_levels_get(
    stock_level_id: LevelId, session: Session, response: Response, _: Principal = require(Scope.STOCK_READ)
) -> StockLevel:
    """One stock level; its ETag changes with every change of its figures or settings."""
    level = await service.get_stock_level(session, stock_level_id)
    set_etag(response, level.version)
    return StockLevel.model_validate(level)


@router.patch("/stock-levels/{stock_level_id}", response_model=StockLevel, responses=errors(404, 412))
async def stock_levels_update(
    stock_level_id: LevelId,
    body: StockLevelUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.STOCK_WRITE),
) -> StockLevel:
    """Set the reorder point and safety stock (quantities change only through stock movements)."""
    level = await service.update_stock_level(session, principal, stock_level_id, body, if_match)
    set_etag(response, level.version)
    return StockLevel.model_validate(level)


@router.get("/stock-movements", response_model=StockMovementList)
async def stock_movements_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    sku: SkuFilter = None,
    warehouse: WarehouseFilter = None,
    type: Annotated[
        str | None,
        Query(
            max_length=32,
            pattern=r"^[a-z_]+$",
            description="receipt, adjustment, transfer_out, transfer_in, reservation, release…",
        ),
    ] = None,
    reference: Annotated[str | None, Query(max_length=200, pattern=SINGLE_LINE)] = None,
    created_after: Annotated[UtcTimestamp | None, Query(description="Inclusive; with a UTC offset")] = None,
    created_before: Annotated[UtcTimestamp | None, Query(description="Exclusive; with a UTC offset")] = None,
    _: Principal = require(Scope.STOCK_READ),
) -> StockMovementList:
    """The append-only stock ledger, oldest first."""
    result = await service.list_movements(
        session,
        page,
        sku=sku,
        warehouse=warehouse,
        type_=type,
        reference=reference,
        created_after=created_after,
        created_before=created_before,
    )
    return paginate(request, response, result, StockMovementList, StockMovement)


@router.post("/stock-movements", status_code=201, response_model=StockMovementResult, responses=errors(404, 409))
async def stock_movements_create(
    body: MovementCreate,
    session: Session,
    principal: Principal = write_access(Scope.STOCK_WRITE),
) -> StockMovementResult:
    """Change stock by hand: a ``receipt``, an ``adjustment`` (with a reason) or a ``transfer``.

    Stock never goes negative and never below what is reserved: a decrease that the stock does not
    allow is refused with 409 ``insufficient_stock`` (its ``available`` says how much there is).
    """
    result = await service.create_movement(session, principal, body)
    return StockMovementResult.model_validate(result)


@router.get("/skus/{sku}/availability", response_model=Availability, responses=errors(404))
async def stock_availability_get(
    sku: Annotated[str, Path(max_length=64, pattern=SINGLE_LINE, description="The SKU's code or its id")],
    session: Session,
    _: Principal = require(Scope.STOCK_READ),
) -> Availability:
    """Available-to-promise of a SKU per warehouse and in total: every warehouse holding it plus every active one,
    by priority (highest first) then code."""
    return Availability.model_validate(await service.get_availability(session, sku))
