"""``/v1/delivery-promises``: what a storefront can promise at checkout."""

from __future__ import annotations

from fastapi import APIRouter, Request

from oms_api.kit.auth import Principal, Scope, Session
from oms_api.kit.idempotency import write_access
from oms_api.kit.routing import OmsRoute
from oms_api.promises import service
from oms_api.promises.schemas import DeliveryPromise, DeliveryPromiseRequest

router = APIRouter(tags=["fulfilment"], route_class=OmsRoute)


@router.post("/v1/delivery-promises", response_model=DeliveryPromise)
async def delivery_promises_create(
    request: Request,
    body: DeliveryPromiseRequest,
    session: Session,
    _: Principal = write_access(Scope.FULFILMENT_READ),
) -> DeliveryPromise:
    """Delivery options for lines and a destination before the order exists: which warehouse(s) would ship,
    each carrier service's price, ship date (cut-off times, pickup days) and delivery date, and warehouses
    where the customer could collect it. Uses the same sourcing engine and channel policy as the allocation
    of the order, and reserves nothing (so a read scope suffices)."""
    return await service.promise(session, body, request.app.state.settings)
