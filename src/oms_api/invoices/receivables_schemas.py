"""HTTP contract of receivables: payments recorded against an invoice, write-offs, AR aging."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from oms_api.kit.schemas import SINGLE_LINE, Money, OutModel, StrictModel

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]


class InvoicePaymentCreate(StrictModel):
    """Money received for an invoice outside the payment gateways: a bank transfer."""

    amount: Money | None = Field(None, description="In the invoice's currency; absent: all that is due")
    received_on: date = Field(description="The day the money arrived (value date of the transfer)")
    reference: Annotated[str, StringConstraints(max_length=255, pattern=SINGLE_LINE)] | None = Field(
        None, description="The transfer's reference, as the bank statement shows it"
    )
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=SINGLE_LINE)] | None = Field(
        None,
        description="Your id of the payment (a bank statement line): recording it again returns the first receipt",
    )


class WriteOffBody(StrictModel):
    reason: Reason = Field(description="Why what is due will not be collected")


class InvoiceReceipt(OutModel):
    """A receipt allocated to the invoice: money in (payment) or back out (refund)."""

    id: uuid.UUID
    kind: Literal["payment", "refund"]
    source: Literal["gateway", "bank_transfer", "accounting"]
    amount: Money = Field(description="The whole receipt (it may settle several invoices of the order)")
    allocated: Money = Field(description="Its share of this invoice (a refund takes this much back)")
    received_on: date
    reference: str | None
    external_id: str | None
    payment_transaction_id: uuid.UUID | None = Field(description="The payments ledger entry (gateway receipts)")
    base_amount: Money | None = Field(description="The receipt in the base currency (null without a rate)")
    created_at: datetime


class InvoicePayments(OutModel):
    invoice_id: uuid.UUID
    status: str
    amount_due: Money
    paid: Money = Field(description="Payments allocated, net of refunds")
    data: list[InvoiceReceipt]


class AgingBuckets(OutModel):
    current: Money = Field(description="Not yet due")
    days_1_30: Money = Field(description="1 to 30 days past due")
    days_31_60: Money = Field(description="31 to 60 days past due")
    days_61_90: Money = Field(description="61 to 90 days past due")
    days_over_90: Money = Field(description="More than 90 days past due")
    total: Money = Field(description="The sum of the buckets: what is outstanding")


class AgingCustomer(OutModel):
    customer_id: uuid.UUID | None = Field(description="Null: invoices of orders without a customer")
    name: str | None
    buckets: AgingBuckets
    invoices: int = Field(description="How many open invoices are counted")


class AgingUnconverted(OutModel):
    """Invoices issued without an exchange rate to the base currency, in their own currency (never guessed)."""

    currency: str
    customers: list[AgingCustomer]
    total: AgingBuckets


class AgingReport(OutModel):
    as_of: date
    base_currency: str
    customers: list[AgingCustomer]
    total: AgingBuckets
    unconverted: list[AgingUnconverted]
