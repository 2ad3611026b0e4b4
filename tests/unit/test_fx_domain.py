"""Exchange-rate rules: conversion rounding, inverse and cross rates, choosing the rate in force, sorting a batch
against stored rates, and the ECB files (samples in tests/fixtures/ecb/, in the formats the ECB documents)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.fx.domain import (
    DAILY,
    HISTORICAL,
    Clash,
    EcbFormatError,
    Leg,
    PublishedRate,
    RateError,
    check_rate,
    choose,
    conversion_to_base,
    convert,
    cross_rate,
    ecb_format,
    inverse,
    parse_ecb,
    rate_text,
    sort_batch,
)
from oms_api.kit.money import Money, exponent, quantum

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ecb"
CURRENCIES = ["EUR", "USD", "JPY", "HUF", "KWD", "IQD", "CLF", "IDR"]
DAY = date(2026, 12, 3)


def _amounts(currency: str) -> st.SearchStrategy[Money]:
    return st.integers(min_value=0, max_value=99_999_999_999).map(lambda minor: Money.from_minor(minor, currency))


rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(100_000), places=6)
money_and_target = st.tuples(st.sampled_from(CURRENCIES), st.sampled_from(CURRENCIES)).flatmap(
    lambda pair: st.tuples(_amounts(pair[0]), st.just(pair[1]))
)


# --- conversion ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "rate", "to", "expected"),
    [
        ("100.00", "EUR", "1.0865", "USD", "108.65"),
        ("10.00", "EUR", "162.45", "JPY", "1625"),  # 1624.5 rounds half up
        ("10.00", "EUR", "162.44", "JPY", "1624"),
        ("1.00", "USD", "0.30155", "KWD", "0.302"),  # 0.30155 -> 3 decimals, half up
        ("1.00", "EUR", "398.755", "HUF", "398.76"),  # HUF has 2 decimals (ISO 4217)
        ("0.01", "EUR", "0.5", "USD", "0.01"),  # 0.005 rounds up, never to nothing
        ("1", "JPY", "0.0061", "EUR", "0.01"),
        ("100", "JPY", "0.00004", "CLF", "0.0040"),
    ],
)
def test_convert_rounds_half_up_to_the_target_currency(
    amount: str, currency: str, rate: str, to: str, expected: str
) -> None:
    result = convert(Money.of(amount, currency), Decimal(rate), to)
    assert result.currency == to
    assert str(result.amount) == expected


@given(money_and_target)
def test_converting_at_rate_one_is_the_identity_up_to_the_targets_unit(case: tuple[Money, str]) -> None:
    amount, target = case
    result = convert(amount, Decimal(1), target)
    if exponent(target) >= exponent(amount.currency):
        assert result.amount == amount.amount
    assert abs(result.amount - amount.amount) <= quantum(target) / 2


@given(money_and_target, rates)
def test_a_conversion_has_the_targets_exponent_and_is_within_half_a_unit(
    case: tuple[Money, str], rate: Decimal
) -> None:
    amount, target = case
    result = convert(amount, rate, target)
    assert result.currency == target
    assert result.amount.as_tuple().exponent == -exponent(target)
    assert abs(result.amount - amount.amount * rate) <= quantum(target) / 2
    assert Money.from_minor(result.minor, target) == result  # storable as minor units


@given(st.sampled_from(CURRENCIES).flatmap(_amounts), rates, rates)
def test_conversion_is_monotonic_in_the_rate(amount: Money, a: Decimal, b: Decimal) -> None:
    low, high = sorted((a, b))
    assert convert(amount, low, "EUR").amount <= convert(amount, high, "EUR").amount


@given(rates)
def test_a_rate_and_its_inverse_multiply_to_one(rate: Decimal) -> None:
    assert abs(rate * inverse(rate) - 1) < Decimal("1e-26")


@given(rates, rates)
def test_a_cross_rate_through_a_base_is_the_quotient_of_its_legs(eur_usd: Decimal, eur_x: Decimal) -> None:
    x_usd = cross_rate(eur_x, eur_usd)
    assert abs(x_usd * eur_x - eur_usd) <= eur_usd * Decimal("1e-26")


def test_conversion_to_base_keeps_the_rate_and_its_date() -> None:
    rate = choose("USD", "EUR", [Leg("EUR", "USD", Decimal("1.25"), DAY, "ecb")], DAY)
    assert rate is not None
    conversion = conversion_to_base(Money.of("10.00", "USD"), rate, "EUR")
    assert conversion.rate == Decimal("0.8")
    assert conversion.rate_date == DAY
    assert conversion.base_currency == "EUR"
    assert conversion.base_amount == Money.of("8.00", "EUR")
    with pytest.raises(ValueError, match="cannot convert"):
        conversion_to_base(Money.of("10.00", "GBP"), rate, "EUR")


# --- choosing the rate in force -------------------------------------------------------------------------------


def test_the_same_currency_is_the_identity() -> None:
    found = choose("EUR", "EUR", [], DAY)
    assert found is not None
    assert (found.rate, found.rate_date, found.source) == (Decimal(1), DAY, "identity")


def test_a_cross_rate_goes_through_the_common_base() -> None:
    """ECB publishes EUR -> X; with the base currency USD, JPY -> USD = (EUR -> USD) / (EUR -> JPY)."""
    legs = [Leg("EUR", "USD", Decimal("1.0865"), DAY, "ecb"), Leg("EUR", "JPY", Decimal("162.45"), DAY, "ecb")]
    found = choose("JPY", "USD", legs, DAY)
    assert found is not None
    assert found.via == "EUR"
    assert found.rate == Decimal("1.0865") / Decimal("162.45")
    assert found.rate_date == DAY
    assert convert(Money.of("16245", "JPY"), found.rate, "USD") == Money.of("108.65", "USD")


def test_the_inverse_of_the_stored_reverse_rate_is_used() -> None:
    found = choose("USD", "EUR", [Leg("EUR", "USD", Decimal("1.0865"), DAY, "ecb")], DAY)
    assert found is not None
    assert found.inverted
    assert found.via is None
    assert convert(Money.of("108.65", "USD"), found.rate, "EUR") == Money.of("100.00", "EUR")


def test_the_most_recent_candidate_wins_and_a_cross_dates_from_its_older_leg() -> None:
    old, new = date(2026, 11, 2), date(2026, 12, 1)
    legs = [
        Leg("USD", "JPY", Decimal("150"), old, "api"),  # the stored pair, but older
        Leg("EUR", "USD", Decimal("1.08"), new, "ecb"),
        Leg("EUR", "JPY", Decimal("162"), new, "ecb"),
    ]
    found = choose("USD", "JPY", legs, DAY)
    assert found is not None
    assert (found.via, found.rate_date, found.source) == ("EUR", new, "ecb")
    assert found.rate == Decimal(150)  # 162 / 1.08
    stale = [*legs[:2], Leg("EUR", "JPY", Decimal("162"), old, "ecb")]
    found = choose("USD", "JPY", stale, DAY)
    assert found is not None
    assert (found.via, found.rate_date, found.source) == (None, old, "api"), "a tie goes to the stored pair"


def test_no_combination_of_legs_is_none_never_a_guess() -> None:
    legs = [Leg("EUR", "USD", Decimal("1.08"), DAY, "ecb"), Leg("GBP", "JPY", Decimal("190"), DAY, "api")]
    assert choose("USD", "JPY", legs, DAY) is None
    assert choose("USD", "JPY", [], DAY) is None


# --- rates and batches ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"), [("1.0865", "1.0865"), ("1.10", "1.1"), ("162.000", "162"), ("100", "100")]
)
def test_a_rate_is_stored_in_its_canonical_text(text: str, canonical: str) -> None:
    assert rate_text(Decimal(text)) == canonical
    assert Decimal(rate_text(Decimal(text))) == Decimal(text)


@pytest.mark.parametrize("text", ["0", "-1", "NaN", "Infinity", "1000000000000", "0.00000000000000001"])
def test_rates_outside_the_stored_bounds_are_refused(text: str) -> None:
    with pytest.raises(RateError):
        check_rate(Decimal(text))


def test_a_batch_is_sorted_into_new_already_stored_and_clashing_rates() -> None:
    def rate(quote: str, value: str, day: int = 3) -> PublishedRate:
        return PublishedRate("EUR", quote, date(2026, 12, day), Decimal(value))

    stored = {rate("USD", "1.0865").key: Decimal("1.0865"), rate("JPY", "162.45").key: Decimal("162.45")}
    batch = sort_batch(
        [rate("USD", "1.08650"), rate("JPY", "162.5"), rate("GBP", "0.85"), rate("GBP", "0.85"), rate("GBP", "0.86")],
        stored,
    )
    assert batch.new == (rate("GBP", "0.85"),)
    assert batch.same == (rate("USD", "1").key, rate("GBP", "1").key)
    assert batch.clashes == (
        Clash(rate("JPY", "162.5"), Decimal("162.45")),
        Clash(rate("GBP", "0.86"), Decimal("0.85")),
    )


# --- the ECB files ----------------------------------------------------------------------------------------------


def _lines(name: str) -> list[str]:
    return (FIXTURES / name).read_text(encoding="utf-8").splitlines()


def test_the_daily_file_gives_one_date_of_euro_rates() -> None:
    lines = _lines("eurofxref.csv")
    assert ecb_format(lines) == DAILY
    days = list(parse_ecb(lines))
    assert len(days) == 1
    day = days[0]
    assert (day.line, day.rate_date, len(day.rates)) == (2, DAY, 29)
    by_quote = {rate.quote: rate for rate in day.rates}
    assert by_quote["USD"] == PublishedRate("EUR", "USD", DAY, Decimal("1.0865"), "ecb")
    assert by_quote["IDR"].rate == Decimal("17345.67")
    assert {rate.base for rate in day.rates} == {"EUR"}


def test_the_historical_file_gives_every_date_and_skips_what_was_not_quoted() -> None:
    lines = _lines("eurofxref-hist.csv")
    assert ecb_format(lines) == HISTORICAL
    days = list(parse_ecb(lines, source="ecb-hist"))
    assert len(days) == 40
    assert days[0].rate_date == date(2026, 12, 2)
    assert days[-1].rate_date == date(2026, 10, 8)
    first = {rate.quote: rate.rate for rate in days[0].rates}
    assert first["USD"] == Decimal("1.0714")
    assert "CYP" not in first
    assert "BGN" not in first
    assert "ISK" not in {rate.quote for rate in days[3].rates}
    assert "BGN" in {rate.quote for rate in days[5].rates}
    assert {rate.source for day in days for rate in day.rates} == {"ecb-hist"}


@pytest.mark.parametrize(
    ("lines", "line", "message"),
    [
        (["Datum, USD, ", "03 December 2026, 1.08, "], 1, "header"),
        (["Date, USD, usd, ", "03 December 2026, 1.08, 1.1, "], 1, "not a currency code"),
        (["Date, USD, ", "03 Dezember 2026, 1.08, "], 2, "not a date"),
        (["Date,USD,JPY,", "2026-12-03,1.08,162,", "2026-12-02,1.07,"], 3, "1 values for 2 currencies"),
        (["Date,USD,", "2026-12-03,1.08,", "2026-12-02,1,07,"], 3, "values for 1 currencies"),
        (["Date,USD,", "2026-12-03,abc,"], 2, "USD rate 'abc'"),
        (["Date,USD,", "2026-12-03,-1.08,"], 2, "not a positive"),
        (["Date,USD,", "2026-12-03,1.08,", "03 December 2026,1.08,"], 3, "not a date like the file's others"),
        ([], 1, "empty"),
    ],
)
def test_a_malformed_file_is_refused_naming_its_line(lines: list[str], line: int, message: str) -> None:
    with pytest.raises(EcbFormatError, match=message) as raised:
        list(parse_ecb(lines))
    assert raised.value.line == line
    assert str(raised.value).startswith(f"line {line}: ")


def test_a_byte_order_mark_and_blank_lines_are_tolerated() -> None:
    days = list(parse_ecb(["\ufeffDate, USD, ", "", "03 December 2026, 1.0865, ", ""]))
    assert [(day.line, day.rates[0].rate) for day in days] == [(3, Decimal("1.0865"))]
