"""``/v1/quotes``: B2B quotes from draft to sent, and their acceptance into an order (or decline, or expiry)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.quotes import service
from oms_api.quotes.schemas import Quote, QuoteCreate, QuoteDecline, QuoteList, QuoteStatusName, QuoteUpdate
from oms_api.settings import Settings

router = APIRouter(prefix="/v1/quotes", tags=["quotes"], route_class=OmsRoute)

PDF = "application/pdf"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _with_etag(response: Response, quote: Quote) -> Quote:
    set_etag(response, quote.version)
    return quote


@router.post("", status_code=201, response_model=Quote, responses=errors())
async def quotes_create(
    body: QuoteCreate, session: Session, response: Response, principal: Principal = write_access(Scope.QUOTES_WRITE)
) -> Quote:
    """Draft a quote for a business customer: each line's negotiated unit price (and discount), taxed at the
    shipping address and totalled exactly as the order its acceptance places. It gets its number (``Q-2026-000123``)
    at once; nothing is held until it is sent.

    422 names the field: ``unknown_channel``, ``unknown_customer``, ``unknown_sku``, ``duplicate_sku``,
    ``currency_mismatch``, ``tax_rate_missing``, ``invalid_validity``."""
    quote = await service.create_quote(session, principal, body)
    response.headers["Location"] = f"/v1/quotes/{quote.id}"
    return _with_etag(response, quote)


@router.get("", response_model=QuoteList)
async def quotes_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[QuoteStatusName | None, Query()] = None,
    customer_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Scope.QUOTES_READ),
) -> QuoteList:
    """Quotes, oldest first, without their lines (get one for those)."""
    result = await service.list_quotes(session, page, status=status.value if status else None, customer_id=customer_id)
    return paginate(request, response, result, QuoteList, service.summary_of)


@router.get("/{quote_id}", response_model=Quote, responses=errors(404))
async def quotes_get(
    quote_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Scope.QUOTES_READ)
) -> Quote:
    """One quote with its lines, totals and tax per rate."""
    return _with_etag(response, await service.get_quote(session, quote_id))


@router.patch("/{quote_id}", response_model=Quote, responses=errors(404, 409, 412))
async def quotes_update(
    quote_id: uuid.UUID,
    body: QuoteUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.QUOTES_WRITE),
) -> Quote:
    """Change a draft: given fields replace what it had (``lines``: all of them), and it is priced again.
    409 ``quote_not_draft`` once sent."""
    return _with_etag(response, await service.update_quote(session, principal, quote_id, body, if_match))


@router.post("/{quote_id}/send", response_model=Quote, responses=errors(404, 409, 412))
async def quotes_send(
    quote_id: uuid.UUID,
    request: Request,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.QUOTES_WRITE),
) -> Quote:
    """Send a draft to its customer: its content is frozen. With ``reserve_stock`` its stock is held from now
    until the end of ``valid_until`` (``stock_held_until``), and counts as reserved everywhere.

    409 ``out_of_stock`` (nothing changes), ``validity_passed``, ``quote_sent`` / ``quote_accepted`` / …"""
    quote = await service.send_quote(session, principal, quote_id, if_match, _settings(request))
    return _with_etag(response, quote)


@router.post("/{quote_id}/accept", response_model=Quote, responses=errors(404, 409, 412))
async def quotes_accept(
    quote_id: uuid.UUID,
    request: Request,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.QUOTES_WRITE),
) -> Quote:
    """Accept a sent quote: an order is placed with its lines at their quoted prices, its customer and addresses,
    and the quote's number as ``external_ref`` (``order_id``). Its stock is reserved now, or the stock the quote
    held becomes the order's. A customer on payment terms gets an order on terms; others pay by the channel's
    payment policy.

    409 ``quote_expired`` past ``valid_until``, ``quote_not_sent``, ``quote_accepted``…; when the order cannot be
    placed (``out_of_stock``, ``duplicate_order``, a SKU no longer sold), its problem is the answer and the quote
    stays sent."""
    quote, _ = await service.accept_quote(session, principal, quote_id, if_match, _settings(request))
    return _with_etag(response, quote)


@router.post("/{quote_id}/decline", response_model=Quote, responses=errors(404, 409, 412))
async def quotes_decline(
    quote_id: uuid.UUID,
    body: QuoteDecline,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.QUOTES_WRITE),
) -> Quote:
    """The customer declined a sent quote, for a ``reason``; stock it held goes back at once."""
    return _with_etag(response, await service.decline_quote(session, principal, quote_id, body.reason, if_match))


@router.get(
    "/{quote_id}/quote.pdf",
    response_class=Response,
    responses={
        200: {"content": {PDF: {"schema": {"type": "string", "format": "binary"}}}, "description": "An A4 quote"},
        **errors(404),
    },
)
async def quotes_pdf(quote_id: uuid.UUID, session: Session, _: Principal = require(Scope.QUOTES_READ)) -> Response:
    """The quote as an A4 PDF: seller and buyer (company, VAT id), lines, tax per rate, totals, validity and
    payment terms."""
    number, content = await service.quote_pdf(session, quote_id)
    return Response(content, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{number}.pdf"'})
