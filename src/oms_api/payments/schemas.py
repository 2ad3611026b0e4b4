"""HTTP contract of payments."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from oms_api.kit.schemas import SINGLE_LINE, Money, OutModel, Page, StrictModel

PaymentStatusName = Literal[
    "pending",
    "requires_action",
    "failed",
    "authorized",
    "partially_captured",
    "captured",
    "partially_refunded",
    "refunded",
    "voided",
]
PaymentMethod = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_\-]+$"),
    Field(
        description="A payment method of the channel's gateway (Stripe: pm_…) or, on the test gateway, a test card "
        "number; never stored (the payment keeps a card's last four digits)",
        examples=["4242424242424242"],
    ),
]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]


class PaymentCreate(StrictModel):
    method: PaymentMethod
    amount: Money | None = Field(
        None,
        description="What to authorise, in the order's currency; absent: the order's grand total less what its "
        "payments already hold",
    )


class CaptureBody(StrictModel):
    amount: Money | None = Field(None, description="What to capture; absent: everything still capturable")
    final: bool = Field(
        True, description="Release what stays uncaptured after this capture (false: more captures may follow)"
    )


class VoidBody(StrictModel):
    reason: Reason | None = None


class RefundLine(StrictModel):
    order_line_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=100_000)]


class RefundBody(StrictModel):
    reason: Reason = Field(description="Why the money goes back (kept on the refund)")
    amount: Money | None = Field(
        None, description="What to refund; absent: the value of ``lines`` if given, else everything refundable"
    )
    lines: Annotated[list[RefundLine], Field(min_length=1, max_length=200)] | None = Field(
        None, description="The order lines (and units) refunded; their value is the amount when none is given"
    )


class PaymentConversion(OutModel):
    rate: str = Field(description="Rate from the payment's currency to the base currency")
    rate_date: date = Field(description="The date the rate was published for")
    base_amount: Money = Field(description="The amount in the base currency")


class TransactionLine(OutModel):
    order_line_id: uuid.UUID
    quantity: int


class Transaction(OutModel):
    """One ledger entry: a request (``request_id`` null) or an outcome of one."""

    id: uuid.UUID
    kind: Literal["authorization", "capture", "void", "refund"]
    status: Literal["requested", "succeeded", "failed", "pending", "requires_action"]
    request_id: uuid.UUID | None = Field(description="The request this entry is an outcome of")
    amount: Money
    final: bool = Field(description="A capture that released what stayed uncaptured")
    idempotency_key: str | None = Field(description="The key sent to the gateway (requests)")
    gateway_reference: str | None
    reason: str | None
    lines: list[TransactionLine] | None
    error_code: str | None
    error_message: str | None
    fx: PaymentConversion | None = Field(description="The conversion to the base currency at the rate of the day")
    actor: str | None
    created_at: datetime


class PaymentError(OutModel):
    code: str | None
    message: str | None


class PaymentSummary(OutModel):
    """A payment: its figures are derived from its transactions, never stored."""

    id: uuid.UUID
    order_id: uuid.UUID
    channel_id: uuid.UUID
    gateway: str = Field(description="test, stripe, or the storefront that took the money (external payments)")
    gateway_reference: str | None
    status: PaymentStatusName
    method: str | None = Field(description="A card's last four digits, or the gateway's payment method id")
    amount: Money = Field(description="The amount asked to be authorised")
    authorized: Money
    captured: Money
    refunded: Money
    voided: Money
    capturable: Money = Field(description="What can still be captured (operations in doubt count as done)")
    refundable: Money = Field(description="What can still be refunded (never more than captured)")
    pending: bool = Field(description="An operation's outcome is not known yet; a worker asks the gateway again")
    last_error: PaymentError | None = Field(description="The latest refusal, if the latest operation failed")
    version: int
    created_at: datetime
    updated_at: datetime


class Payment(PaymentSummary):
    transactions: list[Transaction]


class PaymentList(Page[PaymentSummary]):
    pass


class OrderPayments(OutModel):
    order_id: uuid.UUID
    payment_status: str = Field(description="The order's payment status, derived from these payments")
    data: list[Payment]


class PaymentEventData(PaymentSummary):
    """The payment after the step, and the ledger entry that the step appended."""

    transaction: Transaction


class StripeReceipt(OutModel):
    """What Stripe is told: the event is stored (or was already) and what came of it."""

    id: str = Field(description="Stripe's event id")
    outcome: Literal["pending", "processed", "ignored", "failed"]
    duplicate: bool = Field(description="True when this event id was received before (nothing new is done)")
    note: str | None = None
