"""Money rules: ISO 4217 exponents, no silent loss of precision, no mixing of currencies, half-up rounding."""

from __future__ import annotations

from decimal import Decimal

import iso4217
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from oms_api.kit.money import (
    NO_MINOR_UNIT_EXPONENT,
    NON_CURRENCIES,
    WITHDRAWN_EXPONENTS,
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
from oms_api.kit.schemas import Money as MoneyIn

CURRENCIES = ["JPY", "EUR", "USD", "KWD", "BHD", "CHF", "GBP", "HUF", "IQD", "CLF"]


ISO_EXPONENTS = [
    ("JPY", 0),
    ("EUR", 2),
    ("USD", 2),
    ("HUF", 2),
    ("KWD", 3),
    ("BHD", 3),
    ("CLF", 4),
    ("IQD", 3),
    ("IDR", 2),
    ("COP", 2),
    ("ALL", 2),
    ("LBP", 2),
]
"""ISO 4217's minor units, including those CLDR (babel) got wrong: HUF, IDR, COP, ALL, LBP 0 and IQD 0 there."""


@pytest.mark.parametrize(("currency", "digits"), ISO_EXPONENTS)
def test_each_currency_has_its_iso_exponent(currency: str, digits: int) -> None:
    assert is_currency(currency)
    assert exponent(currency) == digits
    assert quantum(currency) == Decimal(1).scaleb(-digits)


@pytest.mark.parametrize(
    ("currency", "amount"), [("HUF", "10.50"), ("IQD", "1.250"), ("CLF", "0.0001"), ("IDR", "0.01")]
)
def test_amounts_with_iso_decimals_are_accepted(currency: str, amount: str) -> None:
    assert str(Money.of(amount, currency).amount) == amount
    with pytest.raises(CurrencyError, match=f"at most {exponent(currency)} decimal place"):
        Money.of(amount + "1", currency)


def test_the_api_money_schema_accepts_huf_with_two_decimals() -> None:
    """``HUF 10.50`` was refused ("at most 0 decimal places") while exponents came from CLDR."""
    given = MoneyIn(amount="10.50", currency="HUF")
    assert given.to_money() == Money(Decimal("10.50"), "HUF")
    assert given.to_money().minor == 1050
    with pytest.raises(ValidationError, match="at most 2 decimal place"):
        MoneyIn(amount="10.505", currency="HUF")


def test_every_iso_currency_keeps_the_exponent_stored_amounts_were_migrated_to() -> None:
    """Stored amounts are minor units: an ``iso4217`` upgrade that changed an exponent would silently change
    their value. Such a change needs a migration that rescales them (as revision a1b2c3d40007 did from CLDR)."""
    not_two = {code: exponent(code) for code in sorted(filter(None, iso4217.raw_table)) if exponent(code) != 2}
    assert not_two == {
        "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3, "JPY": 0,
        "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3, "UGX": 0, "UYI": 0,
        "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    }  # fmt: skip


def test_the_non_currencies_are_isos_codes_without_minor_units() -> None:
    no_minor_units = {code for code, entry in iso4217.raw_table.items() if code and entry["CcyMnrUnts"] == "N.A."}
    assert no_minor_units == NON_CURRENCIES
    assert not any(is_currency(code) for code in NON_CURRENCIES)
    assert {exponent(code) for code in NON_CURRENCIES} == {NO_MINOR_UNIT_EXPONENT}


@pytest.mark.parametrize(("code", "digits"), [("BGN", 2), ("HRK", 2), ("ANG", 2), ("SLL", 0), ("VEF", 2)])
def test_withdrawn_codes_are_refused_but_stored_amounts_in_them_stay_readable(code: str, digits: int) -> None:
    assert code not in iso4217.raw_table
    assert not is_currency(code)
    assert exponent(code) == digits
    assert Money.from_minor(12345, code).minor == 12345
    assert set(WITHDRAWN_EXPONENTS).isdisjoint(iso4217.raw_table)


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
