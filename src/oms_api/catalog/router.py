"""``/v1/skus``: the catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.catalog import service
from oms_api.catalog.schemas import Sku, SkuCreate, SkuList, SkuUpdate
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute

router = APIRouter(prefix="/v1/skus", tags=["catalog"], route_class=OmsRoute)

SkuRef = Annotated[str, Path(max_length=64, description="The SKU's code or its id")]


@router.post("", status_code=201, response_model=Sku, responses=errors(409))
async def skus_create(
    body: SkuCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.CATALOG_WRITE),
) -> Sku:
    """Create a SKU. The code and the barcode must be unique (409 ``duplicate_sku`` / ``duplicate_barcode``)."""
    sku = await service.create_sku(session, principal, body)
    response.headers["Location"] = f"/v1/skus/{sku.id}"
    set_etag(response, sku.version)
    return Sku.model_validate(sku)


@router.get("", response_model=SkuList)
async def skus_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    active: Annotated[bool | None, Query()] = None,
    barcode: Annotated[str | None, Query(max_length=18)] = None,
    q: Annotated[str | None, Query(max_length=100, description="Search in code and name")] = None,
    _: Principal = require(Scope.CATALOG_READ),
) -> SkuList:
    """List SKUs, oldest first."""
    result = await service.list_skus(session, page, active=active, barcode=barcode, q=q)
    return paginate(request, response, result, SkuList, Sku)


@router.get("/{sku}", response_model=Sku, responses=errors(404))
async def skus_get(
    sku: SkuRef, session: Session, response: Response, _: Principal = require(Scope.CATALOG_READ)
) -> Sku:
    """One SKU, by code or id."""
    found = await service.get_sku(session, sku)
    set_etag(response, found.version)
    return Sku.model_validate(found)


@router.patch("/{sku}", response_model=Sku, responses=errors(404, 409, 412))
async def skus_update(
    sku: SkuRef,
    body: SkuUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.CATALOG_WRITE),
) -> Sku:
    """Change a SKU (send ``If-Match`` with the ETag you read to avoid lost updates)."""
    updated = await service.update_sku(session, principal, sku, body, if_match)
    set_etag(response, updated.version)
    return Sku.model_validate(updated)
