"""``/v1/carts``: carts that hold their stock, and checkout into an order.

Carts use the orders scopes: the storefront integrations that place orders are the ones that keep
carts, and a cart is an order in the making (checkout creates one).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.carts import service
from oms_api.carts.domain import CartStatus
from oms_api.carts.schemas import (
    Cart,
    CartAbandon,
    CartCheckout,
    CartCreate,
    CartExtend,
    CartLinesReplace,
    CartLinesUpdate,
    CartList,
    CartSummary,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import Code
from oms_api.orders.schemas import Order

router = APIRouter(prefix="/v1/carts", tags=["carts"], route_class=OmsRoute)


def _with_etag(response: Response, cart: Cart) -> Cart:
    set_etag(response, cart.version)
    return cart


@router.post("", status_code=201, response_model=Cart, responses=errors(409))
async def carts_create(
    request: Request,
    body: CartCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Cart:
    """Create a cart and hold the stock of every line at once, until ``expires_at`` (the channel's
    ``cart_ttl_minutes`` from now). Held stock counts as reserved: no order or other cart can take it.

    409 ``out_of_stock`` lists each short SKU with what is available; nothing is held then.
    """
    cart = await service.create_cart(session, principal, body, request.app.state.settings)
    response.headers["Location"] = f"/v1/carts/{cart.id}"
    return _with_etag(response, cart)


@router.get("", response_model=CartList)
async def carts_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[CartStatus | None, Query()] = None,
    channel: Annotated[Code | None, Query(description="Channel code or id")] = None,
    customer_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Scope.ORDERS_READ),
) -> CartList:
    """List carts, oldest first, with filters."""
    result = await service.list_carts(
        session, page, status=status.value if status else None, channel=channel, customer_id=customer_id
    )
    return paginate(request, response, result, CartList, CartSummary)


@router.get("/{cart_id}", response_model=Cart, responses=errors(404))
async def carts_get(
    cart_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Scope.ORDERS_READ)
) -> Cart:
    """One cart with its lines and where each line's units are held."""
    return _with_etag(response, await service.get_cart(session, cart_id))


@router.put("/{cart_id}/lines", response_model=Cart, responses=errors(404, 409, 412))
async def carts_lines_replace(
    request: Request,
    cart_id: uuid.UUID,
    body: CartLinesReplace,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Cart:
    """Replace the cart's lines. The holds follow, all or nothing: a grown line holds more (409
    ``out_of_stock`` if it cannot, and then nothing changes), a shrunk or removed line gives units back.

    409 ``cart_expired`` / ``cart_converted`` / ``cart_abandoned`` once the cart is closed."""
    cart = await service.replace_lines(session, principal, cart_id, body, if_match, request.app.state.settings)
    return _with_etag(response, cart)


@router.patch("/{cart_id}/lines", response_model=Cart, responses=errors(404, 409, 412))
async def carts_lines_update(
    request: Request,
    cart_id: uuid.UUID,
    body: CartLinesUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Cart:
    """Set the quantity of some lines (a new SKU is added, quantity 0 removes a line); the holds follow
    as for ``PUT``, all or nothing."""
    cart = await service.update_lines(session, principal, cart_id, body, if_match, request.app.state.settings)
    return _with_etag(response, cart)


@router.post("/{cart_id}/extend", response_model=Cart, responses=errors(404, 409, 412))
async def carts_extend(
    cart_id: uuid.UUID,
    body: CartExtend,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Cart:
    """Push the expiry to now + ``minutes`` (default: the channel's TTL); an expiry is never brought forward.

    A cart already past its expiry cannot be extended (409 ``cart_expired``)."""
    return _with_etag(response, await service.extend_cart(session, principal, cart_id, body, if_match))


@router.post("/{cart_id}/abandon", response_model=Cart, responses=errors(404, 409, 412))
async def carts_abandon(
    cart_id: uuid.UUID,
    body: CartAbandon,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Cart:
    """Give the cart up: its held stock goes back at once (``cart.abandoned``)."""
    return _with_etag(response, await service.abandon_cart(session, principal, cart_id, body.reason, if_match))


@router.post(
    "/{cart_id}/checkout", status_code=201, response_model=Order, responses=errors(404, 409, 412), tags=["orders"]
)
async def carts_checkout(
    cart_id: uuid.UUID,
    body: CartCheckout,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Turn the cart into a confirmed order. The cart's holds become the order's reservations in the same
    transaction, so the stock is never free in between. Prices come from ``lines`` or the cart lines.

    409: ``cart_expired``, ``cart_converted`` (with ``order_id`` and ``Location``), ``cart_abandoned``,
    ``cart_empty``, ``duplicate_order`` (the channel already has this ``external_ref``)."""
    order = await service.checkout(session, principal, cart_id, body, if_match)
    response.headers["Location"] = f"/v1/orders/{order.id}"
    set_etag(response, order.version)
    return order
