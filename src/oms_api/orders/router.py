"""``/v1/orders``: placement, reading, history and lifecycle actions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import Code, Tag
from oms_api.orders import service
from oms_api.orders.domain import OrderPaymentStatus, OrderStatus
from oms_api.orders.schemas import (
    OptionalReasonBody,
    Order,
    OrderCreate,
    OrderEvent,
    OrderEventList,
    OrderList,
    OrderUpdate,
    ReasonBody,
)
from oms_api.orders.views import summary_view

router = APIRouter(tags=["orders"], route_class=OmsRoute)


def _with_etag(response: Response, order: Order) -> Order:
    set_etag(response, order.version)
    return order


@router.post("/v1/orders", status_code=201, response_model=Order, responses=errors(409))
async def orders_create(
    request: Request,
    body: OrderCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Place an order: stock is reserved for every line at once, or nothing happens.

    409 ``out_of_stock`` lists each short SKU with what is available; 409 ``duplicate_order`` points at the
    order that already has this ``external_ref`` in the channel (``existing_id`` and ``Location``).
    """
    order = await service.place_order(session, principal, body, request.app.state.settings)
    response.headers["Location"] = f"/v1/orders/{order.id}"
    return _with_etag(response, order)


@router.get("/v1/orders", response_model=OrderList)
async def orders_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[OrderStatus | None, Query()] = None,
    payment_status: Annotated[OrderPaymentStatus | None, Query()] = None,
    channel: Annotated[Code | None, Query(description="Channel code or id")] = None,
    customer_id: Annotated[uuid.UUID | None, Query()] = None,
    tag: Annotated[Tag | None, Query()] = None,
    external_ref: Annotated[str | None, Query(max_length=100)] = None,
    placed_after: Annotated[datetime | None, Query()] = None,
    placed_before: Annotated[datetime | None, Query()] = None,
    _: Principal = require(Scope.ORDERS_READ),
) -> OrderList:
    """List orders, oldest first, with filters."""
    result = await service.list_orders(
        session,
        page,
        status=status.value if status else None,
        payment_status=payment_status.value if payment_status else None,
        channel=channel,
        customer_id=customer_id,
        tag=tag,
        external_ref=external_ref,
        placed_after=placed_after,
        placed_before=placed_before,
    )
    return paginate(request, response, result, OrderList, summary_view)


@router.get("/v1/customers/{customer_id}/orders", response_model=OrderList, tags=["customers"])
async def customers_orders_list(
    customer_id: uuid.UUID,
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    _: Principal = require(Scope.ORDERS_READ),
) -> OrderList:
    """A customer's orders, oldest first."""
    result = await service.list_orders(session, page, customer_id=customer_id)
    return paginate(request, response, result, OrderList, summary_view)


@router.get("/v1/orders/{order_id}", response_model=Order, responses=errors(404))
async def orders_get(
    order_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Scope.ORDERS_READ)
) -> Order:
    """One order with its lines, allocations and totals."""
    return _with_etag(response, await service.get_order(session, order_id))


@router.patch("/v1/orders/{order_id}", response_model=Order, responses=errors(404, 409, 412))
async def orders_update(
    order_id: uuid.UUID,
    body: OrderUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Change addresses (until shipped), tags or notes."""
    return _with_etag(response, await service.update_order(session, principal, order_id, body, if_match))


@router.post("/v1/orders/{order_id}/cancel", response_model=Order, responses=errors(404, 409, 412))
async def orders_cancel(
    order_id: uuid.UUID,
    body: ReasonBody,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Cancel the order and release its reserved stock. Of a partly shipped order, cancel what has not shipped
    (the order becomes shipped). Refused (409) once shipped, with the allowed moves."""
    return _with_etag(response, await service.cancel_order(session, principal, order_id, body.reason, if_match))


@router.post("/v1/orders/{order_id}/hold", response_model=Order, responses=errors(404, 409, 412))
async def orders_hold(
    order_id: uuid.UUID,
    body: ReasonBody,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Put the order on hold (its stock stays reserved)."""
    return _with_etag(response, await service.hold_order(session, principal, order_id, body.reason, if_match))


@router.post("/v1/orders/{order_id}/release-hold", response_model=Order, responses=errors(404, 409, 412))
async def orders_release_hold(
    order_id: uuid.UUID,
    body: OptionalReasonBody,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> Order:
    """Resume a held order in the status it was held from."""
    return _with_etag(response, await service.release_hold(session, principal, order_id, body.reason, if_match))


@router.get("/v1/orders/{order_id}/events", response_model=OrderEventList, responses=errors(404))
async def orders_events_list(
    order_id: uuid.UUID, session: Session, _: Principal = require(Scope.ORDERS_READ)
) -> OrderEventList:
    """The order's history: every transition with time, actor and reason, oldest first."""
    events = await service.history(session, order_id)
    return OrderEventList(
        data=[
            OrderEvent(
                id=e.id,
                type=e.type,
                occurred_at=e.occurred_at,
                actor=e.actor,
                reason=e.reason,
                from_status=e.data.get("previous_status"),
                to_status=e.data.get("status") if e.type != "order.updated" else None,
                data=e.data,
            )
            for e in events
        ]
    )
