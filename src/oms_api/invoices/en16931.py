"""What both e-invoice syntaxes (CII and UBL) say the same way: EN 16931's VAT categories of a document's lines and
breakdown, and how amounts, rates and quantities are written.

The two syntaxes differ only in element names; deciding here once keeps the CII and the UBL of one document
telling the same story (a validator comparing them, or a buyer reading both, sees the same categories and sums)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from oms_api.invoices.domain.document import Document, DocumentKind, DocumentLine, TaxGroup
from oms_api.kit.money import Money, quantum
from oms_api.kit.vat import country_of

GUIDELINE = "urn:cen.eu:en16931:2017"
"""BT-24 of the EN 16931 core (the Factur-X EN 16931 profile)."""
PEPPOL_CUSTOMIZATION = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PEPPOL_PROFILE = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)
UNIT_CODE = "C62"
"""UN/ECE Recommendation 20 "one": every line counts pieces (the shipping charge is one)."""
DISCOUNT_REASON_CODE = "95"
"""UNTDID 5189 "Discount": a line's discount is a line allowance (BG-27)."""
SEPA_CREDIT_TRANSFER = "58"
"""UNTDID 4461: a payee IBAN means the buyer pays by SEPA credit transfer."""
NOT_DEFINED = "1"
"""UNTDID 4461 "Instrument not defined": no bank account to pay into (paid by card, say)."""
EXEMPT_REASON = "Exempt from VAT"
REVERSE_CHARGE_REASON = "Reverse charge"
REVERSE_CHARGE_CODE = "VATEX-EU-AE"


@dataclass(frozen=True, slots=True)
class VatCategory:
    """A UNTDID 5305 VAT category with its rate in percent and, for E and AE, the exemption reason (BT-120/121)."""

    code: str
    percent: Decimal
    reason: str | None = None
    reason_code: str | None = None


@dataclass(frozen=True, slots=True)
class Breakdown:
    """One VAT breakdown entry (BG-23): the document's tax groups merged per category and rate, as EN 16931 wants
    exactly one entry for each."""

    category: VatCategory
    taxable: Money
    tax: Money


def notes(doc: Document) -> list[str]:
    """BT-22: the credit note's reason (EN 16931 has no element of its own for it) and the document's note."""
    found = []
    if doc.kind is DocumentKind.CREDIT_NOTE and doc.reason:
        found.append(f"Reason: {doc.reason}")
    if doc.note:
        found.append(doc.note)
    return found


def reverse_charge(doc: Document) -> bool:
    """Seller and buyer both have VAT ids, of two different EU member states: an untaxed supply between them is
    reverse-charged to the buyer (category AE, which requires both VAT ids)."""
    if not doc.seller.vat_id or not doc.buyer.vat_id:
        return False
    seller, buyer = country_of(doc.seller.vat_id), country_of(doc.buyer.vat_id)
    return seller != buyer and seller in EU_MEMBER_STATES and buyer in EU_MEMBER_STATES


def vat_category(doc: Document, rate: Decimal, category: str | None, reason: str | None = None) -> VatCategory:
    """S for any positive rate; at 0: E when the category says exempt, AE between VAT-registered businesses of two
    EU member states, else Z (zero-rated)."""
    if rate > 0:
        return VatCategory("S", percent(rate))
    if category == "exempt":
        return VatCategory("E", Decimal("0.00"), reason or EXEMPT_REASON)
    if reverse_charge(doc):
        return VatCategory("AE", Decimal("0.00"), REVERSE_CHARGE_REASON, REVERSE_CHARGE_CODE)
    return VatCategory("Z", Decimal("0.00"))


def line_category(doc: Document, line: DocumentLine) -> VatCategory:
    return vat_category(doc, line.tax_rate, line.tax_category)


def group_category(doc: Document, group: TaxGroup) -> VatCategory:
    return vat_category(doc, group.rate, group.category, group.exemption_reason)


def breakdown(doc: Document) -> list[Breakdown]:
    """The tax groups merged per (category code, rate), in their first appearance's order."""
    merged: dict[tuple[str, Decimal], Breakdown] = {}
    for group in doc.tax_groups:
        category = group_category(doc, group)
        key = (category.code, category.percent)
        seen = merged.get(key)
        if seen is None:
            merged[key] = Breakdown(category, group.taxable, group.tax)
        else:
            merged[key] = Breakdown(seen.category, seen.taxable + group.taxable, seen.tax + group.tax)
    return list(merged.values())


def percent(rate: Decimal) -> Decimal:
    """A fraction (0.19) as the percent EN 16931 writes (19.00)."""
    return (rate * 100).quantize(Decimal("0.01"))


def amount(value: Money) -> str:
    """An amount with exactly the currency's decimals (never exponent notation)."""
    return f"{value.amount.quantize(quantum(value.currency)):f}"


def plain(value: Decimal) -> str:
    return f"{value:f}"


def gross_line(line: DocumentLine) -> Money:
    """Quantity x net unit price: the line amount before its discount (the allowance's base)."""
    return line.unit_price.times(line.quantity)


def line_total(doc: Document) -> Money:
    """Sum of the lines' net amounts (BT-106)."""
    total = Money.zero(doc.currency)
    for line in doc.lines:
        total = total + line.net
    return total


def cii_date(value: date) -> str:
    """Format 102 (CCYYMMDD)."""
    return value.strftime("%Y%m%d")


_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry (C0 controls, U+FFFE/U+FFFF): a product name that
    slipped one in must not make the whole e-invoice unrenderable."""
    return _NOT_XML.sub("", text)


def item_name(line: DocumentLine) -> str:
    """BT-153, never empty (BR-25): a name made only of blanks or of characters XML cannot carry falls back to the
    SKU, else to the line number."""
    return xml_text(line.name).strip() or line.sku or f"Line {line.line_no}"


def remittance(doc: Document) -> str:
    """BT-83: what the buyer writes on the transfer so that the payment finds this document."""
    return doc.number
