"""Storefront payloads mapped to orders (pure, no database): amounts stay exactly what the storefront charged."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.integrations import base
from oms_api.integrations.base import CancelOrder, CreateOrder, Ignore, IntakeOrder, MalformedDelivery, MappingError
from oms_api.integrations.inbound import domain as inbound
from oms_api.integrations.shopify import Shopify
from oms_api.integrations.woocommerce import WooCommerce
from oms_api.kit.money import Money
from oms_api.orders import domain
from tests.support.storefronts import load


def grand_total(intake: IntakeOrder) -> Money:
    """The order's total as placement computes it from the mapped body."""
    body = intake.order
    cur = body.currency
    lines = [
        domain.line_amounts(
            i,
            domain.PricedLine(
                quantity=line.quantity,
                unit_price=line.unit_price.to_money(),
                discount=line.discount.to_money() if line.discount else Money.zero(cur),
                tax_rate=None,
                tax=line.tax.to_money() if line.tax else None,
            ),
        )
        for i, line in enumerate(body.lines)
    ]
    shipping = body.shipping_price.to_money() if body.shipping_price else None
    shipping_tax = body.shipping_tax.to_money() if body.shipping_tax else None
    return domain.order_totals(cur, lines, shipping, shipping_tax).grand_total


def shopify_intake(payload: dict[str, Any]) -> IntakeOrder:
    action = Shopify().interpret("orders/create", payload, "web")
    assert isinstance(action, CreateOrder)
    return action.intake


def woo_intake(payload: dict[str, Any]) -> IntakeOrder:
    action = WooCommerce().interpret("order.created", payload, "web")
    assert isinstance(action, CreateOrder)
    return action.intake


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_a_line_value_that_does_not_divide_by_its_quantity_rounds_the_unit_up_and_gives_the_rest_back() -> None:
    assert base.unit_price(eur("10.00"), 3) == (eur("3.34"), eur("0.02"))
    assert base.unit_price(eur("9.00"), 3) == (eur("3.00"), eur("0.00"))
    assert base.unit_price(Money.of("1001", "JPY"), 2) == (Money.of("501", "JPY"), Money.of("1", "JPY"))


@given(
    whole=st.integers(min_value=0, max_value=10**9),
    weights=st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=20),
)
def test_spreading_an_amount_shares_out_exactly_all_of_it(whole: int, weights: list[int]) -> None:
    shares = base.spread(Money.from_minor(whole, "EUR"), [Money.from_minor(w, "EUR") for w in weights])
    assert sum(s.minor for s in shares) == whole
    assert all(s.minor >= 0 for s in shares)
    if whole <= sum(weights):
        assert all(s.minor <= w for s, w in zip(shares, weights, strict=True))


def test_signatures_are_checked_against_the_raw_body() -> None:
    body = b'{"id": 1}'
    signature = base.sign("secret-1", body)
    assert base.signature_matches("secret-1", body, signature)
    assert base.signature_matches("secret-1", body, f" {signature} ")
    assert not base.signature_matches("secret-2", body, signature)
    assert not base.signature_matches("secret-1", body + b" ", signature)
    assert not base.signature_matches("secret-1", body, None)
    assert not base.signature_matches("secret-1", body, "é")


def test_the_shopify_fixture_maps_to_its_own_total() -> None:
    intake = shopify_intake(load("shopify/orders_create.json"))
    assert intake.problems == ()
    assert intake.expected_total == Money.of("71.06", "USD")
    assert grand_total(intake) == intake.expected_total
    assert [line.sku for line in intake.order.lines] == ["SHIRT-BLUE-M", "MUG-WHITE"]
    assert intake.line_names == ("Blue shirt - M", "White mug")


def test_shopify_prices_that_include_tax_become_tax_exclusive_lines_with_the_same_total() -> None:
    payload = load("shopify/orders_create.json")
    payload.update(currency="EUR", taxes_included=True, total_price="34.87", total_discounts="0.00")
    payload["line_items"] = [payload["line_items"][0]]
    item = payload["line_items"][0]
    item.update(price="9.99", quantity=3, discount_allocations=[], tax_lines=[{"price": "4.79", "rate": 0.19}])
    payload["shipping_lines"][0].update(
        price="4.90", discounted_price="4.90", tax_lines=[{"price": "0.78", "rate": 0.19}]
    )
    intake = shopify_intake(payload)
    [line] = intake.order.lines
    assert (line.unit_price.amount, line.discount and line.discount.amount, line.tax and line.tax.amount) == (
        "8.40",
        "0.02",
        "4.79",
    )
    assert intake.order.shipping_price is not None
    assert intake.order.shipping_price.amount == "4.12"
    assert grand_total(intake) == eur("34.87")
    assert intake.problems == ()
    assert "prices include tax" in (intake.order.notes or "")


def test_a_shopify_order_discount_without_allocations_is_spread_over_the_lines() -> None:
    payload = load("shopify/orders_create.json")
    for item in payload["line_items"]:
        item["discount_allocations"] = []
    intake = shopify_intake(payload)
    discounts = [line.discount.amount for line in intake.order.lines if line.discount]
    assert discounts == ["5.00", "1.20"]
    assert grand_total(intake) == Money.of("71.06", "USD")


def test_shopify_cancellations_and_other_topics() -> None:
    shopify = Shopify()
    cancelled = shopify.interpret("orders/cancelled", load("shopify/orders_cancelled.json"), "web")
    assert cancelled == CancelOrder("5801234567890", "cancelled in Shopify (customer)")
    assert isinstance(shopify.interpret("orders/paid", {"id": 1}, "web"), Ignore)
    with pytest.raises(MalformedDelivery):
        shopify.check("orders/create", {"id": True})
    with pytest.raises(MalformedDelivery):
        shopify.check("orders/create", [])
    shopify.check("app/uninstalled", {"shop": "x"})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"line_items": []}, "the order has no line_items"),
        ({"currency": "usd "}, None),
        ({"currency": 12}, "currency 12 is not an ISO 4217 code"),
        ({"line_items": [{"sku": "A", "quantity": 0, "price": "1.00"}]}, "line item 1 quantity must be"),
        ({"line_items": [{"sku": "A", "quantity": 1, "price": "1.001"}]}, "line item 1 price: USD amounts"),
        ({"line_items": [{"sku": "A", "quantity": 1, "price": "NaN"}]}, "line item 1 price is out of range"),
        ({"shipping_address": None, "billing_address": {"city": "X"}}, "no usable shipping or billing address"),
    ],
)
def test_a_shopify_order_that_cannot_be_mapped_says_why(change: dict[str, Any], message: str | None) -> None:
    payload = load("shopify/orders_create.json")
    payload.update(change)
    if message is None:
        assert shopify_intake(payload).order.currency == "USD"
        return
    with pytest.raises(MappingError, match=message.replace("(", r"\(")):
        shopify_intake(payload)


def test_a_malformed_customer_email_drops_the_email_not_the_order() -> None:
    payload = load("shopify/orders_create.json")
    payload["customer"]["email"] = "not an email"
    payload["email"] = payload["contact_email"] = None
    intake = shopify_intake(payload)
    customer = intake.order.customer
    assert customer is not None
    assert (getattr(customer, "email", "?"), getattr(customer, "last_name", "?")) == (None, "Smith")
    assert "customer details not usable" in (intake.order.notes or "")


def test_the_woocommerce_fixture_maps_to_its_own_total() -> None:
    intake = woo_intake(load("woocommerce/order_created.json"))
    assert intake.problems == ()
    assert grand_total(intake) == Money.of("28.06", "USD") == intake.expected_total


def test_a_woocommerce_line_that_does_not_divide_by_its_quantity_keeps_its_total() -> None:
    payload = load("woocommerce/order_created.json")
    payload["line_items"][0].update(quantity=3, subtotal="10.00", total="10.00", total_tax="0.75")
    payload["total"] = "32.36"  # 10.00 + 10.80 + 10.00 + 0.75 + 0.81
    intake = woo_intake(payload)
    line = intake.order.lines[0]
    assert (line.unit_price.amount, line.discount and line.discount.amount) == ("3.34", "0.02")
    assert grand_total(intake) == Money.of("32.36", "USD")
    assert intake.problems == ()


def test_the_woocommerce_ping_is_recognised_only_unsigned_and_bare() -> None:
    woo = WooCommerce()
    assert woo.is_ping(b"webhook_id=12", None)
    assert woo.is_ping(b"webhook_id=12\n", "")
    assert not woo.is_ping(b"webhook_id=12", "c2lnbmVk")
    assert not woo.is_ping(b"webhook_id=12&x=1", None)
    assert not woo.is_ping(b'{"webhook_id": 12}', None)


def test_woocommerce_updates_cancel_only_when_cancelled() -> None:
    woo = WooCommerce()
    assert woo.interpret("order.updated", {"id": 727, "status": "cancelled"}, "web") == CancelOrder(
        "727", "cancelled in WooCommerce"
    )
    assert isinstance(woo.interpret("order.updated", {"id": 727, "status": "processing"}, "web"), Ignore)
    assert isinstance(woo.interpret("order.deleted", {"id": 727}, "web"), Ignore)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("VIP", "vip"), ("Wholesale order", "wholesale-order"), ("  ", None), ("ÄÖ!", None), ("x" * 40, "x" * 32)],
)
def test_storefront_tags_become_slugs(raw: str, expected: str | None) -> None:
    assert base.tag(raw) == expected


def test_only_platform_headers_and_the_content_type_are_kept() -> None:
    kept = inbound.kept_headers(
        [
            ("Authorization", "Bearer oms_x"),
            ("Cookie", "a=b"),
            ("Content-Type", "application/json"),
            ("X-Shopify-Topic", "orders/create"),
            ("X-WC-Webhook-Source", "https://example.com/"),
            ("X-Forwarded-For", "10.0.0.1"),
        ]
    )
    assert kept == {
        "content-type": "application/json",
        "x-shopify-topic": "orders/create",
        "x-wc-webhook-source": "https://example.com/",
    }


def test_retries_back_off_and_give_up() -> None:
    delays = [inbound.retry_delay(n).total_seconds() / 60 for n in range(1, inbound.MAX_ATTEMPTS + 1)]
    assert delays == [1, 2, 4, 8, 16, 32, 64, 120]
    assert not inbound.gives_up(inbound.MAX_ATTEMPTS - 1)
    assert inbound.gives_up(inbound.MAX_ATTEMPTS)


def test_amounts_accept_numbers_and_strings_but_nothing_else() -> None:
    assert base.amount(12.5, "EUR", "x") == eur("12.50")
    assert base.amount(" 3 ", "EUR", "x") == eur("3.00")
    assert base.amount("1000.00", "JPY", "x") == Money.of("1000", "JPY")
    for bad in (None, True, "", "1e400", [1], "abc", "-1.00", "Infinity"):
        with pytest.raises(MappingError):
            base.amount(bad, "EUR", "x")


def test_storefront_text_keeps_to_one_storable_line() -> None:
    assert base.text("  a\x00b\tc\n d\ud800 ", 100) == "a b c d?"
    assert base.text("x" * 10, 4) == "xxxx"
    assert base.text("", 4) is None
    assert base.text(12, 4) == "12"
    assert base.text({"a": 1}, 4) is None
    assert base.notes_text(["a\x00b", None, "c\nd\ud800"]) == "ab\nc\nd?"


def test_the_storefront_mappings_load_without_the_database_or_the_web_stack() -> None:
    """Mapping a storefront's order is pure: it imports neither SQLAlchemy nor FastAPI."""
    code = (
        "import sys; import oms_api.integrations.shopify, oms_api.integrations.woocommerce; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'fastapi', 'starlette'}))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
