"""What invoices bill (pure rules): pro rata per unit, the last invoice of a line taking the remainder, the shipping
on the first invoice; whatever shipments an order is split into, its invoices add up exactly to the order."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_api.invoices.domain import credits
from oms_api.invoices.domain.drafting import (
    Billed,
    NothingToInvoice,
    OrderFacts,
    OrderLineFacts,
    billed_of,
    derived_rate,
    draft,
    half_up,
    remaining,
)

RATES = ["0", "0.07", "0.19", "0.2", "0.055"]


def line(
    quantity: int, unit: int, discount: int = 0, rate: str = "0.19", cancelled: int = 0, included: bool = False
) -> OrderLineFacts:
    value = unit * quantity - discount
    r = Decimal(rate)
    tax = half_up(int(value * r * 10**6), int((1 + r) * 10**6)) if included else half_up(int(value * r * 10**6), 10**6)
    return OrderLineFacts(uuid.uuid4(), "SKU", "Mug", quantity, cancelled, unit, discount, tax, rate, "standard")


def order(*lines: OrderLineFacts, shipping: int = 490, shipping_tax: int = 93, included: bool = False) -> OrderFacts:
    return OrderFacts("EUR", included, tuple(lines), shipping, shipping_tax, "0.19")


def order_totals(facts: OrderFacts) -> tuple[int, int]:
    """(grand total, tax total) as orders compute them."""
    value = sum(x.unit_price_minor * x.quantity - x.discount_minor for x in facts.lines) + facts.shipping_minor
    tax = sum(x.tax_minor for x in facts.lines) + facts.shipping_tax_minor
    return (value if facts.prices_include_tax else value + tax), tax


def invoice_all(facts: OrderFacts, shipments: list[dict[uuid.UUID, int]]) -> list[tuple[int, int, int]]:
    """(total, tax, net) of each invoice of ``shipments`` in turn."""
    billed: dict[uuid.UUID, Billed] = {}
    shipped_shipping = False
    out = []
    for units in shipments:
        try:
            d = draft(facts, units, billed, with_shipping=not shipped_shipping)
        except NothingToInvoice:
            continue
        shipped_shipping = True
        for x in d.lines:
            assert x.net_minor == x.quantity * x.unit_price_minor - x.discount_minor
            assert x.discount_minor >= 0
            assert x.tax_minor >= 0
            assert x.net_minor >= 0 or facts.prices_include_tax
            if x.order_line_id is not None:
                old = billed.get(x.order_line_id, Billed())
                billed[x.order_line_id] = old.plus(
                    billed_of(x.quantity, x.net_minor, x.tax_minor, facts.prices_include_tax)
                )
        assert d.total_minor == d.subtotal_minor + d.shipping_minor + d.tax_minor
        assert sum(g.tax_minor for g in d.breakdown) == d.tax_minor
        assert sum(g.taxable_minor for g in d.breakdown) == d.subtotal_minor + d.shipping_minor
        out.append((d.total_minor, d.tax_minor, d.subtotal_minor + d.shipping_minor))
    assert remaining(facts, billed) == {}
    return out


def test_a_whole_order_is_one_invoice_equal_to_the_order() -> None:
    facts = order(line(3, 1000, 100), line(1, 700, rate="0.07"))
    [(total, tax, _)] = invoice_all(facts, [{x.id: x.quantity for x in facts.lines}])
    assert (total, tax) == order_totals(facts) == (4783, 693)


def test_a_part_of_a_line_is_billed_pro_rata_and_the_last_part_takes_the_remainder() -> None:
    mugs = line(3, 1000, 100)  # 29.00 + 5.51
    facts = order(mugs, shipping=0, shipping_tax=0)
    first = draft(facts, {mugs.id: 1}, {}, with_shipping=True)
    assert [(x.net_minor, x.tax_minor, x.discount_minor) for x in first.lines] == [(967, 184, 33)]
    billed = {mugs.id: billed_of(1, 967, 184, False)}
    rest = draft(facts, {mugs.id: 5}, billed, with_shipping=False)  # asks more than remains: the remainder
    assert [(x.quantity, x.net_minor, x.tax_minor) for x in rest.lines] == [(2, 1933, 367)]


def test_nothing_left_is_nothing_to_invoice() -> None:
    facts = order(line(1, 500), shipping=0, shipping_tax=0)
    with pytest.raises(NothingToInvoice):
        draft(facts, {}, {}, with_shipping=True)


def test_cancelled_units_are_never_billed() -> None:
    mugs = line(4, 1000, rate="0.19", cancelled=1)
    facts = order(mugs, shipping=0, shipping_tax=0)
    assert remaining(facts, {}) == {mugs.id: 3}
    [(_, tax, net)] = invoice_all(facts, [{mugs.id: 4}])
    assert (net, tax) == (3000, 570)


def test_tax_inclusive_lines_are_stated_net_exactly() -> None:
    mugs = line(3, 1190, 0, "0.19", included=True)  # 35.70 gross, 5.70 tax
    facts = order(mugs, shipping=590, shipping_tax=94, included=True)
    d = draft(facts, {mugs.id: 3}, {}, with_shipping=True)
    item, shipping = d.lines
    assert (item.net_minor, item.tax_minor, item.total_minor) == (3000, 570, 3570)
    assert (shipping.net_minor, shipping.tax_minor, shipping.total_minor) == (496, 94, 590)
    assert d.total_minor == order_totals(facts)[0]


def test_a_given_tax_is_read_as_the_orders_rate_that_gives_it() -> None:
    assert derived_rate(93, 490, ["0.07", "0.19"]) == "0.19"
    assert derived_rate(93, 490) == "0.1898"
    assert derived_rate(0, 490) == "0"


@st.composite
def orders_and_shipments(draw: st.DrawFn) -> tuple[OrderFacts, list[dict[uuid.UUID, int]]]:
    included = draw(st.booleans())
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        quantity = draw(st.integers(1, 12))
        unit = draw(st.integers(0, 100_000) | st.integers(0, 5))
        discount = draw(st.integers(0, unit * quantity))
        cancelled = draw(st.integers(0, quantity - 1)) if draw(st.booleans()) else 0
        lines.append(line(quantity, unit, discount, draw(st.sampled_from(RATES)), cancelled, included))
    shipping = draw(st.integers(0, 5000))
    rate = Decimal(draw(st.sampled_from(RATES)))
    shipping_tax = half_up(int(shipping * rate * 10**6), int((1 + rate) * 10**6) if included else 10**6)
    facts = order(*lines, shipping=shipping, shipping_tax=shipping_tax, included=included)
    # every billable unit goes into one of up to 5 shipments, in any order
    shipments: list[dict[uuid.UUID, int]] = [{} for _ in range(draw(st.integers(1, 5)))]
    for x in lines:
        for _ in range(x.billable):
            target = shipments[draw(st.integers(0, len(shipments) - 1))]
            target[x.id] = target.get(x.id, 0) + 1
    return facts, shipments


@settings(max_examples=300, deadline=None)
@given(orders_and_shipments())
def test_the_invoices_of_an_order_split_into_any_shipments_add_up_exactly_to_the_order(
    case: tuple[OrderFacts, list[dict[uuid.UUID, int]]],
) -> None:
    facts, shipments = case
    invoices = invoice_all(facts, shipments)
    if all(x.cancelled == 0 for x in facts.lines):
        assert (sum(t for t, _, _ in invoices), sum(t for _, t, _ in invoices)) == order_totals(facts)
    else:  # cancelled units: the order's figures less their pro rata share, never more than the order
        assert sum(t for t, _, _ in invoices) <= order_totals(facts)[0]


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 20), st.integers(0, 10**7), st.integers(0, 10**6), st.data())
def test_crediting_a_line_in_any_steps_gives_back_exactly_the_line(
    quantity: int, net: int, tax: int, data: st.DataObject
) -> None:
    facts = credits.InvoiceLineFacts(uuid.uuid4(), "item", None, "Mug", quantity, net, tax, "0.19", None)
    before = credits.Credited()
    while before.quantity < quantity:
        units = data.draw(st.integers(1, quantity - before.quantity))
        got = credits.line_credit(facts, units, before, "/body")
        assert got.net_minor >= 0
        assert got.tax_minor >= 0
        before = credits.Credited(
            before.quantity + units, before.net_minor + got.net_minor, before.tax_minor + got.tax_minor
        )
    assert (before.net_minor, before.tax_minor) == (net, tax)
    with pytest.raises(credits.CreditRefused):
        credits.line_credit(facts, 1, before, "/body")
