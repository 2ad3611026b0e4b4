"""Customer event types (declared for the catalogue). Data is minimal: no addresses, phone or notes."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from oms_api.kit.event_types import declare


class CustomerEventData(BaseModel):
    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    tags: list[str]
    company: str | None = None
    vat_id: str | None = None
    payment_terms: dict[str, Any] | None = Field(
        None, description="kind (due_on_receipt, net, end_of_month_plus), days, discount_percent, discount_days"
    )
    credit_limit_minor: int | None = Field(None, description="In the base currency's minor units; null: no limit")
    version: int


CUSTOMER_CREATED = declare("customer.created", "A customer was created.", CustomerEventData)
CUSTOMER_UPDATED = declare("customer.updated", "A customer's details changed.", CustomerEventData)
