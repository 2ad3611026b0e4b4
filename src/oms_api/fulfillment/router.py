"""``/v1/shipments``: shipments from an order's reservations, their lifecycle, rates and tracking."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.fulfillment import shipments, shipping, tracking
from oms_api.fulfillment.domain import ShipmentStatus
from oms_api.fulfillment.schemas import (
    OptionalStatusReason,
    RateQuote,
    RatesRequest,
    SelectRateBody,
    ShipBody,
    Shipment,
    ShipmentList,
    ShipmentsCreated,
    StatusReason,
    TrackingEventCreate,
    TrackingEventList,
    TrackingEventResult,
    TrackingNumber,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import Code

router = APIRouter(tags=["fulfilment"], route_class=OmsRoute)

S = ShipmentStatus
ShipmentId = uuid.UUID


def _tagged(response: Response, shipment: Shipment) -> Shipment:
    set_etag(response, shipment.version)
    return shipment


@router.post(
    "/v1/orders/{order_id}/shipments", status_code=201, response_model=ShipmentsCreated, responses=errors(404, 409)
)
async def order_shipments_create(
    order_id: uuid.UUID, session: Session, principal: Principal = write_access(Scope.FULFILMENT_WRITE)
) -> ShipmentsCreated:
    """Make one shipment per warehouse from the order's reserved stock; the order becomes ``allocated``.

    Called again after a re-allocation, it makes shipments only for units no open shipment carries
    (409 ``nothing_to_allocate`` when there are none). A click-and-collect order's shipment at its pickup
    warehouse is a pickup shipment.
    """
    return await shipments.create_shipments(session, principal, order_id)


@router.get("/v1/shipments", response_model=ShipmentList)
async def shipments_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    order_id: Annotated[uuid.UUID | None, Query()] = None,
    warehouse: Annotated[Code | None, Query(description="Warehouse code or id")] = None,
    status: Annotated[ShipmentStatus | None, Query()] = None,
    tracking_number: Annotated[TrackingNumber | None, Query()] = None,
    _: Principal = require(Scope.FULFILMENT_READ),
) -> ShipmentList:
    """List shipments, oldest first, by order, warehouse, status or tracking number."""
    result = await shipments.list_shipments(
        session,
        page,
        order_id=order_id,
        warehouse=warehouse,
        status=status.value if status else None,
        tracking_number=tracking_number,
    )
    return paginate(request, response, result, ShipmentList, Shipment)


@router.get("/v1/shipments/{shipment_id}", response_model=Shipment, responses=errors(404))
async def shipments_get(
    shipment_id: ShipmentId, session: Session, response: Response, _: Principal = require(Scope.FULFILMENT_READ)
) -> Shipment:
    """One shipment with its lines, packages, carrier choice and tracking numbers."""
    return _tagged(response, await shipments.get_shipment(session, shipment_id))


@router.post("/v1/shipments/{shipment_id}/start-picking", response_model=Shipment, responses=errors(404, 409))
async def shipments_start_picking(
    shipment_id: ShipmentId,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """``pending → picking``. Refused while the order is on hold (409 ``order_on_hold``)."""
    return _tagged(response, await shipments.start_picking(session, principal, shipment_id))


@router.post("/v1/shipments/{shipment_id}/pack", response_model=Shipment, responses=errors(404, 409))
async def shipments_pack(
    shipment_id: ShipmentId,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """``picking → packed``: the shipment waits for the carrier."""
    return _tagged(response, await shipments.pack(session, principal, shipment_id))


@router.post("/v1/shipments/{shipment_id}/ship", response_model=Shipment, responses=errors(404, 409))
async def shipments_ship(
    shipment_id: ShipmentId,
    body: ShipBody,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """``packed → shipped``: on_hand and reserved drop by the shipped units (ledger rows ``shipment``), every
    package gets a tracking number and the estimated delivery date is set; the order rolls up to
    ``partially_shipped`` or ``shipped``. Carrier and service default to the selected rate."""
    return _tagged(response, await shipping.ship(session, principal, shipment_id, body))


@router.post("/v1/shipments/{shipment_id}/deliver", response_model=Shipment, responses=errors(404, 409))
async def shipments_deliver(
    shipment_id: ShipmentId,
    body: OptionalStatusReason,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Mark a shipped shipment delivered; the order becomes ``delivered`` when all of it is."""
    return _tagged(response, await shipments.carrier_step(session, principal, shipment_id, S.DELIVERED, body.reason))


@router.post("/v1/shipments/{shipment_id}/exception", response_model=Shipment, responses=errors(404, 409))
async def shipments_exception(
    shipment_id: ShipmentId,
    body: StatusReason,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Something went wrong on the way (failed attempt, damage, customs): ``shipment.exception`` says why."""
    return _tagged(response, await shipments.carrier_step(session, principal, shipment_id, S.EXCEPTION, body.reason))


@router.post("/v1/shipments/{shipment_id}/return-to-sender", response_model=Shipment, responses=errors(404, 409))
async def shipments_return_to_sender(
    shipment_id: ShipmentId,
    body: OptionalStatusReason,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """The carrier is sending the shipment back to the warehouse."""
    return _tagged(
        response,
        await shipments.carrier_step(session, principal, shipment_id, S.RETURNED_TO_SENDER, body.reason),
    )


@router.post("/v1/shipments/{shipment_id}/cancel", response_model=Shipment, responses=errors(404, 409))
async def shipments_cancel(
    shipment_id: ShipmentId,
    body: StatusReason,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Cancel a shipment that has not left: its reserved stock is released (ledger rows ``release``)."""
    return _tagged(response, await shipments.cancel(session, principal, shipment_id, body.reason))


@router.post("/v1/shipments/{shipment_id}/ready-for-pickup", response_model=Shipment, responses=errors(404, 409))
async def shipments_ready_for_pickup(
    shipment_id: ShipmentId,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Click-and-collect: the shipment waits at the warehouse for the customer."""
    return _tagged(response, await shipments.ready_for_pickup(session, principal, shipment_id))


@router.post("/v1/shipments/{shipment_id}/picked-up", response_model=Shipment, responses=errors(404, 409))
async def shipments_picked_up(
    shipment_id: ShipmentId,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Click-and-collect: the customer took it. Stock leaves the warehouse; the order rolls up to delivered."""
    return _tagged(response, await shipments.picked_up(session, principal, shipment_id))


@router.post("/v1/shipments/{shipment_id}/rates", response_model=RateQuote, responses=errors(404, 409))
async def shipments_rates(
    shipment_id: ShipmentId,
    body: RatesRequest,
    session: Session,
    _: Principal = write_access(Scope.FULFILMENT_READ),
) -> RateQuote:
    """Every carrier option for the shipment with price, ship date and delivery date; the option the policy
    (request, else the channel's ``shipping_choice``) picks is ``recommended``. Changes nothing."""
    return await shipping.rates(session, shipment_id, body)


@router.post("/v1/shipments/{shipment_id}/select-rate", response_model=Shipment, responses=errors(404, 409))
async def shipments_select_rate(
    shipment_id: ShipmentId,
    body: SelectRateBody,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> Shipment:
    """Choose the shipment's carrier service, by policy or by name, and store it with price and dates."""
    return _tagged(response, await shipping.select_rate(session, principal, shipment_id, body))


@router.post(
    "/v1/shipments/{shipment_id}/tracking-events",
    status_code=201,
    response_model=TrackingEventResult,
    responses=errors(404, 409),
)
async def shipment_tracking_events_create(
    shipment_id: ShipmentId,
    body: TrackingEventCreate,
    session: Session,
    principal: Principal = write_access(Scope.FULFILMENT_WRITE),
) -> TrackingEventResult:
    """Report a step of the journey by hand; a status moves the shipment (409 if the lifecycle forbids it)."""
    return await tracking.add_manual(session, principal, shipment_id, body)


@router.get("/v1/shipments/{shipment_id}/tracking-events", response_model=TrackingEventList, responses=errors(404))
async def shipment_tracking_events_list(
    shipment_id: ShipmentId, session: Session, _: Principal = require(Scope.FULFILMENT_READ)
) -> TrackingEventList:
    """The shipment's journey, oldest first: carrier updates and manual reports."""
    return await tracking.list_events(session, shipment_id)
