"""Fulfilment event types: shipments through their lifecycle (the order steps they drive are ``order.*``).

``data`` of a shipment event is the whole shipment after the step (lines, packages, carrier, tracking
numbers, estimated delivery date), so a notification needs no second call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from pydantic import BaseModel, Field

from oms_api.fulfillment.schemas import Shipment
from oms_api.kit.auth import Principal
from oms_api.kit.event_types import declare


@dataclass(frozen=True, slots=True)
class ShipmentShipped:
    """Domain event: a shipment left the warehouse (handed to the carrier, or collected by the customer) and its
    units left stock. Published in that transaction; payments capture the shipment's share of the order's money.

    ``lines`` are the units that left: (order line id, quantity), short-picked units excluded."""

    order_id: uuid.UUID
    shipment_id: uuid.UUID
    lines: tuple[tuple[uuid.UUID, int], ...]
    actor: Principal


class ShipmentEventData(Shipment):
    """The shipment as it stands after the step, and where it was before."""

    previous_status: str | None = Field(description="The status before this step (none for shipment.created)")


class ShortPickData(BaseModel):
    """What re-allocation needs: which units of which order line the warehouse could not find."""

    shipment_id: str
    order_id: str
    warehouse_id: str
    shipment_line_id: str
    order_line_id: str
    sku_id: str
    sku: str
    short_quantity: int
    pick_list_id: str
    reallocated: bool
    new_shipment_ids: list[str]
    not_reallocated_because: str | None = None


class ShipmentPickedData(BaseModel):
    shipment_id: str
    order_id: str
    warehouse_id: str
    picked_units: int
    short_units: int


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
SHIPMENT_SHORT_PICKED = declare(
    "shipment.short_picked",
    "Units of a shipment line were not found at pick time; the missing quantity needs re-allocation",
    ShortPickData,
)
SHIPMENT_PICKED = declare(
    "shipment.picked",
    "Every line of a shipment was picked (or reported short), on every zone's list",
    ShipmentPickedData,
)
