"""Wire shapes shared by every context: money as exact decimal strings, ISO countries, strict input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from oms_api.kit import money
from oms_api.kit.schemas import Address, Money, StrictModel

ADDRESS = {"line1": "1 Dock Road", "city": "Berlin", "postal_code": "10115", "country": "DE"}


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("12.50", "EUR"), ("12.5", "EUR"), ("0", "EUR"), ("1.234", "KWD"), ("1000", "JPY"), ("12.500", "EUR")],
)
def test_money_accepts_amounts_the_currency_can_hold(amount: str, currency: str) -> None:
    value = Money(amount=amount, currency=currency)
    assert value.to_money() == money.Money.of(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("12.345", "EUR"),  # EUR has two decimals
        ("1.5", "JPY"),  # JPY has none
        ("1.2345", "KWD"),  # KWD has three
        ("-1.00", "EUR"),  # amounts are not negative on the wire
        ("01.00", "EUR"),
        ("1e3", "EUR"),
        ("1,00", "EUR"),
        (" 1.00", "EUR"),
        ("1.00", "eur"),
        ("1.00", "XYZ"),
        ("1.00", "EURO"),
    ],
)
def test_money_refuses_amounts_or_currencies_that_do_not_fit(amount: str, currency: str) -> None:
    with pytest.raises(ValidationError):
        Money(amount=amount, currency=currency)


def test_money_refuses_numbers_and_extra_fields() -> None:
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": 12.5, "currency": "EUR"})
    with pytest.raises(ValidationError):
        Money.model_validate({"amount": "12.50", "currency": "EUR", "cents": 1250})


@pytest.mark.parametrize(
    ("amount", "currency", "wire"), [("5", "EUR", "5.00"), ("5", "JPY", "5"), ("0.1", "KWD", "0.100")]
)
def test_money_on_the_wire_has_exactly_the_currency_decimals(amount: str, currency: str, wire: str) -> None:
    value = Money.of(money.Money(Decimal(amount), currency))
    assert value.model_dump() == {"amount": wire, "currency": currency}


@pytest.mark.parametrize("country", ["DE", "FR", "US", "JP", "GB", "AQ"])
def test_addresses_accept_iso_countries(country: str) -> None:
    assert Address.model_validate({**ADDRESS, "country": country}).country == country


@pytest.mark.parametrize("country", ["de", "DEU", "D", "XX", "UK", "12", ""])
def test_addresses_refuse_other_country_codes(country: str) -> None:
    with pytest.raises(ValidationError) as raised:
        Address.model_validate({**ADDRESS, "country": country})
    assert raised.value.errors()[0]["loc"] == ("country",)


@pytest.mark.parametrize("country", ["ZZ", "EU", "UN", "QO", "EZ", "XA", "XB"])
def test_addresses_refuse_cldr_regions_that_are_not_countries(country: str) -> None:
    """CLDR's territory list (where the codes come from) also has groupings and pseudo-regions."""
    with pytest.raises(ValidationError):
        Address.model_validate({**ADDRESS, "country": country})


@pytest.mark.parametrize(
    "change",
    [
        {"line1": ""},
        {"city": ""},
        {"line1": "x" * 201},
        {"latitude": 91},
        {"longitude": -181},
        {"colour": "red"},
    ],
)
def test_addresses_refuse_empty_oversized_or_unknown_fields(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        Address.model_validate({**ADDRESS, **change})


def test_strict_models_refuse_unknown_fields() -> None:
    class Body(StrictModel):
        name: str

    with pytest.raises(ValidationError) as raised:
        Body.model_validate({"name": "a", "nmae": "typo"})
    assert raised.value.errors()[0]["type"] == "extra_forbidden"
