"""The payment gateway port: what the payments context asks of a gateway, and what a gateway answers.

A gateway call either answers (``GatewayResult``: succeeded, failed, pending or requires_action) or raises
``GatewayTimeout``, which means the outcome is unknown: the gateway may or may not have acted. A decline is an
answer (``failed`` with the gateway's code), never an exception. Every call that moves money carries an
idempotency key: repeating a call with the same key must answer the first answer and never act twice, which is
how an unknown outcome is settled later (the same call, the same key).

Amounts cross the port as ``kit.money.Money`` (exact in the currency's ISO 4217 minor unit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from oms_api.kit.money import Money


class GatewayStatus(StrEnum):
    SUCCEEDED = "succeeded"  # done: authorised, captured, voided or refunded
    FAILED = "failed"  # refused (declined, invalid, not allowed); nothing happened
    PENDING = "pending"  # accepted, the outcome comes later (webhook, or asking again)
    REQUIRES_ACTION = "requires_action"  # the customer must act (3-D Secure) before it can succeed


@dataclass(frozen=True, slots=True)
class GatewayResult:
    """A gateway's answer to one call. ``reference`` names the gateway's object (Stripe: the PaymentIntent id, the
    same for every call on one payment); ``amount`` is what the call moved, when the gateway says."""

    status: GatewayStatus
    reference: str | None = None
    amount: Money | None = None
    error_code: str | None = None
    error_message: str | None = None
    method_summary: str | None = None
    """A safe description of the payment method (``card •••• 4242``), never a full card number."""

    @property
    def succeeded(self) -> bool:
        return self.status == GatewayStatus.SUCCEEDED


class GatewayError(Exception):
    """Base of the port's exceptions."""


class GatewayTimeout(GatewayError):
    """The gateway did not answer (time-out, connection lost, a 5xx): the call may or may not have happened.
    Repeat it later with the same idempotency key to learn which."""


class GatewayNotConfigured(GatewayError):
    """The gateway lacks its credentials (e.g. no Stripe API key): nothing was sent."""


class InvalidSignature(GatewayError):
    """A webhook whose signature is missing, wrong or too old."""


class MalformedEvent(GatewayError):
    """A signed webhook that is not an event this adapter can read."""


@dataclass(frozen=True, slots=True)
class GatewayEvent:
    """A verified webhook event, read into what the payments context needs.

    ``reference`` is the gateway's payment object (the PaymentIntent id) the event is about; the amounts are the
    gateway's figures after the event (Stripe's ``amount_capturable``, ``amount_received``, ``amount_refunded``),
    each None when the event does not carry it. ``payload`` is the event as sent (stored raw by the caller).
    """

    id: str
    type: str
    created: datetime
    reference: str | None
    currency: str | None = None
    amount: Money | None = None
    amount_capturable: Money | None = None
    amount_received: Money | None = None
    amount_refunded: Money | None = None
    error_code: str | None = None
    error_message: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)


class PaymentGateway(Protocol):
    """One payment gateway. Implementations are built per call (``integrations.service.gateway_for``)."""

    name: str

    async def authorize(
        self, amount: Money, method: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> GatewayResult:
        """Reserve ``amount`` on ``method`` (a token or, on the test gateway, a test card) without taking it."""
        ...

    async def confirm(self, reference: str, idempotency_key: str) -> GatewayResult:
        """Where an authorisation required the customer's action: its outcome now that they may have acted."""
        ...

    async def capture(self, reference: str, amount: Money, idempotency_key: str, final: bool) -> GatewayResult:
        """Take ``amount`` of the authorisation; ``final``: release whatever stays uncaptured (else more
        captures may follow, one per shipment)."""
        ...

    async def void(self, reference: str, idempotency_key: str) -> GatewayResult:
        """Release what is authorised and not captured."""
        ...

    async def refund(self, reference: str, amount: Money, idempotency_key: str, reason: str) -> GatewayResult:
        """Give back ``amount`` of what was captured (partial and repeated refunds are fine)."""
        ...

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """Verify a webhook's signature and read it (``InvalidSignature``, ``MalformedEvent``)."""
        ...


def card_summary(number: str) -> str:
    """How a card number may be kept: its last four digits only (PCI DSS allows no more without a vault)."""
    return f"card •••• {number[-4:]}"
