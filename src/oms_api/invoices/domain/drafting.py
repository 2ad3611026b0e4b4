"""What an invoice bills: units of the order's lines at their order prices, and the shipping on the first invoice.

A part of an order line is billed pro rata per unit: ``quantity x unit price`` is exact, and the line's discount
and tax are shared out per unit, the running total rounded half up (so that no part overshoots). The invoice that
completes a line (all of its units that were not cancelled) takes what remains of them instead, so that the
invoices of a fully shipped order add up exactly to the order, in total and in tax, whichever way it was split.
The shipping charge (net and tax) goes on the order's first invoice.

Invoice lines are stated net of tax (EN 16931: the net price is before VAT): ``net = quantity x unit price -
discount``. For a tax-inclusive order the net is the value less its tax, and the unit price is the net per unit
rounded up, the difference (less than one minor unit per unit) shown in the discount, so that the equation stays
exact in minor units.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SHIPPING_CATEGORY = "shipping"


@dataclass(frozen=True, slots=True)
class OrderLineFacts:
    """An order line as invoicing reads it: the whole line, every amount in minor units."""

    id: uuid.UUID
    sku: str | None
    name: str
    quantity: int
    cancelled: int
    unit_price_minor: int
    """As sold: before tax, or including it on a tax-inclusive order."""
    discount_minor: int
    tax_minor: int
    tax_rate: str | None
    """Decimal fraction as text; None or empty when the order was given the tax, not a rate."""
    tax_category: str | None

    @property
    def billable(self) -> int:
        """The units that are billed at all: ordered less cancelled."""
        return max(self.quantity - self.cancelled, 0)


@dataclass(frozen=True, slots=True)
class OrderFacts:
    currency: str
    prices_include_tax: bool
    lines: tuple[OrderLineFacts, ...]
    shipping_minor: int
    """The shipping charge as the order states it (including its tax on a tax-inclusive order)."""
    shipping_tax_minor: int
    shipping_tax_rate: str | None


@dataclass(frozen=True, slots=True)
class Billed:
    """What the invoices so far (drafts included) bill of one order line."""

    quantity: int = 0
    value_minor: int = 0
    """``quantity x unit price - discount`` as sold (including tax on a tax-inclusive order)."""
    tax_minor: int = 0

    def plus(self, other: Billed) -> Billed:
        return Billed(
            self.quantity + other.quantity, self.value_minor + other.value_minor, self.tax_minor + other.tax_minor
        )


@dataclass(frozen=True, slots=True)
class DraftLine:
    kind: str
    """item or shipping."""
    order_line_id: uuid.UUID | None
    sku: str | None
    name: str
    quantity: int
    unit_price_minor: int
    discount_minor: int
    net_minor: int
    tax_rate: str
    tax_category: str | None
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.tax_minor


@dataclass(frozen=True, slots=True)
class TaxGroup:
    rate: str
    category: str | None
    taxable_minor: int
    tax_minor: int

    def to_json(self) -> dict[str, object]:
        return {
            "rate": self.rate,
            "category": self.category,
            "taxable_minor": self.taxable_minor,
            "tax_minor": self.tax_minor,
        }


@dataclass(frozen=True, slots=True)
class Draft:
    lines: tuple[DraftLine, ...]
    subtotal_minor: int
    """Net of the item lines."""
    shipping_minor: int
    """Net of the shipping line."""
    tax_minor: int
    total_minor: int
    breakdown: tuple[TaxGroup, ...]


class NothingToInvoice(ValueError):
    """Every unit asked for is billed already (or cancelled), and the shipping too."""


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up (away from zero for halves), for a positive denominator."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    sign = -1 if numerator < 0 else 1
    return sign * ((2 * abs(numerator) + denominator) // (2 * denominator))


def _ceil_div(numerator: int, denominator: int) -> int:
    return -((-numerator) // denominator)


def rate_text(rate: Decimal) -> str:
    """A rate as stored: a plain decimal fraction without trailing zeros (``0.19``, ``0``)."""
    text = format(rate.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".") or "0"


def derived_rate(tax_minor: int, net_minor: int, known: Iterable[str] = ()) -> str:
    """The rate a given tax amounts to (a storefront's order gives taxes, not rates): the first of the order's
    ``known`` rates that gives exactly this tax on this net (half up), else the quotient to four decimals."""
    if tax_minor == 0 or net_minor == 0:
        return "0"
    for text in known:
        if text and half_up(int(net_minor * Decimal(text) * 10**6), 10**6) == tax_minor:
            return rate_text(Decimal(text))
    return rate_text((Decimal(tax_minor) / Decimal(net_minor)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def line_rate(line: OrderLineFacts, value_minor: int, tax_minor: int, included: bool) -> str:
    if line.tax_rate:
        return rate_text(Decimal(line.tax_rate))
    return derived_rate(tax_minor, value_minor - tax_minor if included else value_minor)


def remaining(order: OrderFacts, billed: Mapping[uuid.UUID, Billed]) -> dict[uuid.UUID, int]:
    """Per order line, the units not billed yet and not cancelled (lines with none left are left out)."""
    left = {line.id: line.billable - billed.get(line.id, Billed()).quantity for line in order.lines}
    return {line_id: units for line_id, units in left.items() if units > 0}


def _share(whole: int, line: OrderLineFacts, units: int, before: Billed, before_amount: int, completes: bool) -> int:
    """The part of ``whole`` (a line's discount or tax) that ``units`` more units carry, after ``before`` billed
    ``before_amount`` of it: the line's share of its first units, pro rata and rounded half up, less what was billed
    (rounding the running total, not each part, so that parts never overshoot); the units that complete the line
    take what its billable units carry less what was billed before."""
    if completes:
        billable_part = whole if line.cancelled == 0 else half_up(whole * line.billable, line.quantity)
        return billable_part - before_amount
    target = half_up(whole * (before.quantity + units), line.quantity)
    return max(target - before_amount, 0)


def item_line(line: OrderLineFacts, units: int, billed: Billed, included: bool) -> DraftLine:
    """``units`` of ``line`` as an invoice line (``billed``: what earlier invoices bill of it)."""
    completes = billed.quantity + units >= line.billable
    gross = line.unit_price_minor * units
    discount_before = line.unit_price_minor * billed.quantity - billed.value_minor
    discount = _share(line.discount_minor, line, units, billed, discount_before, completes)
    tax = _share(line.tax_minor, line, units, billed, billed.tax_minor, completes)
    value = gross - discount
    net = value - tax if included else value
    if included:  # state the line net of tax, exactly: net = units x unit - discount
        base = net + (half_up(discount * net, value) if value > 0 and discount > 0 else discount)
        unit = _ceil_div(base, units) if base > 0 else 0
        net_discount = unit * units - net
    else:
        unit, net_discount = line.unit_price_minor, discount
    return DraftLine(
        kind="item",
        order_line_id=line.id,
        sku=line.sku,
        name=line.name,
        quantity=units,
        unit_price_minor=unit,
        discount_minor=net_discount,
        net_minor=net,
        tax_rate=line_rate(line, value, tax, included),
        tax_category=line.tax_category,
        tax_minor=tax,
    )


def shipping_line(order: OrderFacts) -> DraftLine | None:
    """The order's shipping charge as one line (None when it charges nothing)."""
    if order.shipping_minor == 0 and order.shipping_tax_minor == 0:
        return None
    tax = order.shipping_tax_minor
    net = order.shipping_minor - tax if order.prices_include_tax else order.shipping_minor
    known = [line.tax_rate or "" for line in order.lines]
    rate = rate_text(Decimal(order.shipping_tax_rate)) if order.shipping_tax_rate else derived_rate(tax, net, known)
    return DraftLine("shipping", None, None, "Shipping", 1, net, 0, net, rate, None, tax)


def draft(
    order: OrderFacts,
    units: Mapping[uuid.UUID, int],
    billed: Mapping[uuid.UUID, Billed],
    *,
    with_shipping: bool,
) -> Draft:
    """The invoice of ``units`` (order line id -> units, never more than remain) and, ``with_shipping``, the
    shipping charge. ``NothingToInvoice`` when that bills nothing at all."""
    left = remaining(order, billed)
    lines: list[DraftLine] = []
    for line in order.lines:
        wanted = min(units.get(line.id, 0), left.get(line.id, 0))
        if wanted > 0:
            lines.append(item_line(line, wanted, billed.get(line.id, Billed()), order.prices_include_tax))
    shipping = shipping_line(order) if with_shipping else None
    if shipping is not None:
        lines.append(shipping)
    if not lines:
        raise NothingToInvoice("nothing of this is left to invoice")
    return summed(lines)


def summed(lines: Sequence[DraftLine]) -> Draft:
    """The totals and the tax breakdown of ``lines``."""
    items = [line for line in lines if line.kind != "shipping"]
    return Draft(
        lines=tuple(lines),
        subtotal_minor=sum(line.net_minor for line in items),
        shipping_minor=sum(line.net_minor for line in lines if line.kind == "shipping"),
        tax_minor=sum(line.tax_minor for line in lines),
        total_minor=sum(line.total_minor for line in lines),
        breakdown=breakdown(lines),
    )


def breakdown(lines: Iterable[DraftLine]) -> tuple[TaxGroup, ...]:
    """Tax per rate (EN 16931 wants one group per rate and category): a line without a category of its own (the
    shipping) joins the category of the items at its rate."""
    lines = list(lines)
    category_of: dict[str, str | None] = {}
    for line in lines:
        if line.tax_category and line.tax_rate not in category_of:
            category_of[line.tax_rate] = line.tax_category
    taxable: dict[str, int] = defaultdict(int)
    tax: dict[str, int] = defaultdict(int)
    for line in lines:
        taxable[line.tax_rate] += line.net_minor
        tax[line.tax_rate] += line.tax_minor
    ordered = sorted(taxable, key=Decimal)
    return tuple(TaxGroup(rate, category_of.get(rate), taxable[rate], tax[rate]) for rate in ordered)


def billed_of(quantity: int, net_minor: int, tax_minor: int, prices_include_tax: bool) -> Billed:
    """What one existing invoice line bills, in the terms of ``Billed`` (its value as sold)."""
    return Billed(quantity, net_minor + tax_minor if prices_include_tax else net_minor, tax_minor)
