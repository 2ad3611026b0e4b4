"""``/v1/fx-rates``: exchange rates as published (ECB, or given through the API), and conversions with them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import AfterValidator, ValidationError

from oms_api.fx import service
from oms_api.fx.domain import rate_text
from oms_api.fx.schemas import FxConversion, FxRate, FxRateList, FxRatesAdded, FxRatesIn
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import BadRequest, field_error
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import Money, check_currency

router = APIRouter(prefix="/v1/fx-rates", tags=["fx"], route_class=OmsRoute)

CURRENCY = r"^[A-Z]{3}$"


def _currency(value: str | None) -> str | None:
    return None if value is None else check_currency(value)


FilterCurrency = Annotated[str | None, AfterValidator(_currency)]
GivenCurrency = Annotated[str, AfterValidator(check_currency)]


@router.get("", response_model=FxRateList, responses=errors(400))
async def fx_rates_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    base: Annotated[FilterCurrency, Query(pattern=CURRENCY, description="Only rates of this base currency")] = None,
    quote: Annotated[FilterCurrency, Query(pattern=CURRENCY, description="Only rates to this currency")] = None,
    rate_date: Annotated[date | None, Query(alias="date", description="Only the rates published for this date")] = None,
    on: Annotated[
        date | None,
        Query(description="Only the rate of each pair in force on this date (the latest published on or before it)"),
    ] = None,
    _: Principal = require(Scope.FX_READ),
) -> FxRateList:
    """List exchange rates, oldest first. ``date`` and ``on`` exclude each other (400 ``conflicting_filters``)."""
    if rate_date is not None and on is not None:
        raise BadRequest("Give date (published for) or on (in force on), not both", code="conflicting_filters")
    result = await service.list_rates(session, page, base=base, quote=quote, rate_date=rate_date, on=on)
    return paginate(request, response, result, FxRateList, FxRate)


@router.post("", status_code=201, response_model=FxRatesAdded, responses=errors(409))
async def fx_rates_create(
    body: FxRatesIn,
    session: Session,
    principal: Principal = write_access(Scope.FX_WRITE),
) -> FxRatesAdded:
    """Add one rate or up to 1000 at once, all or none. A rate already stored for its pair and date with the same
    value is skipped (listed in ``skipped``); with another value the request is refused with 409
    ``fx_rate_conflict`` naming the clashing rates: a published rate is never changed."""
    added = await service.create_rates(session, principal, body.root)
    return FxRatesAdded(
        created=[FxRate.model_validate(row) for row in added.created],
        skipped=[FxRate.model_validate(row) for row in added.skipped],
    )


@router.get("/convert", response_model=FxConversion, responses=errors(422))
async def fx_rates_convert(
    session: Session,
    amount: Annotated[str, Query(max_length=40, description='Decimal string, e.g. "12.50"', examples=["12.50"])],
    from_currency: Annotated[GivenCurrency, Query(alias="from", pattern=CURRENCY, description="The amount's currency")],
    to_currency: Annotated[GivenCurrency, Query(alias="to", pattern=CURRENCY, description="The target currency")],
    on: Annotated[
        date | None, Query(alias="date", description="The date whose rate is used (default: today, UTC)")
    ] = None,
    _: Principal = require(Scope.FX_READ),
) -> FxConversion:
    """Convert an amount at the rate in force on a date: the latest published on or before it, stored, inverse or
    crossed through a base quoting both currencies. The result is rounded half up to the target currency's minor
    unit. No rate is 422 ``fx_rate_missing``; an amount finer than its currency allows is 422."""
    try:
        given = Money(amount=amount, currency=from_currency)
    except ValidationError as exc:
        detail = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise field_error("/query/amount", detail, "invalid_amount") from None
    day = on or utcnow().date()
    rate, result = await service.convert(session, given.to_money(), to_currency, day)
    return FxConversion(
        amount=Money.of(given.to_money()),
        result=Money.of(result),
        rate=rate_text(rate.rate),
        rate_date=rate.rate_date,
        source=rate.source,
        via=rate.via,
        inverted=rate.inverted,
    )
