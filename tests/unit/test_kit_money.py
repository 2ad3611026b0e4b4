"""Money rules: ISO 4217 exponents, no silent loss of precision, no mixing of currencies, half-up rounding."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.kit.money import (
    CurrencyError,
    Money,
    check_amount,
    exponent,
    from_minor,
    is_currency,
    quantum,
    round_money,
    to_minor,
)

CURRENCIES = ["JPY", "EUR", "USD", "KWD", "BHD", "CHF", "GBP"]


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("EUR", 2), ("USD", 2), ("KWD", 3), ("BHD", 3)])
def test_each_currency_has_its_iso_exponent(currency: str, digits: int) -> None:
    assert exponent(currency) == digits
    assert quantum(currency) == Decimal(1).scaleb(-digits)


@pytest.mark.parametrize("code", ["eur", "EURO", "EU", "XYZ", "", "E1R", "€"])
def test_unknown_or_malformed_currencies_are_refused(code: str) -> None:
    assert not is_currency(code)
    with pytest.raises(CurrencyError):
        exponent(code)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12.345", "EUR"), ("0.001", "USD"), ("1.5", "JPY"), ("1.0001", "KWD"), ("-0.005", "EUR")],
)
def test_check_amount_refuses_more_decimals_than_the_currency_has(amount: str, currency: str) -> None:
    with pytest.raises(CurrencyError):
        check_amount(Decimal(amount), currency)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [("12.5", "EUR", "12.50"), ("12.500", "EUR", "12.50"), ("100", "JPY", "100"), ("1.234", "KWD", "1.234")],
)
def test_check_amount_accepts_and_quantises_exact_amounts(amount: str, currency: str, expected: str) -> None:
    result = check_amount(Decimal(amount), currency)
    assert result == Decimal(expected)
    assert str(result) == expected


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-Infinity"])
def test_check_amount_refuses_non_finite_numbers(amount: str) -> None:
    with pytest.raises(CurrencyError):
        check_amount(Decimal(amount), "EUR")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("0.125", "EUR", "0.13"),
        ("0.124", "EUR", "0.12"),
        ("-0.125", "EUR", "-0.13"),
        ("2.5", "JPY", "3"),
        ("1.5", "JPY", "2"),
        ("0.0005", "KWD", "0.001"),
        ("10.995", "USD", "11.00"),
    ],
)
def test_rounding_is_half_up_away_from_zero(amount: str, currency: str, expected: str) -> None:
    assert str(round_money(Decimal(amount), currency)) == expected


def test_money_arithmetic_refuses_mixed_currencies() -> None:
    eur, usd = Money.of("1.00", "EUR"), Money.of("1.00", "USD")
    with pytest.raises(CurrencyError):
        _ = eur + usd
    with pytest.raises(CurrencyError):
        _ = eur - usd


def test_money_of_refuses_extra_decimals_and_unknown_currencies() -> None:
    with pytest.raises(CurrencyError):
        Money.of("1.005", "EUR")
    with pytest.raises(CurrencyError):
        Money.of("1", "XXX1")


def test_money_times_rounds_to_the_minor_unit() -> None:
    assert Money.of("0.10", "EUR").times(Decimal("1.25")) == Money(Decimal("0.13"), "EUR")
    assert Money.of("3", "JPY").times(Decimal("0.5")) == Money(Decimal("2"), "JPY")
    assert str(Money.zero("KWD")) == "0.000 KWD"


def _exact_amounts(currency: str) -> st.SearchStrategy[Decimal]:
    digits = exponent(currency)
    return st.integers(min_value=-(10**12), max_value=10**12).map(lambda minor: Decimal(minor).scaleb(-digits))


@st.composite
def money_values(draw: st.DrawFn, currency: str | None = None) -> Money:
    code = currency or draw(st.sampled_from(CURRENCIES))
    return Money.of(draw(_exact_amounts(code)), code)


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(money_values(c), money_values(c))))
def test_adding_then_subtracting_gives_back_the_same_money(pair: tuple[Money, Money]) -> None:
    a, b = pair
    assert (a + b) - b == a
    assert a + b == b + a


@given(st.sampled_from(CURRENCIES), st.decimals(min_value=-(10**9), max_value=10**9, places=8))
def test_rounding_lands_on_the_minor_unit_within_half_a_unit(currency: str, amount: Decimal) -> None:
    rounded = round_money(amount, currency)
    assert rounded.as_tuple().exponent == -exponent(currency)
    assert abs(rounded - amount) <= quantum(currency) / 2
    assert round_money(rounded, currency) == rounded
    assert check_amount(rounded, currency) == rounded


@given(st.sampled_from(CURRENCIES).flatmap(lambda c: st.tuples(st.just(c), _exact_amounts(c))))
def test_exact_amounts_pass_check_amount_and_survive_minor_units(case: tuple[str, Decimal]) -> None:
    currency, amount = case
    assert check_amount(amount, currency) == amount
    minor = to_minor(amount, currency)
    assert from_minor(minor, currency) == amount
    assert Money.from_minor(minor, currency).minor == minor


def test_to_minor_refuses_amounts_finer_than_the_currency() -> None:
    assert to_minor(Decimal("12.34"), "EUR") == 1234
    assert to_minor(Decimal("12"), "JPY") == 12
    assert to_minor(Decimal("0.001"), "KWD") == 1
    with pytest.raises(CurrencyError):
        to_minor(Decimal("0.001"), "EUR")
