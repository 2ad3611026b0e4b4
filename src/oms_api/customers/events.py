"""Customer event types (declared for the catalogue). Data is minimal: no addresses, phone or notes."""

from __future__ import annotations

import uuid

from pydantic import BaseModel

from oms_api.kit.event_types import declare


class CustomerEventData(BaseModel):
    id: uuid.UUID
    email: str | None
    first_name: str | None
    last_name: str | None
    tags: list[str]
    version: int


CUSTOMER_CREATED = declare("customer.created", "A customer was created.", CustomerEventData)
CUSTOMER_UPDATED = declare("customer.updated", "A customer's details changed.", CustomerEventData)
