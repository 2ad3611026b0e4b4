"""HTTP contract of delivery promises."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from pydantic import AwareDatetime, Field

from oms_api.carriers.domain import ShippingChoice
from oms_api.kit.schemas import Address, Code, CurrencyCode, Money, OutModel, StrictModel


class PromiseLineIn(StrictModel):
    sku: Code
    quantity: Annotated[int, Field(ge=1, le=100_000)]


class DeliveryPromiseRequest(StrictModel):
    channel: Code = Field(description="The channel's code or id: its sourcing policy and currency apply")
    destination: Address = Field(description="Where it goes (coordinates optional: the offline geocoder finds them)")
    lines: Annotated[list[PromiseLineIn], Field(min_length=1, max_length=200)]
    currency: CurrencyCode | None = Field(None, description="Defaults to the channel's currency")
    order_at: AwareDatetime | None = Field(None, description="When the order would be placed; defaults to now")
    choice: ShippingChoice | None = Field(None, description="How to pick the recommended option (default cheapest)")
    deliver_by: date | None = Field(None, description="The date the customer needs it (cheapest_on_time)")


class PromiseLine(OutModel):
    sku: str
    quantity: int


class PromisedShipment(OutModel):
    """What one warehouse would send, as the sourcing engine plans it."""

    warehouse: str
    warehouse_id: uuid.UUID
    lines: list[PromiseLine]
    weight_g: int


class PromisePart(OutModel):
    warehouse: str
    price: Money
    ship_date: date
    delivery_date: date


class PromiseOption(OutModel):
    """One carrier service serving every shipment: the price of all of them, the date the last one arrives."""

    carrier: str
    service: str
    name: str
    price: Money
    transit_days: int
    ship_date: date = Field(description="When the last shipment leaves (cut-off times and pickup days applied)")
    delivery_date: date = Field(description="When the last shipment arrives")
    on_time: bool | None = Field(description="Arrives by deliver_by (null when no date was given)")
    recommended: bool
    parts: list[PromisePart]


class PickupOption(OutModel):
    """A warehouse holding everything now, where the customer could collect the order."""

    warehouse: str
    warehouse_id: uuid.UUID
    ready_date: date


class PromiseShortage(OutModel):
    sku: str
    requested: int
    available: int


class DeliveryPromise(OutModel):
    currency: str
    available: bool = Field(description="Whether the stock to serve every line is there")
    sourcing: str | None = Field(description="The sourcing engine's summary of its plan")
    shipments: list[PromisedShipment]
    options: list[PromiseOption] = Field(description="Every carrier service serving the plan, earliest first")
    pickup: list[PickupOption]
    shortages: list[PromiseShortage]
