"""Fulfilment event types: shipments through their lifecycle, and the order steps shipments drive.

``data`` of a shipment event is the whole shipment after the step (lines, packages, carrier, tracking
numbers, estimated delivery date), so a notification needs no second call.
"""

from __future__ import annotations

from pydantic import Field

from oms_api.fulfillment.schemas import Shipment
from oms_api.kit.event_types import declare
from oms_api.orders.events_catalog import OrderEventPayload


class ShipmentEventData(Shipment):
    """The shipment as it stands after the step, and where it was before."""

    previous_status: str | None = Field(description="The status before this step (none for shipment.created)")


ORDER_ALLOCATED = declare(
    "order.allocated", "The order's reserved stock was split into shipments, one per warehouse.", OrderEventPayload
)
ORDER_PARTIALLY_SHIPPED = declare(
    "order.partially_shipped",
    "Some of the order's units left their warehouses; others have not yet.",
    OrderEventPayload,
)
ORDER_SHIPPED = declare("order.shipped", "Every unit of the order has left its warehouse.", OrderEventPayload)
ORDER_DELIVERED = declare("order.delivered", "Every unit of the order reached the customer.", OrderEventPayload)

SHIPMENT_CREATED = declare(
    "shipment.created", "A shipment was made for an order's stock at one warehouse.", ShipmentEventData
)
SHIPMENT_PICKING = declare("shipment.picking", "The warehouse started picking a shipment.", ShipmentEventData)
SHIPMENT_PACKED = declare("shipment.packed", "A shipment is packed and waits for the carrier.", ShipmentEventData)
SHIPMENT_SHIPPED = declare(
    "shipment.shipped",
    "A shipment left the warehouse: carrier, service, tracking numbers and estimated delivery date "
    "are in data (the customer's shipping notification).",
    ShipmentEventData,
)
SHIPMENT_IN_TRANSIT = declare("shipment.in_transit", "The carrier reports the shipment on its way.", ShipmentEventData)
SHIPMENT_OUT_FOR_DELIVERY = declare("shipment.out_for_delivery", "The shipment is out for delivery.", ShipmentEventData)
SHIPMENT_DELIVERED = declare("shipment.delivered", "The shipment was delivered.", ShipmentEventData)
SHIPMENT_EXCEPTION = declare(
    "shipment.exception",
    "Something went wrong on the way (status_reason says what): a failed attempt, damage, a customs hold…",
    ShipmentEventData,
)
SHIPMENT_RETURNED_TO_SENDER = declare(
    "shipment.returned_to_sender", "The carrier is returning the shipment to the warehouse.", ShipmentEventData
)
SHIPMENT_CANCELLED = declare(
    "shipment.cancelled", "A shipment was cancelled before it left; its stock was released.", ShipmentEventData
)
SHIPMENT_READY_FOR_PICKUP = declare(
    "shipment.ready_for_pickup", "A click-and-collect shipment waits for the customer.", ShipmentEventData
)
SHIPMENT_PICKED_UP = declare("shipment.picked_up", "The customer collected the shipment.", ShipmentEventData)
SHIPMENT_UPDATED = declare(
    "shipment.updated",
    "A shipment's carrier choice, price or estimated delivery date changed (status unchanged).",
    ShipmentEventData,
)
