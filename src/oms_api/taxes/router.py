"""``/v1/tax-categories`` and ``/v1/tax-rates``: what SKUs are taxed as, and at which rate where and when."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.taxes import service
from oms_api.taxes.schemas import (
    Country,
    Region,
    TaxCategory,
    TaxCategoryCode,
    TaxCategoryCreate,
    TaxCategoryList,
    TaxRate,
    TaxRateCreate,
    TaxRateList,
    TaxRateUpdate,
)

router = APIRouter(tags=["taxes"], route_class=OmsRoute)

CategoryRef = Annotated[TaxCategoryCode, Path(description="The category's code")]
RateId = Annotated[uuid.UUID, Path(description="The rate's id")]


# --- categories ------------------------------------------------------------------------------------------------


@router.get("/v1/tax-categories", response_model=TaxCategoryList)
async def tax_categories_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    _: Principal = require(Scope.TAXES_READ),
) -> TaxCategoryList:
    """List tax categories, the built-in four (standard, reduced, zero, exempt) first."""
    result = await service.list_categories(session, page)
    return paginate(request, response, result, TaxCategoryList, TaxCategory)


@router.post("/v1/tax-categories", status_code=201, response_model=TaxCategory, responses=errors(409))
async def tax_categories_create(
    body: TaxCategoryCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.TAXES_WRITE),
) -> TaxCategory:
    """Add a tax category (e.g. ``books``); codes are unique (409 ``duplicate_tax_category``)."""
    created = await service.create_category(session, principal, body)
    response.headers["Location"] = f"/v1/tax-categories/{created.code}"
    set_etag(response, created.version)
    return created


@router.get("/v1/tax-categories/{code}", response_model=TaxCategory, responses=errors(404))
async def tax_categories_get(
    code: CategoryRef, session: Session, response: Response, _: Principal = require(Scope.TAXES_READ)
) -> TaxCategory:
    """One tax category."""
    found = await service.get_category(session, code)
    set_etag(response, found.version)
    return found


@router.delete("/v1/tax-categories/{code}", status_code=204, response_class=Response, responses=errors(404, 409))
async def tax_categories_delete(
    code: CategoryRef, session: Session, principal: Principal = write_access(Scope.TAXES_WRITE)
) -> Response:
    """Delete a tax category. Refused with 409 for the built-in four (``tax_category_builtin``) and for a category
    that a rate or a SKU names (``tax_category_in_use``)."""
    await service.delete_category(session, principal, code)
    return Response(status_code=204)


# --- rates -----------------------------------------------------------------------------------------------------


@router.get("/v1/tax-rates", response_model=TaxRateList)
async def tax_rates_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    country: Annotated[Country | None, Query()] = None,
    region: Annotated[Region | None, Query()] = None,
    category: Annotated[TaxCategoryCode | None, Query()] = None,
    on: Annotated[date | None, Query(description="Only the rates in force on this day")] = None,
    _: Principal = require(Scope.TAXES_READ),
) -> TaxRateList:
    """List tax rates, oldest first."""
    result = await service.list_rates(session, page, country=country, region=region, category=category, on=on)
    return paginate(request, response, result, TaxRateList, TaxRate)


@router.post("/v1/tax-rates", status_code=201, response_model=TaxRate, responses=errors(409))
async def tax_rates_create(
    body: TaxRateCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.TAXES_WRITE),
) -> TaxRate:
    """Add a rate. One that overlaps another rate of the same country, region and category is refused with 409
    ``tax_rate_overlap`` (naming the other as ``existing_id``); an unknown category is 422 ``unknown_tax_category``."""
    created = await service.create_rate(session, principal, body)
    response.headers["Location"] = f"/v1/tax-rates/{created.id}"
    set_etag(response, created.version)
    return created


@router.get("/v1/tax-rates/{rate_id}", response_model=TaxRate, responses=errors(404))
async def tax_rates_get(
    rate_id: RateId, session: Session, response: Response, _: Principal = require(Scope.TAXES_READ)
) -> TaxRate:
    """One tax rate."""
    found = await service.get_rate(session, rate_id)
    set_etag(response, found.version)
    return found


@router.patch("/v1/tax-rates/{rate_id}", response_model=TaxRate, responses=errors(404, 409, 412))
async def tax_rates_update(
    rate_id: RateId,
    body: TaxRateUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.TAXES_WRITE),
) -> TaxRate:
    """Rename or end-date a rate (``valid_to``: the first day it no longer applies). Send ``If-Match`` with the ETag
    you read (412 ``stale_version``); a new ``valid_to`` that overlaps another rate is 409 ``tax_rate_overlap``."""
    updated = await service.update_rate(session, principal, rate_id, body, if_match)
    set_etag(response, updated.version)
    return updated


@router.delete("/v1/tax-rates/{rate_id}", status_code=204, response_class=Response, responses=errors(404, 412))
async def tax_rates_delete(
    rate_id: RateId,
    session: Session,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.TAXES_WRITE),
) -> Response:
    """Delete a rate (orders keep the rate they were taxed at). To stop a rate, prefer end-dating it: the history of
    what applied when stays on record."""
    await service.delete_rate(session, principal, rate_id, if_match)
    return Response(status_code=204)
