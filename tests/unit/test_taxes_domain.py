"""Tax arithmetic and rate resolution (taxes.domain): per-line rounding on both price bases, the breakdown per
rate, and which rate applies where and when."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.kit.money import Money, exponent, round_money
from oms_api.taxes.domain import (
    BreakdownEntry,
    RateRule,
    ResolvedRate,
    TaxedLine,
    TaxRules,
    breakdown,
    check_rate,
    line_tax,
    overlaps,
    rate_text,
    resolve,
)

CURRENCIES = ["EUR", "JPY", "KWD", "USD", "CLF"]
rates = st.integers(min_value=0, max_value=999_999).map(lambda ppm: Decimal(ppm).scaleb(-6))
bases = st.sampled_from(["tax_exclusive", "tax_inclusive"])


@st.composite
def amounts(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(st.sampled_from(CURRENCIES))
    minor = draw(st.integers(min_value=0, max_value=99_999_999_999))
    return Money.from_minor(minor, code)


def exact_half_up(value: Fraction, currency: str) -> Decimal:
    """Half-up rounding of an exact rational to the currency's minor unit, by integer arithmetic (a second
    opinion that shares no code with the module under test)."""
    scaled = value * 10 ** exponent(currency)
    units = (scaled.numerator * 2 + scaled.denominator) // (2 * scaled.denominator)
    return Decimal(units).scaleb(-exponent(currency))


# --- invariants --------------------------------------------------------------------------------------------------


@given(amount=amounts(), rate=rates)
def test_inclusive_net_plus_tax_is_the_price_exactly(amount: Money, rate: Decimal) -> None:
    taxed = line_tax(amount, rate, "tax_inclusive")
    assert taxed.gross == amount
    assert taxed.net + taxed.tax == taxed.gross
    exact = Fraction(amount.amount) * Fraction(rate) / (1 + Fraction(rate))
    assert taxed.tax.amount == exact_half_up(exact, amount.currency)
    assert min(taxed.tax.minor, taxed.net.minor) >= 0


@given(amount=amounts(), rate=rates)
def test_exclusive_tax_is_the_rounded_net_times_rate(amount: Money, rate: Decimal) -> None:
    taxed = line_tax(amount, rate, "tax_exclusive")
    assert taxed.net == amount
    assert taxed.tax.amount == round_money(amount.amount * rate, amount.currency)
    assert taxed.tax.amount == exact_half_up(Fraction(amount.amount) * Fraction(rate), amount.currency)
    assert taxed.gross == taxed.net + taxed.tax


@given(amount=amounts(), rate=rates, basis=bases)
def test_figures_have_exactly_the_currency_decimals(amount: Money, rate: Decimal, basis: str) -> None:
    taxed = line_tax(amount, rate, basis)  # type: ignore[arg-type]
    for figure in (taxed.net, taxed.tax, taxed.gross):
        assert figure.currency == amount.currency
        assert -figure.amount.as_tuple().exponent == exponent(amount.currency)  # type: ignore[operator]


@given(
    lines=st.lists(
        st.tuples(
            amounts("EUR"),
            st.sampled_from([Decimal("0.19"), Decimal("0.07"), Decimal("0.190"), Decimal(0)]),
            st.sampled_from(["standard", "reduced", "books", "exempt"]),
        ),
        max_size=30,
    ),
    basis=bases,
)
def test_the_breakdown_adds_up_to_the_lines(lines: list[tuple[Money, Decimal, str]], basis: str) -> None:
    taxed = [
        TaxedLine.of(
            ResolvedRate(rate, category, "r", None, exempt=category == "exempt"),
            line_tax(amount, rate, basis),  # type: ignore[arg-type]
        )
        for amount, rate, category in lines
    ]
    entries = breakdown(taxed)
    assert sum((e.taxable.amount for e in entries), Decimal(0)) == sum((t.net.amount for t in taxed), Decimal(0))
    assert sum((e.tax.amount for e in entries), Decimal(0)) == sum((t.tax.amount for t in taxed), Decimal(0))
    keys = [(e.rate, e.category) for e in entries]
    assert len(keys) == len(set(keys)), "one entry per rate and category (0.19 and 0.190 are one rate)"
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1]))
    for entry in entries:
        mine = [t for t in taxed if t.rate == entry.rate and t.category == entry.category]
        assert entry.taxable.amount == sum((t.net.amount for t in mine), Decimal(0))
        assert entry.exempt == (entry.category == "exempt")


# --- awkward amounts, both bases ---------------------------------------------------------------------------------

CASES = [
    # currency, amount, rate, basis, net, tax, gross
    ("EUR", "19.99", "0.19", "tax_inclusive", "16.80", "3.19", "19.99"),
    ("EUR", "19.99", "0.19", "tax_exclusive", "19.99", "3.80", "23.79"),
    ("EUR", "0.33", "0.07", "tax_exclusive", "0.33", "0.02", "0.35"),
    ("EUR", "0.33", "0.07", "tax_inclusive", "0.31", "0.02", "0.33"),
    ("JPY", "1000", "0.10", "tax_inclusive", "909", "91", "1000"),
    ("JPY", "1000", "0.10", "tax_exclusive", "1000", "100", "1100"),
    ("KWD", "1.005", "0.05", "tax_exclusive", "1.005", "0.050", "1.055"),
    ("KWD", "1.005", "0.05", "tax_inclusive", "0.957", "0.048", "1.005"),
    # exactly half a minor unit: rounded up
    ("EUR", "0.10", "0.05", "tax_exclusive", "0.10", "0.01", "0.11"),
    ("EUR", "0.50", "0.19", "tax_exclusive", "0.50", "0.10", "0.60"),
    ("EUR", "0.03", "0.2", "tax_inclusive", "0.02", "0.01", "0.03"),
    ("EUR", "0.09", "0.2", "tax_inclusive", "0.07", "0.02", "0.09"),
    ("JPY", "5", "0.1", "tax_exclusive", "5", "1", "6"),
    ("JPY", "3", "0.2", "tax_inclusive", "2", "1", "3"),
    ("KWD", "0.010", "0.05", "tax_exclusive", "0.010", "0.001", "0.011"),
    # just below half: rounded down
    ("EUR", "0.49", "0.01", "tax_exclusive", "0.49", "0.00", "0.49"),
    # zero rate and zero amount
    ("EUR", "10.00", "0", "tax_inclusive", "10.00", "0.00", "10.00"),
    ("EUR", "0.00", "0.19", "tax_exclusive", "0.00", "0.00", "0.00"),
    ("USD", "99.99", "0.0725", "tax_exclusive", "99.99", "7.25", "107.24"),
]


@pytest.mark.parametrize(("currency", "amount", "rate", "basis", "net", "tax", "gross"), CASES)
def test_awkward_amounts(currency: str, amount: str, rate: str, basis: str, net: str, tax: str, gross: str) -> None:
    taxed = line_tax(Money.of(amount, currency), Decimal(rate), basis)  # type: ignore[arg-type]
    assert (str(taxed.net.amount), str(taxed.tax.amount), str(taxed.gross.amount)) == (net, tax, gross)


def test_three_lines_of_0_33_at_7_percent_are_rounded_per_line() -> None:
    """Per-line rounding: 0.02 on each line, 0.06 in all (a total rounded once would say 0.07)."""
    lines = [line_tax(Money.of("0.33", "EUR"), Decimal("0.07"), "tax_exclusive") for _ in range(3)]
    reduced = ResolvedRate(Decimal("0.07"), "reduced", "DE VAT 7%", None)
    (entry,) = breakdown(TaxedLine.of(reduced, line) for line in lines)
    assert entry == BreakdownEntry(
        rate=Decimal("0.07"),
        category="reduced",
        exempt=False,
        taxable=Money.of("0.99", "EUR"),
        tax=Money.of("0.06", "EUR"),
    )
    assert entry.to_json() == {
        "rate": "0.07",
        "category": "reduced",
        "exempt": False,
        "taxable_minor": 99,
        "tax_minor": 6,
    }


def test_an_order_breakdown_lists_the_highest_rate_first_and_flags_exempt_lines() -> None:
    def taxed(amount: str, rate: str, category: str) -> TaxedLine:
        resolved = ResolvedRate(Decimal(rate), category, "x", None, exempt=category == "exempt")
        return TaxedLine.of(resolved, line_tax(Money.of(amount, "EUR"), Decimal(rate), "tax_inclusive"))

    entries = breakdown(
        [
            taxed("10.70", "0.07", "reduced"),
            taxed("11.90", "0.19", "standard"),
            taxed("5.00", "0", "exempt"),
            taxed("3.00", "0", "zero"),
            taxed("23.80", "0.19", "standard"),
        ]
    )
    assert [(rate_text(e.rate), e.category, e.exempt, str(e.taxable.amount), str(e.tax.amount)) for e in entries] == [
        ("0.19", "standard", False, "30.00", "5.70"),
        ("0.07", "reduced", False, "10.00", "0.70"),
        ("0", "exempt", True, "5.00", "0.00"),
        ("0", "zero", False, "3.00", "0.00"),
    ]


def test_a_breakdown_of_nothing_is_empty_and_currencies_do_not_mix() -> None:
    assert breakdown([]) == []
    rate = ResolvedRate(Decimal("0.19"), "standard", "x", None)
    mixed = [
        TaxedLine.of(rate, line_tax(Money.of("1.00", "EUR"), rate.rate, "tax_exclusive")),
        TaxedLine.of(rate, line_tax(Money.of("1.00", "USD"), rate.rate, "tax_exclusive")),
    ]
    with pytest.raises(ValueError, match="cannot combine"):
        breakdown(mixed)


@pytest.mark.parametrize("rate", ["1", "1.5", "-0.01", "0.1234567", "NaN"])
def test_the_rate_table_refuses_a_rate_outside_0_to_1_or_finer_than_millionths(rate: str) -> None:
    with pytest.raises(ValueError, match="tax rate"):
        check_rate(Decimal(rate))


@pytest.mark.parametrize("rate", ["1.5", "-0.01", "NaN", "Infinity"])
def test_a_line_refuses_a_rate_outside_0_to_1(rate: str) -> None:
    with pytest.raises(ValueError, match="tax rate"):
        line_tax(Money.of("1.00", "EUR"), Decimal(rate), "tax_exclusive")


def test_a_line_takes_a_rate_an_order_gives_up_to_1() -> None:
    """Orders may give their own rate (up to 1, any precision); the rate table's rates are below 1."""
    assert line_tax(Money.of("10.00", "EUR"), Decimal(1), "tax_inclusive").tax == Money.of("5.00", "EUR")
    assert line_tax(Money.of("10.00", "EUR"), Decimal("0.1234567"), "tax_exclusive").tax == Money.of("1.23", "EUR")


def test_rates_are_spelled_shortest() -> None:
    assert [rate_text(Decimal(r)) for r in ("0.190000", "0.055", "0", "0.000001", "0.1")] == [
        "0.19",
        "0.055",
        "0",
        "0.000001",
        "0.1",
    ]


# --- which rate applies ------------------------------------------------------------------------------------------


def rule(
    category: str,
    rate: str,
    valid_from: date,
    valid_to: date | None = None,
    *,
    country: str = "ES",
    region: str | None = None,
) -> RateRule:
    return RateRule(uuid.uuid4(), country, region, category, Decimal(rate), f"{rate}", valid_from, valid_to)


JAN_2024 = date(2024, 1, 1)
JUL_2024 = date(2024, 7, 1)


def test_a_region_rate_wins_over_the_country_rate() -> None:
    country = rule("standard", "0.21", JAN_2024)
    canaries = rule("standard", "0.07", JAN_2024, region="ES-CN")
    table = [canaries, country]
    on = date(2024, 3, 1)
    assert resolve(table, "ES", "ES-CN", "standard", on) == ResolvedRate(
        Decimal("0.07"), "standard", "0.07", canaries.id
    )
    assert resolve(table, "ES", "es-cn ", "standard", on).rate_id == canaries.id  # type: ignore[union-attr]
    assert resolve(table, "ES", None, "standard", on).rate_id == country.id  # type: ignore[union-attr]
    assert resolve(table, "ES", "ES-PM", "standard", on).rate_id == country.id  # type: ignore[union-attr]
    assert resolve(table, "PT", None, "standard", on) is None


def test_valid_from_is_inclusive_and_valid_to_exclusive() -> None:
    old = rule("standard", "0.16", JAN_2024, JUL_2024, country="DE")
    new = rule("standard", "0.19", JUL_2024, country="DE")
    table = [old, new]
    assert resolve(table, "DE", None, "standard", date(2023, 12, 31)) is None
    assert resolve(table, "DE", None, "standard", JAN_2024).rate_id == old.id  # type: ignore[union-attr]
    assert resolve(table, "DE", None, "standard", date(2024, 6, 30)).rate_id == old.id  # type: ignore[union-attr]
    assert resolve(table, "DE", None, "standard", JUL_2024).rate_id == new.id  # type: ignore[union-attr]


def test_zero_and_exempt_are_taxed_at_0_without_a_row_and_other_categories_are_not_guessed() -> None:
    zero = resolve([], "DE", None, "zero", JAN_2024)
    exempt = resolve([], "DE", None, "exempt", JAN_2024)
    assert zero == ResolvedRate(Decimal(0), "zero", "DE zero rate", None, exempt=False)
    assert exempt == ResolvedRate(Decimal(0), "exempt", "DE exempt", None, exempt=True)
    assert resolve([], "DE", None, "reduced", JAN_2024) is None
    configured = rule("zero", "0", JAN_2024, country="DE")
    assert resolve([configured], "DE", None, "zero", JAN_2024).rate_id == configured.id  # type: ignore[union-attr]


def test_tax_rules_answer_for_the_categories_loaded() -> None:
    standard = rule("standard", "0.19", JAN_2024, country="DE")
    rules = TaxRules("DE", None, JUL_2024, frozenset({"standard", "reduced", "exempt"}), (standard,), True)
    assert rules.rate_of("standard").rate == Decimal("0.19")  # type: ignore[union-attr]
    assert rules.rate_of("reduced") is None
    assert rules.rate_of("exempt").exempt  # type: ignore[union-attr]
    with pytest.raises(KeyError, match="books"):
        rules.rate_of("books")


@pytest.mark.parametrize(
    ("a", "b", "shared"),
    [
        ((JAN_2024, JUL_2024), (JUL_2024, None), False),  # end-dated on the successor's first day
        ((JAN_2024, None), (JUL_2024, None), True),
        ((JUL_2024, None), (JAN_2024, date(2024, 7, 2)), True),
        ((JAN_2024, date(2024, 1, 2)), (date(2024, 1, 2), date(2024, 1, 3)), False),
        ((JAN_2024, date(2024, 1, 3)), (date(2024, 1, 2), None), True),
    ],
)
def test_periods_overlap_when_they_share_a_day(
    a: tuple[date, date | None], b: tuple[date, date | None], shared: bool
) -> None:
    assert overlaps(*a, *b) is shared
    assert overlaps(*b, *a) is shared
