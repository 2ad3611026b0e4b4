"""Payment event types (``payment.*``): ``data`` is the payment after the step, with the ledger entry the step
appended (``transaction``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from oms_api.kit.event_types import declare
from oms_api.payments.schemas import PaymentEventData

PAYMENT_AUTHORIZED = declare(
    "payment.authorized", "A payment was authorised: the money is reserved, not taken yet.", PaymentEventData
)
PAYMENT_AUTHORIZATION_FAILED = declare(
    "payment.authorization_failed",
    "The gateway refused an authorisation (declined, insufficient funds…; transaction.error_code says why).",
    PaymentEventData,
)
PAYMENT_ACTION_REQUIRED = declare(
    "payment.action_required",
    "An authorisation waits for the customer's action (3-D Secure) before it holds.",
    PaymentEventData,
)
PAYMENT_PENDING = declare(
    "payment.pending",
    "A gateway did not answer in time: the operation's outcome is unknown until the worker asks again.",
    PaymentEventData,
)
PAYMENT_CAPTURED = declare(
    "payment.captured", "Money was captured (transaction.amount; a shipment's share, or all of it).", PaymentEventData
)
PAYMENT_VOIDED = declare("payment.voided", "What was authorised and not captured was released.", PaymentEventData)
PAYMENT_REFUNDED = declare(
    "payment.refunded", "Money went back to the customer (transaction.amount, reason and lines).", PaymentEventData
)
PAYMENT_FAILED = declare(
    "payment.failed",
    "The gateway refused a capture, void or refund (transaction.kind and error_code say which and why).",
    PaymentEventData,
)


@dataclass(frozen=True, slots=True)
class PaymentMoved:
    """Domain event: money moved for an order: a capture (money in) or a refund (money out) succeeded, through a
    gateway the OMS calls or as a storefront recorded it. Published in the transaction that appends the outcome;
    invoices apply it to the order's invoices, accounting posts it to the gateway's clearing account.

    ``base_amount_minor`` and ``fx_rate`` are the conversion to the base currency recorded with the entry (None when
    no rate was in force)."""

    order_id: uuid.UUID
    payment_id: uuid.UUID
    transaction_id: uuid.UUID
    kind: str
    """``capture`` or ``refund``."""
    amount_minor: int
    currency: str
    gateway: str
    base_currency: str | None
    base_amount_minor: int | None
    fx_rate: str | None
    occurred_at: datetime
    actor: str
