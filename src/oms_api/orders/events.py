"""What orders tell others: the public event types (``order.*``, for webhooks; ``data`` is the whole order after
the step, or the re-sourcing for ``order.allocation_changed``) and the domain events other contexts react to on
the in-process bus."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import Field

from oms_api.allocation.schemas import AllocationChanged
from oms_api.kit.auth import Principal
from oms_api.kit.event_types import declare
from oms_api.orders.schemas import Order


@dataclass(frozen=True, slots=True)
class OrderCancelled:
    """Domain event: an order was cancelled (its stock already given back). Published in the cancelling
    transaction; fulfilment cancels the order's shipments that have not left."""

    order_id: uuid.UUID
    reason: str
    actor: Principal
    remainder: bool = False
    """Only what had not shipped was cancelled (the order had partly shipped; it is now ``shipped``)."""


@dataclass(frozen=True, slots=True)
class OrderPlaced:
    """Domain event: an order was placed (by the API, a cart checkout or a storefront's intake) and its rows are
    written. Published in the placing transaction, before the answer is built; payments authorise or record the
    order's money by the channel's policy, and may put the order on a payment hold.

    ``payment`` is what the order said of its money, as given: ``{"method": "<token or test card>"}`` to authorise
    with the channel's gateway, or ``{"external_status": "captured" | "authorized", "external_reference": "…",
    "gateway": "shopify"}`` when the storefront took it itself; None when it said nothing."""

    order_id: uuid.UUID
    channel_id: uuid.UUID
    external_ref: str
    currency: str
    grand_total_minor: int
    payment: dict[str, Any] | None
    actor: Principal
    payment_policy: str = "external"
    """The channel's payment policy when the order was placed (a reaction with nothing to do needs no read)."""
    customer_id: uuid.UUID | None = None
    credit_check: bool = False
    """The customer has (or may have) a credit limit: invoices check the order against it (False: known not to,
    or no customer; nothing to read)."""


class OrderEventPayload(Order):
    """The order as it stands after the step, and where it was before."""

    previous_status: str | None = Field(description="The status before this step (none for order.created)")


ORDER_CREATED = declare(
    "order.created", "An order was placed (status pending, before its stock check).", OrderEventPayload
)
ORDER_CONFIRMED = declare(
    "order.confirmed", "An order's stock is reserved for every line: it is confirmed.", OrderEventPayload
)
ORDER_CANCELLED = declare(
    "order.cancelled", "An order was cancelled; its reserved stock went back to availability.", OrderEventPayload
)
ORDER_REMAINDER_CANCELLED = declare(
    "order.remainder_cancelled",
    "What had not shipped of a partly shipped order was cancelled: its stock went back, its open shipments were "
    "cancelled, lines show cancelled_quantity, and the order is shipped.",
    OrderEventPayload,
)
ORDER_ON_HOLD = declare(
    "order.on_hold", "An order was put on hold (status_reason says why); its stock stays reserved.", OrderEventPayload
)
ORDER_HOLD_RELEASED = declare(
    "order.hold_released", "A held order resumed in the status it had before the hold.", OrderEventPayload
)
ORDER_UPDATED = declare(
    "order.updated", "An order's addresses, tags or notes changed (status unchanged).", OrderEventPayload
)
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
ORDER_ALLOCATION_CHANGED = declare(
    "order.allocation_changed",
    "An order's stock was re-sourced (POST …/allocate or …/reallocate): units released at some warehouses "
    "and reserved at others. Shipments not yet picked should follow the new allocations.",
    AllocationChanged,
)
