"""What a credit note gives back: units of invoice lines (pro rata, tax included), the shipping, or a free amount at
one of the invoice's rates; never more than remains uncredited, per line and in total.

A part of an invoice line is credited pro rata per unit (the running total rounded half up, so no part
overshoots); the credit that takes the last units of a line takes what remains of its net and tax, so that
crediting a line in any number of steps gives back exactly the line."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from oms_api.invoices.domain.drafting import DraftLine, half_up, rate_text


@dataclass(frozen=True, slots=True)
class InvoiceLineFacts:
    id: uuid.UUID
    kind: str
    sku: str | None
    name: str
    quantity: int
    net_minor: int
    tax_minor: int
    tax_rate: str
    tax_category: str | None


@dataclass(frozen=True, slots=True)
class Credited:
    """What earlier credit notes gave back of one invoice line."""

    quantity: int = 0
    net_minor: int = 0
    tax_minor: int = 0


class CreditRefused(ValueError):
    """A credit that cannot be: ``pointer`` names the field of the request, ``code`` the reason."""

    def __init__(self, pointer: str, message: str, code: str) -> None:
        self.pointer, self.code = pointer, code
        super().__init__(message)


def line_credit(line: InvoiceLineFacts, units: int, before: Credited, pointer: str) -> DraftLine:
    """``units`` of ``line`` given back (``before``: what was credited of it already)."""
    left = line.quantity - before.quantity
    if units > left:
        raise CreditRefused(
            pointer, f"only {left} of this line's {line.quantity} units are left to credit", "credit_exceeds_invoice"
        )
    if before.quantity + units == line.quantity:
        net, tax = line.net_minor - before.net_minor, line.tax_minor - before.tax_minor
    else:  # the running total rounded, not each part: no part overshoots what the line has left
        upto = before.quantity + units
        net = max(half_up(line.net_minor * upto, line.quantity) - before.net_minor, 0)
        tax = max(half_up(line.tax_minor * upto, line.quantity) - before.tax_minor, 0)
    unit = half_up(net, units) if units else 0
    return DraftLine(
        kind=line.kind,
        order_line_id=line.id,  # for a credit note line: the invoice line it gives back
        sku=line.sku,
        name=line.name,
        quantity=units,
        unit_price_minor=unit,
        discount_minor=unit * units - net,
        net_minor=net,
        tax_rate=line.tax_rate,
        tax_category=line.tax_category,
        tax_minor=tax,
    )


def amount_credit(gross_minor: int, rate: Decimal, rates: dict[str, str | None], pointer: str) -> DraftLine:
    """A free amount (tax included) at one of the invoice's rates: its tax is the part of it the rate makes up."""
    text = rate_text(rate)
    if text not in rates:
        raise CreditRefused(pointer, f"the invoice has no tax rate {text}", "tax_rate_not_on_invoice")
    tax = half_up(gross_minor * int(rate * 10**6), 10**6 + int(rate * 10**6))
    net = gross_minor - tax
    return DraftLine("amount", None, None, "Correction", 1, net, 0, net, text, rates[text], tax)


def check_total(total_minor: int, invoice_total_minor: int, credited_minor: int) -> None:
    left = invoice_total_minor - credited_minor
    if total_minor > left:
        raise CreditRefused(
            "/body",
            f"the credit note would give back {total_minor} minor units; {left} remain",
            "credit_exceeds_invoice",
        )
    if total_minor <= 0:
        raise CreditRefused("/body", "the credit note gives nothing back", "empty_credit_note")
