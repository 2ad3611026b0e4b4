"""Quote rules: the lifecycle, validity, numbers and totals."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.kit.money import Money
from oms_api.quotes import domain
from oms_api.quotes.domain import LineMoney, QuoteRefused, QuoteStatus

TODAY = date(2026, 12, 3)


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


@pytest.mark.parametrize(
    ("status", "target", "code"),
    [
        ("draft", QuoteStatus.ACCEPTED, "quote_not_sent"),
        ("draft", QuoteStatus.DECLINED, "quote_not_sent"),
        ("sent", QuoteStatus.SENT, "quote_sent"),
        ("accepted", QuoteStatus.ACCEPTED, "quote_accepted"),
        ("declined", QuoteStatus.ACCEPTED, "quote_declined"),
        ("expired", QuoteStatus.ACCEPTED, "quote_expired"),
        ("expired", QuoteStatus.DECLINED, "quote_expired"),
    ],
)
def test_a_quote_moves_only_along_its_lifecycle(status: str, target: QuoteStatus, code: str) -> None:
    with pytest.raises(QuoteRefused) as refused:
        domain.check_action(status, target, TODAY, TODAY)
    assert refused.value.code == code


def test_a_quote_may_be_accepted_on_its_last_valid_day_but_not_after() -> None:
    domain.check_action("sent", QuoteStatus.ACCEPTED, TODAY, TODAY)
    with pytest.raises(QuoteRefused) as refused:
        domain.check_action("sent", QuoteStatus.ACCEPTED, TODAY, date(2026, 12, 4))
    assert refused.value.code == "quote_expired"


def test_only_a_quote_past_its_validity_expires_and_only_a_valid_draft_is_sent() -> None:
    with pytest.raises(QuoteRefused, match="valid until"):
        domain.check_action("sent", QuoteStatus.EXPIRED, TODAY, TODAY)
    domain.check_action("sent", QuoteStatus.EXPIRED, TODAY, date(2026, 12, 4))
    with pytest.raises(QuoteRefused) as refused:
        domain.check_action("draft", QuoteStatus.SENT, date(2026, 12, 2), TODAY)
    assert refused.value.code == "validity_passed"


def test_only_drafts_are_editable() -> None:
    domain.check_editable("draft")
    for status in ("sent", "accepted", "declined", "expired"):
        with pytest.raises(QuoteRefused):
            domain.check_editable(status)


def test_allowed_transitions() -> None:
    assert domain.allowed("draft") == ["sent"]
    assert domain.allowed("sent") == ["accepted", "declined", "expired"]
    assert domain.allowed("accepted") == []


def test_held_stock_lapses_at_the_end_of_the_last_valid_day() -> None:
    assert domain.hold_expiry(date(2026, 12, 31)) == datetime(2027, 1, 1, tzinfo=UTC)


def test_validity_must_be_ahead_and_within_a_year() -> None:
    assert domain.validity_problem(TODAY, TODAY) is None
    assert domain.validity_problem(date(2026, 12, 2), TODAY) == "the validity date has passed"
    assert domain.validity_problem(date(2028, 1, 1), TODAY) is not None
    assert domain.default_validity(TODAY) == date(2027, 1, 2)


def test_numbers_are_readable() -> None:
    assert domain.number(2026, 123) == "Q-2026-000123"


def test_totals_add_the_lines_shipping_and_tax() -> None:
    lines = [
        LineMoney(3, eur("400.00"), eur("50.00"), eur("218.50")),
        LineMoney(2, eur("150.00"), eur("0.00"), eur("57.00")),
    ]
    totals = domain.totals("EUR", lines, eur("25.00"), eur("4.75"), tax_included=False)
    assert (totals.subtotal, totals.discount, totals.shipping, totals.tax, totals.grand_total) == (
        eur("1500.00"),
        eur("50.00"),
        eur("25.00"),
        eur("280.25"),
        eur("1755.25"),
    )
    included = domain.totals("EUR", lines, eur("25.00"), eur("4.75"), tax_included=True)
    assert included.grand_total == eur("1475.00")  # the tax is inside the prices
    assert included.tax == eur("280.25")


cents = st.integers(min_value=0, max_value=10_000_000)
lines_st = st.lists(
    st.tuples(st.integers(min_value=1, max_value=1000), cents, cents, cents).map(
        lambda t: LineMoney(
            t[0],
            Money.from_minor(t[1], "EUR"),
            Money.from_minor(min(t[2], t[0] * t[1]), "EUR"),
            Money.from_minor(t[3], "EUR"),
        )
    ),
    max_size=20,
)


@given(lines=lines_st, shipping=cents, shipping_tax=cents, included=st.booleans())
def test_the_grand_total_is_the_sum_of_its_parts(
    lines: list[LineMoney], shipping: int, shipping_tax: int, included: bool
) -> None:
    totals = domain.totals(
        "EUR", lines, Money.from_minor(shipping, "EUR"), Money.from_minor(shipping_tax, "EUR"), tax_included=included
    )
    line_values = sum((line.unit_price.amount * line.quantity - line.discount.amount for line in lines), Decimal(0))
    tax = sum((line.tax.amount for line in lines), Decimal(0)) + Money.from_minor(shipping_tax, "EUR").amount
    expected = line_values + Money.from_minor(shipping, "EUR").amount + (0 if included else tax)
    assert totals.grand_total.amount == expected
    assert totals.tax.amount == tax
    assert totals.subtotal.amount - totals.discount.amount == line_values
