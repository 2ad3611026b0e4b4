"""HTTP contract of invoices' issuing side: legal entities, invoices, credit notes."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

from oms_api.kit.schemas import (
    SINGLE_LINE,
    Code,
    Line20,
    Line100,
    Line200,
    Money,
    Name,
    OutModel,
    Page,
    RequiredLine100,
    RequiredLine200,
    StrictModel,
    TaxRate,
)

InvoiceStatusName = Literal["draft", "issued", "partially_paid", "paid", "overdue", "credited"]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=SINGLE_LINE)]
VatId = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=4, max_length=32, pattern=SINGLE_LINE),
    Field(
        description="VAT id with its country prefix (EU member states, GB); stored normalised", examples=["DE136695976"]
    ),
]
Email = Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]
Iban = Annotated[str, StringConstraints(min_length=15, max_length=34, pattern=r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")]
Bic = Annotated[str, StringConstraints(min_length=8, max_length=11, pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")]


class EntityAddress(StrictModel):
    line1: RequiredLine200
    line2: Line200 | None = None
    city: RequiredLine100
    postal_code: Line20 | None = None
    region: Line100 | None = None
    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")] = Field(description="ISO 3166-1 alpha-2")


class LegalEntityCreate(StrictModel):
    code: Code
    name: Name = Field(description="The legal name printed as the seller")
    vat_id: VatId | None = None
    registration_id: Annotated[str, StringConstraints(max_length=64, pattern=SINGLE_LINE)] | None = None
    address: EntityAddress
    email: Email | None = None
    iban: Iban | None = None
    bic: Bic | None = None
    is_default: bool = Field(False, description="Issues for channels that name no entity (one entity at most)")


class LegalEntityUpdate(StrictModel):
    name: Name | None = None
    vat_id: VatId | None = None
    registration_id: Annotated[str, StringConstraints(max_length=64, pattern=SINGLE_LINE)] | None = None
    address: EntityAddress | None = None
    email: Email | None = None
    iban: Iban | None = None
    bic: Bic | None = None
    is_default: bool | None = Field(None, description="true makes it the default (the previous one stops being)")


class LegalEntity(OutModel):
    id: uuid.UUID
    code: str
    name: str
    vat_id: str | None
    registration_id: str | None
    address: dict[str, Any]
    email: str | None
    iban: str | None
    bic: str | None
    is_default: bool
    version: int
    created_at: datetime
    updated_at: datetime


class LegalEntityList(Page[LegalEntity]):
    pass


# --- invoices ------------------------------------------------------------------------------------------------------


class InvoiceCreate(StrictModel):
    shipment_id: uuid.UUID | None = Field(None, description="Bill this shipment's shipped units (default: the order)")
    draft: bool = Field(False, description="Create a draft (no number) to issue later")


class PartyAddress(OutModel):
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


class Party(OutModel):
    name: str
    company: str | None = None
    vat_id: str | None = None
    registration_id: str | None = None
    email: str | None = None
    address: PartyAddress
    iban: str | None = None
    bic: str | None = None


class InvoiceLine(OutModel):
    id: uuid.UUID
    line_no: int
    kind: Literal["item", "shipping"]
    order_line_id: uuid.UUID | None
    sku: str | None
    name: str
    quantity: int
    unit_price: Money = Field(description="Net unit price (before tax)")
    discount: Money
    net: Money = Field(description="quantity x unit price - discount")
    tax_rate: str = Field(description="Decimal fraction, e.g. 0.19")
    tax_category: str | None
    tax: Money
    total: Money


class TaxGroup(OutModel):
    rate: str
    category: str | None
    taxable: Money
    tax: Money


class BaseTotals(OutModel):
    """The totals in the base currency at the rate in force on the issue date."""

    fx_rate: str = Field(description="1 unit of the document currency in the base currency")
    fx_rate_date: date
    total: Money
    tax: Money


class InvoiceSummary(OutModel):
    id: uuid.UUID
    number: str | None = Field(description="Null while a draft")
    status: InvoiceStatusName
    order_id: uuid.UUID
    shipment_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    channel_id: uuid.UUID
    legal_entity_id: uuid.UUID
    currency: str
    issue_date: date | None
    due_date: date | None
    issued_at: datetime | None
    subtotal: Money = Field(description="Net of the item lines")
    shipping: Money = Field(description="Net of the shipping")
    tax: Money
    total: Money
    paid: Money
    credited: Money
    written_off: Money
    amount_due: Money = Field(description="total - paid - credited - written off")
    version: int
    created_at: datetime
    updated_at: datetime


class Invoice(InvoiceSummary):
    prices_include_tax: bool = Field(description="The order's prices included tax (lines are shown net)")
    lines: list[InvoiceLine]
    tax_breakdown: list[TaxGroup]
    base_currency: str | None
    base: BaseTotals | None = Field(description="Null when no rate was in force on the issue date")
    seller: Party | None
    buyer: Party
    payment_terms: dict[str, Any] | None
    notes: str | None


class InvoiceList(Page[InvoiceSummary]):
    pass


class InvoiceEventData(InvoiceSummary):
    """The invoice after the change (without lines: read the invoice for those)."""

    number_sequence: int | None = Field(None, description="The number inside its series")


# --- credit notes --------------------------------------------------------------------------------------------------


class CreditLineIn(StrictModel):
    invoice_line_id: uuid.UUID
    quantity: Annotated[int, Field(ge=1, le=1_000_000)]


class CreditNoteCreate(StrictModel):
    reason: Reason = Field(description="Why the invoice is corrected (printed on the credit note)")
    lines: Annotated[list[CreditLineIn], Field(min_length=1, max_length=500)] | None = Field(
        None, description="Units of the invoice's lines given back, pro rata with their tax"
    )
    shipping: bool = Field(False, description="Give back the invoice's shipping")
    amount: Money | None = Field(None, description="A free amount given back, tax included (with tax_rate)")
    tax_rate: TaxRate | None = Field(None, description="One of the invoice's rates: the amount's tax")

    @model_validator(mode="after")
    def _one_kind(self) -> CreditNoteCreate:
        if self.amount is not None and (self.lines or self.shipping):
            raise ValueError("give either lines and/or shipping, or an amount")
        if self.amount is None and not self.lines and not self.shipping:
            raise ValueError("give lines, shipping or an amount")
        if self.amount is not None and self.tax_rate is None:
            raise ValueError("an amount needs its tax_rate (one of the invoice's rates)")
        return self


class CreditNoteLine(OutModel):
    id: uuid.UUID
    line_no: int
    kind: Literal["item", "shipping", "amount"]
    invoice_line_id: uuid.UUID | None
    sku: str | None
    name: str
    quantity: int
    unit_price: Money
    net: Money
    tax_rate: str
    tax_category: str | None
    tax: Money
    total: Money


class CreditNoteSummary(OutModel):
    id: uuid.UUID
    number: str
    invoice_id: uuid.UUID
    order_id: uuid.UUID
    customer_id: uuid.UUID | None
    issue_date: date
    issued_at: datetime
    reason: str
    currency: str
    subtotal: Money
    shipping: Money
    tax: Money
    total: Money
    created_at: datetime


class CreditNote(CreditNoteSummary):
    invoice_number: str | None
    lines: list[CreditNoteLine]
    tax_breakdown: list[TaxGroup]
    base_currency: str | None
    base: BaseTotals | None
    seller: Party
    buyer: Party
    actor: str | None


class CreditNotes(OutModel):
    invoice_id: uuid.UUID
    data: list[CreditNote]


class CreditNoteEventData(CreditNoteSummary):
    invoice_number: str | None
