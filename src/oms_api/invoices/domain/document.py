"""An issued invoice or credit note as every renderer (PDF, Factur-X/CII, UBL) and the accounting posting see it:
plain values, amounts as ``Money`` in the document currency, no database.

Built by ``invoices`` from its rows (``views.document_of``); renderers never read tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from oms_api.kit.money import Money


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class LineKind(StrEnum):
    ITEM = "item"
    SHIPPING = "shipping"
    AMOUNT = "amount"
    """A credit note's free amount at one rate (a goodwill correction)."""


@dataclass(frozen=True, slots=True)
class Address:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None
    """ISO 3166-1 alpha-2."""


@dataclass(frozen=True, slots=True)
class Party:
    """Seller or buyer as printed: ``company`` is the legal name when there is one, ``name`` the person."""

    name: str
    company: str | None = None
    vat_id: str | None = None
    """Normalised, with its country prefix (``DE123456789``)."""
    registration_id: str | None = None
    email: str | None = None
    address: Address = field(default_factory=Address)
    iban: str | None = None
    bic: str | None = None

    @property
    def legal_name(self) -> str:
        return self.company or self.name


@dataclass(frozen=True, slots=True)
class DocumentLine:
    line_no: int
    kind: LineKind
    name: str
    sku: str | None
    quantity: int
    unit_price: Money
    """Net unit price (before tax)."""
    discount: Money
    net: Money
    """quantity x unit_price - discount."""
    tax_rate: Decimal
    """A fraction: 0.19 for 19 %."""
    tax_category: str | None
    """standard, reduced, zero, exempt or a custom category; None: derive from the rate."""
    tax: Money
    total: Money


@dataclass(frozen=True, slots=True)
class TaxGroup:
    """One line of the tax breakdown: everything taxed at one rate (and category)."""

    rate: Decimal
    category: str | None
    taxable: Money
    tax: Money
    exemption_reason: str | None = None
    """Why an exempt group is exempt (EN 16931 BT-120, e.g. the directive's article); e-invoices print a generic
    "Exempt from VAT" when None."""


@dataclass(frozen=True, slots=True)
class Terms:
    """Payment terms as printed: ``description`` (``Net 30``), with the early-payment discount when offered."""

    description: str
    discount_percent: Decimal | None = None
    discount_until: date | None = None


@dataclass(frozen=True, slots=True)
class BaseTotals:
    """The document's totals in the base currency, when it differs from the document currency."""

    currency: str
    fx_rate: Decimal
    """1 unit of the document currency in the base currency."""
    fx_rate_date: date
    net: Money
    tax: Money
    total: Money


@dataclass(frozen=True, slots=True)
class Corrected:
    """The invoice a credit note corrects."""

    number: str
    issue_date: date


@dataclass(frozen=True, slots=True)
class Document:
    kind: DocumentKind
    number: str
    issue_date: date
    currency: str
    seller: Party
    buyer: Party
    lines: tuple[DocumentLine, ...]
    tax_groups: tuple[TaxGroup, ...]
    net_total: Money
    """Sum of the lines' net (items, shipping, amounts)."""
    tax_total: Money
    grand_total: Money
    paid: Money
    """Already paid against it (prepaid by card, transfers): the PDF and e-invoices show what remains due."""
    due_date: date | None = None
    terms: Terms | None = None
    base: BaseTotals | None = None
    corrects: Corrected | None = None
    order_ref: str | None = None
    """The buyer's order reference (the channel's order number)."""
    reason: str | None = None
    """A credit note's reason."""
    shipping_address: Address | None = None
    note: str | None = None

    @property
    def amount_due(self) -> Money:
        return self.grand_total - self.paid
