"""Issued invoices and credit notes as renderers see them (``invoices.domain.document.Document``), built from a few
line specs with sums that add up the way issuing makes them (net per line, tax per line, groups per rate)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from oms_api.invoices.domain.document import (
    Address,
    BaseTotals,
    Corrected,
    Document,
    DocumentKind,
    DocumentLine,
    LineKind,
    Party,
    TaxGroup,
    Terms,
)
from oms_api.kit.money import Money

SELLER = Party(
    name="Anna Schmidt",
    company="Nordlicht Handel GmbH",
    vat_id="DE136695976",
    registration_id="HRB 12345",
    email="billing@nordlicht.example",
    address=Address(line1="Hafenstraße 12", city="Hamburg", postal_code="20457", country="DE"),
    iban="DE89370400440532013000",
    bic="COBADEFFXXX",
)
DOMESTIC_BUYER = Party(
    name="Jörg Weiß",
    company="Weiß & Söhne KG",
    vat_id="DE811128135",
    email="ap@weiss.example",
    address=Address(line1="Königsallee 1", line2="3. OG", city="Düsseldorf", postal_code="40212", country="DE"),
)
FRENCH_BUYER = Party(
    name="Élodie Martin",
    company="Martin SARL",
    vat_id="FR40303265045",
    email="compta@martin.example",
    address=Address(line1="12 rue de la Paix", city="Paris", postal_code="75002", country="FR"),
)


@dataclass(frozen=True)
class Spec:
    name: str
    quantity: int
    unit_price: str
    rate: str
    category: str | None = None
    discount: str = "0"
    sku: str | None = None
    kind: LineKind = LineKind.ITEM


MIXED = (
    Spec("Espresso machine", 1, "499.00", "0.19", "standard", discount="49.90", sku="ESP-01"),
    Spec("Coffee beans 1 kg", 3, "18.69", "0.07", "reduced", sku="BEAN-1KG"),
    Spec("Barista course (exempt)", 2, "120.00", "0", "exempt", sku="COURSE"),
    Spec("Shipping", 1, "5.90", "0.19", "standard", kind=LineKind.SHIPPING),
)


def document(
    specs: tuple[Spec, ...] = MIXED,
    *,
    currency: str = "EUR",
    base_currency: str | None = None,
    fx_rate: str = "1.0850",
    kind: DocumentKind = DocumentKind.INVOICE,
    number: str = "INV-2026-000042",
    buyer: Party = DOMESTIC_BUYER,
    seller: Party = SELLER,
    paid: str = "0",
    issue_date: date = date(2026, 11, 20),
) -> Document:
    lines = []
    groups: dict[tuple[Decimal, str | None], tuple[Money, Money]] = {}
    for line_no, spec in enumerate(specs, start=1):
        unit = Money.of(spec.unit_price, currency)
        discount = Money.of(spec.discount, currency)
        net = unit.times(spec.quantity) - discount
        rate = Decimal(spec.rate)
        tax = net.times(rate)
        line = DocumentLine(
            line_no=line_no,
            kind=spec.kind,
            name=spec.name,
            sku=spec.sku,
            quantity=spec.quantity,
            unit_price=unit,
            discount=discount,
            net=net,
            tax_rate=rate,
            tax_category=spec.category,
            tax=tax,
            total=net + tax,
        )
        lines.append(line)
        taxable, taxed = groups.get((rate, spec.category), (Money.zero(currency), Money.zero(currency)))
        groups[(rate, spec.category)] = (taxable + net, taxed + tax)
    tax_groups = tuple(TaxGroup(rate, category, taxable, tax) for (rate, category), (taxable, tax) in groups.items())
    net_total = sum((line.net for line in lines), Money.zero(currency))
    tax_total = sum((group.tax for group in tax_groups), Money.zero(currency))
    base = None
    if base_currency is not None and base_currency != currency:
        rate = Decimal(fx_rate)
        base_net = _convert(net_total, rate, base_currency)
        base_tax = _convert(tax_total, rate, base_currency)
        base = BaseTotals(base_currency, rate, issue_date, base_net, base_tax, base_net + base_tax)
    credit = kind is DocumentKind.CREDIT_NOTE
    return Document(
        kind=kind,
        number=number,
        issue_date=issue_date,
        currency=currency,
        seller=seller,
        buyer=buyer,
        lines=tuple(lines),
        tax_groups=tax_groups,
        net_total=net_total,
        tax_total=tax_total,
        grand_total=net_total + tax_total,
        paid=Money.of(paid, currency),
        due_date=None if credit else date(2026, 12, 20),
        terms=None if credit else Terms("Net 30", Decimal("2"), date(2026, 11, 30)),
        base=base,
        corrects=Corrected("INV-2026-000042", date(2026, 11, 20)) if credit else None,
        order_ref="ORD-10077",
        reason="Returned damaged goods" if credit else None,
        shipping_address=Address(line1="Lager 4, Industriestraße 9", city="Neuss", postal_code="41460", country="DE"),
    )


def _convert(value: Money, rate: Decimal, currency: str) -> Money:
    return Money(value.amount * rate, currency).times(1)


def credit_note(base_currency: str | None = None, **overrides: object) -> Document:
    """A credit note for the espresso machine of ``document()``'s invoice (its rate: the invoice's)."""
    specs = (Spec("Espresso machine", 1, "449.10", "0.19", "standard", sku="ESP-01"),)
    doc = document(specs, kind=DocumentKind.CREDIT_NOTE, number="CN-2026-000007", issue_date=date(2026, 11, 28),
                   base_currency=base_currency)  # fmt: skip
    return replace(doc, **overrides)  # type: ignore[arg-type]


def many_lines(count: int) -> Document:
    specs = tuple(Spec(f"Spare part no. {n}", n % 5 + 1, "3.25", "0.19", "standard", sku=f"SP-{n:04d}")
                  for n in range(1, count + 1))  # fmt: skip
    return document(specs)
