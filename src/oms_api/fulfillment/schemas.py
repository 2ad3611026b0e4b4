"""HTTP contract of shipments, their rates and their tracking."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, Field, StringConstraints

from oms_api.carriers.domain import ShippingChoice
from oms_api.kit.schemas import SINGLE_LINE, Code, Money, OutModel, Page, StrictModel

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]
TrackingNumber = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=4, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$"),
    Field(description="The carrier's tracking number of one package", examples=["1Z999AA10123456784"]),
]


class ShipmentLine(OutModel):
    id: uuid.UUID
    order_line_id: uuid.UUID
    sku: str
    sku_id: uuid.UUID
    name: str
    quantity: int
    picked_quantity: int
    short_quantity: int = Field(description="Not found at pick time (re-allocated elsewhere); does not ship")
    packed_quantity: int


class ShipmentPackage(OutModel):
    id: uuid.UUID
    tracking_number: str | None
    weight_g: int
    box_type_id: uuid.UUID | None
    sealed_at: datetime | None
    created_at: datetime


class Shipment(OutModel):
    id: uuid.UUID
    order_id: uuid.UUID
    warehouse: str
    warehouse_id: uuid.UUID
    status: str
    status_reason: str | None
    allowed_transitions: list[str] = Field(description="Statuses this shipment may move to next")
    pickup: bool = Field(description="Click-and-collect: the customer collects it at the warehouse")
    carrier: str | None
    service: str | None
    shipping_price: Money | None
    shipping_choice: str | None = Field(description="How the carrier service was chosen (cheapest, fastest, …)")
    promised_ship_date: date | None
    promised_delivery_date: date | None
    estimated_delivery_date: date | None = Field(description="The latest estimate (carrier updates replace it)")
    tracking_numbers: list[str]
    lines: list[ShipmentLine]
    packages: list[ShipmentPackage]
    shipped_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class ShipmentList(Page[Shipment]):
    pass


class ShipmentsCreated(OutModel):
    """The shipments made for an order's reserved stock (one per warehouse)."""

    order_id: uuid.UUID
    order_status: str
    data: list[Shipment]


class ShipBody(StrictModel):
    carrier: Code | None = Field(None, description="Carrier code; defaults to the selected rate's carrier")
    service: Code | None = Field(None, description="Service code; defaults to the selected rate's service")
    tracking_numbers: Annotated[list[TrackingNumber], Field(max_length=50)] = Field(
        default_factory=list,
        description="One per package; packages without one get a number from the carrier's port when it issues them",
    )
    estimated_delivery_date: date | None = Field(None, description="Overrides the estimate from the rate table")


class StatusReason(StrictModel):
    reason: Reason


class OptionalStatusReason(StrictModel):
    reason: Reason | None = None


class ManualStatus(StrEnum):
    """What a person may report about a shipment on its way (``info`` changes no status)."""

    INFO = "info"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"


class TrackingEventCreate(StrictModel):
    status: ManualStatus
    description: Annotated[str, StringConstraints(max_length=500, pattern=SINGLE_LINE)] | None = None
    location: Annotated[str, StringConstraints(max_length=200, pattern=SINGLE_LINE)] | None = None
    occurred_at: AwareDatetime | None = Field(None, description="Defaults to now")
    estimated_delivery_date: date | None = None
    tracking_number: TrackingNumber | None = Field(None, description="The package it concerns, if one")


class TrackingEvent(OutModel):
    id: uuid.UUID
    shipment_id: uuid.UUID
    package_id: uuid.UUID | None
    tracking_number: str | None
    source: str
    carrier_status: str
    status: str | None = Field(description="The shipment status the event maps to")
    applied: bool = Field(description="Whether it moved the shipment (stale or repeated updates do not)")
    description: str | None
    location: str | None
    estimated_delivery_date: date | None
    occurred_at: datetime
    created_at: datetime


class TrackingEventList(OutModel):
    data: list[TrackingEvent]


class TrackingEventResult(OutModel):
    event: TrackingEvent
    shipment: Shipment


# --- rates ----------------------------------------------------------------------------------------------------


class RatesRequest(StrictModel):
    choice: ShippingChoice | None = Field(
        None, description="How to pick the recommended option; defaults to the order's channel policy"
    )
    deliver_by: date | None = Field(None, description="The date promised to the customer (cheapest_on_time)")
    ready_at: AwareDatetime | None = Field(None, description="When the parcels are ready to leave; defaults to now")


class SelectRateBody(RatesRequest):
    carrier: Code | None = Field(None, description="Pick this carrier's option (with service) instead of a policy")
    service: Code | None = None


class RateOption(OutModel):
    carrier: str
    service: str
    name: str
    zone: str
    price: Money
    transit_days: int
    ship_date: date
    delivery_date: date
    on_time: bool | None = Field(description="Delivered by deliver_by (null when no date was given)")
    recommended: bool = Field(description="The option the policy chooses")


class RateQuote(OutModel):
    shipment_id: uuid.UUID
    currency: str
    destination_country: str
    weight_g: int
    parcels: list[int] = Field(description="Weight of each parcel rated (grams)")
    choice: ShippingChoice
    deliver_by: date | None
    options: list[RateOption] = Field(description="Every option, earliest delivery first")


class CarrierWebhookReceipt(OutModel):
    """What the carrier is told: the delivery is stored (or was already) and what became of it."""

    id: uuid.UUID | None = Field(description="The stored delivery (null for a duplicate)")
    duplicate: bool = Field(description="True when this event id was received before (nothing new is done)")
    outcome: str = Field(description="applied (moved a shipment), recorded (history only), ignored, duplicate")
    detail: str | None
