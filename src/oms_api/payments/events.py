"""Payment event types (``payment.*``): ``data`` is the payment after the step, with the ledger entry the step
appended (``transaction``)."""

from __future__ import annotations

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
