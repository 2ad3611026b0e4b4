"""Bounds on what a request may give: amounts that keep every total inside its column, real currencies only,
strict numbers and booleans, and no control characters in text (the rules ``kit.money``, ``kit.schemas`` and
``kit.text`` hold; the API tests show them at the edge)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, StringConstraints, TypeAdapter, ValidationError

from oms_api.carts import domain as carts
from oms_api.kit import money, text
from oms_api.kit.money import MAX_AMOUNT_MINOR, MAX_LINE_QUANTITY, MAX_ORDER_LINES, STORED_MINOR_MAX, Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.kit.schemas import Name, StrictModel, Text
from oms_api.orders import domain
from oms_api.orders.schemas import OrderCreate, OrderLineCreate

BIGINT_MAX = 9_223_372_036_854_775_807


def _errors(exc: pytest.ExceptionInfo[ValidationError]) -> set[tuple[tuple[Any, ...], str]]:
    return {(tuple(e["loc"]), e["type"]) for e in exc.value.errors()}


def test_the_amount_bound_is_the_largest_nines_that_keep_the_largest_order_in_a_bigint() -> None:
    assert STORED_MINOR_MAX == BIGINT_MAX
    assert MAX_AMOUNT_MINOR == 99_999_999_999

    def largest_order(amount_minor: int) -> int:  # every line at the most, tax as large again, shipping and its tax
        return 2 * MAX_ORDER_LINES * MAX_LINE_QUANTITY * amount_minor + 2 * amount_minor

    assert largest_order(MAX_AMOUNT_MINOR) <= BIGINT_MAX
    assert largest_order(10 * MAX_AMOUNT_MINOR + 9) > BIGINT_MAX, "one more digit would not fit"


@pytest.mark.parametrize(
    ("currency", "largest", "one_more"),
    [
        ("EUR", "999999999.99", "1000000000.00"),
        ("JPY", "99999999999", "100000000000"),
        ("KWD", "99999999.999", "100000000.000"),
    ],
)
def test_the_largest_amount_follows_the_currency_exponent(currency: str, largest: str, one_more: str) -> None:
    assert money.max_amount(currency) == Decimal(largest)
    assert MoneyIn(amount=largest, currency=currency).to_money().minor == MAX_AMOUNT_MINOR
    with pytest.raises(ValidationError) as raised:
        MoneyIn(amount=one_more, currency=currency)
    assert _errors(raised) == {((), "amount_too_large")}
    assert f"at most {largest} {currency}" in str(raised.value)


def test_the_drills_line_is_refused_for_its_unit_price() -> None:
    """Quantity 100000 x 999999999999999.99 overflowed the line total's column (a 500)."""
    line = {"sku": "MUG", "quantity": 100_000, "unit_price": {"amount": "999999999999999.99", "currency": "EUR"}}
    with pytest.raises(ValidationError) as raised:
        OrderLineCreate.model_validate(line)
    assert _errors(raised) == {(("unit_price",), "amount_too_large")}


def test_the_largest_order_a_request_can_give_fits_every_column() -> None:
    top = Money.from_minor(MAX_AMOUNT_MINOR, "EUR")
    line = domain.PricedLine(MAX_LINE_QUANTITY, top, Money.zero("EUR"), Decimal(1), None)
    lines = [domain.line_amounts(i, line) for i in range(MAX_ORDER_LINES)]
    totals = domain.order_totals("EUR", lines, top, top)
    assert totals.grand_total.minor == 2 * MAX_ORDER_LINES * MAX_LINE_QUANTITY * MAX_AMOUNT_MINOR + 2 * MAX_AMOUNT_MINOR
    assert all(money.fits_column(t) for t in (totals.subtotal, totals.tax_total, totals.grand_total))


def test_the_domain_refuses_totals_no_column_holds_whatever_path_the_amounts_took() -> None:
    """Intake maps storefront amounts without request validation: the domain still refuses an overflow."""
    huge = Money.of("999999999999999.99", "EUR")
    with pytest.raises(domain.PricingError) as raised:
        domain.line_amounts(3, domain.PricedLine(100_000, huge, Money.zero("EUR"), None, None))
    assert (raised.value.line_index, raised.value.field) == (3, "unit_price")
    line = domain.line_amounts(0, domain.PricedLine(1, huge, Money.zero("EUR"), None, None))
    with pytest.raises(domain.PricingError) as raised:
        domain.order_totals("EUR", [line] * 200, None, None)
    assert raised.value.field == "lines"


def test_orders_and_carts_stay_within_the_limits_the_bound_assumes() -> None:
    lines = OrderCreate.model_fields["lines"].metadata
    assert any(getattr(m, "max_length", None) == MAX_ORDER_LINES for m in lines)
    assert carts.MAX_LINES <= MAX_ORDER_LINES
    assert carts.MAX_QUANTITY <= MAX_LINE_QUANTITY


@pytest.mark.parametrize("code", sorted(money.NON_CURRENCIES))
def test_the_non_currencies_are_refused_where_a_currency_is_given(code: str) -> None:
    assert not money.is_currency(code)
    with pytest.raises(ValidationError) as raised:
        MoneyIn(amount="1", currency=code)
    assert _errors(raised) == {(("currency",), "invalid_currency")}
    with pytest.raises(ValidationError) as raised:
        OrderCreate.model_validate({"currency": code})
    assert (("currency",), "invalid_currency") in _errors(raised)


def test_the_non_currencies_are_the_iso_codes_with_no_minor_unit() -> None:
    assert {
        *("XAU", "XAG", "XPT", "XPD"),  # precious metals
        *("XBA", "XBB", "XBC", "XBD"),  # bond-market units
        *("XDR", "XSU", "XUA"),  # IMF, SUCRE and ADB units of account
        *("XTS", "XXX"),  # testing, no currency
    } == money.NON_CURRENCIES
    assert all(money.is_currency(c) for c in ("EUR", "USD", "JPY", "KWD", "XOF", "XAF", "XCD", "XPF"))


def test_amounts_stored_in_a_non_currency_can_still_be_read() -> None:
    assert Money.from_minor(1234, "XXX").amount == Decimal("12.34")


class Sample(StrictModel):
    quantity: Annotated[int, Field(ge=1)]
    active: bool | None = None
    ratio: float = 0.5
    counts: list[int] = []
    by_name: dict[str, int] = {}
    price: Decimal = Decimal(0)
    code: str = "x"
    name: Name = "n"
    notes: Text | None = None


class Wrapper(StrictModel):
    inner: list[Sample]


@pytest.mark.parametrize(
    ("changes", "loc", "kind"),
    [
        ({"quantity": "2"}, ("quantity",), "int_type"),
        ({"quantity": True}, ("quantity",), "int_type"),
        ({"quantity": 2.0}, ("quantity",), "int_type"),
        ({"active": 1}, ("active",), "bool_type"),
        ({"active": "true"}, ("active",), "bool_type"),
        ({"ratio": "0.5"}, ("ratio",), "float_type"),
        ({"ratio": False}, ("ratio",), "float_type"),
        ({"counts": [1, "2"]}, ("counts", 1), "int_type"),
        ({"by_name": {"a": True}}, ("by_name", "a"), "int_type"),
        ({"code": "a\x00b"}, ("code",), "control_character"),
        ({"by_name": {"a\x00": 1}}, ("by_name", "a\x00", "[key]"), "control_character"),
        ({"notes": "line\x0bfeed"}, ("notes",), "control_character"),
    ],
)
def test_strict_models_take_numbers_and_booleans_as_themselves_and_no_control_character(
    changes: dict[str, Any], loc: tuple[Any, ...], kind: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        Wrapper.model_validate({"inner": [{"quantity": 1, **changes}]})
    assert _errors(raised) == {(("inner", 0, *loc), kind)}


def test_strict_models_still_take_what_json_means() -> None:
    value = Sample.model_validate(
        {"quantity": 2, "active": False, "ratio": 1, "price": "12.50", "notes": "a\r\n\tb", "by_name": {"a": 1}}
    )
    assert (value.quantity, value.active, value.ratio, value.price, value.notes) == (
        2,
        False,
        1.0,
        Decimal("12.50"),
        "a\r\n\tb",
    )
    assert Sample.model_validate({"quantity": 1, "price": 0.25}).price == Decimal("0.25")


def test_the_json_schema_is_unchanged_by_the_checks() -> None:
    schema = Sample.model_json_schema()
    assert schema["properties"]["quantity"] == {"minimum": 1, "title": "Quantity", "type": "integer"}
    assert schema["properties"]["code"] == {"default": "x", "title": "Code", "type": "string"}


@given(st.text())
def test_text_is_refused_exactly_when_it_holds_a_control_character(value: str) -> None:
    controls = {c for c in value if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or 0xD800 <= ord(c) < 0xE000}
    assert (text.refusal(value) is None) == (not controls)
    assert (text.refusal(value, free_text=True) is None) == (not controls - {"\t", "\n", "\r"})


def test_a_refusal_says_which_character_and_where_without_the_value() -> None:
    assert text.refusal("secret\x00") == "must not contain control characters (U+0000 at index 6)"
    assert text.refusal("ok\n", free_text=True) is None


def test_the_white_space_a_name_is_judged_without_is_what_pydantic_strips() -> None:
    """A stripped field is checked stripped: the two must agree, or a control character pydantic keeps (U+001C,
    which ``str.strip()`` drops) would pass the check and be stored."""
    stripped = TypeAdapter(Annotated[str, StringConstraints(strip_whitespace=True)])
    trimmed = {
        chr(c) for c in range(0x3100) if not 0xD800 <= c < 0xE000 and stripped.validate_python(f"a{chr(c)}") == "a"
    }
    assert trimmed == set(text.WHITE_SPACE)
    assert Sample.model_validate({"quantity": 1, "name": "\tAda\r\n"}).name == "Ada"
    with pytest.raises(ValidationError) as raised:
        Sample.model_validate({"quantity": 1, "name": "Ada\x1c"})
    assert _errors(raised) == {(("name",), "control_character")}
