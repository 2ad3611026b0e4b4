"""WooCommerce webhooks (REST API v3 order resource): ``order.created`` and ``order.updated``.

Line ``subtotal`` (before coupons) and ``total`` (after) are tax-exclusive whatever ``prices_include_tax`` says,
so a line is ``subtotal`` over its quantity, less ``subtotal - total``, plus ``total_tax``. Fee lines have no
counterpart in an order here: they hold the order. Saving a webhook in WooCommerce sends an unsigned ping
(``webhook_id=<id>``, form-encoded), which must be answered 200 or WooCommerce refuses to save it.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from oms_api.customers.schemas import CustomerCreate
from oms_api.integrations import base
from oms_api.integrations.base import (
    Action,
    CancelOrder,
    CreateOrder,
    Ignore,
    IntakeOrder,
    MalformedDelivery,
    MappingError,
)
from oms_api.kit.money import Money

ORDER_TOPICS = frozenset({"order.created", "order.updated"})
MAX_LINES = 200
PING = re.compile(rb"^webhook_id=[0-9]{1,20}$")


class WooCommerce:
    source: ClassVar[str] = "woocommerce"
    signature_header: ClassVar[str] = "X-WC-Webhook-Signature"
    delivery_header: ClassVar[str] = "X-WC-Webhook-Delivery-ID"
    topic_header: ClassVar[str] = "X-WC-Webhook-Topic"

    def is_ping(self, body: bytes, signature: str | None) -> bool:
        """The creation ping: unsigned, and nothing but ``webhook_id=<digits>`` (so it carries nothing to trust)."""
        return not signature and PING.fullmatch(body.strip()) is not None

    def check(self, topic: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise MalformedDelivery("the body is not a JSON object")
        if topic in ORDER_TOPICS and order_ref(payload) is None:
            raise MalformedDelivery("the order has no id")

    def interpret(self, topic: str, payload: dict[str, Any], channel: str) -> Action:
        ref = order_ref(payload)
        status = base.text(payload.get("status"), 40)
        if topic == "order.created" and ref is not None:
            return CreateOrder(map_order(payload, channel, ref))
        if topic == "order.updated" and ref is not None:
            if status == "cancelled":
                return CancelOrder(ref, "cancelled in WooCommerce")
            return Ignore(f"order.updated with status {status!r}: nothing to do")
        return Ignore(f"topic {topic!r} is not one intake handles")


def order_ref(payload: dict[str, Any]) -> str | None:
    """WooCommerce's order id (the post id, ``727``) as the order's external_ref."""
    value = payload.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    ref = str(value).strip()
    return ref if 0 < len(ref) <= 100 and ref.isprintable() and ref != "0" else None


def map_order(payload: dict[str, Any], channel: str, ref: str) -> IntakeOrder:
    cur = base.currency(payload.get("currency"))
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError("the order has no line_items")
    if len(items) > MAX_LINES:
        raise MappingError(f"the order has {len(items)} line items; at most {MAX_LINES} are supported")
    if not all(isinstance(item, dict) for item in items):
        raise MappingError("a line item is not an object")
    problems: list[str] = []
    lines = [_line(n, item, cur) for n, item in enumerate(items, 1)]
    problems.extend(_fees(payload.get("fee_lines"), cur))
    shipping_address, billing_address = base.addresses(
        _address_fields(payload.get("shipping")), _address_fields(payload.get("billing")), problems
    )
    shipping, shipping_tax = _shipping(payload.get("shipping_lines"), cur)
    customer, customer_note = _customer(payload)
    status = base.text(payload.get("status"), 40)
    paid = bool(payload.get("date_paid") or payload.get("date_paid_gmt"))
    method = base.text(payload.get("payment_method_title") or payload.get("payment_method"), 100)
    transaction = base.text(payload.get("transaction_id"), 100)
    fields: dict[str, Any] = {
        "channel": channel,
        "external_ref": ref,
        "currency": cur,
        "customer": customer,
        "shipping_address": shipping_address,
        "billing_address": billing_address,
        "lines": [line for line, _, _ in lines],
        "shipping_price": base.wire(shipping) if shipping is not None else None,
        "shipping_tax": base.wire(shipping_tax) if shipping_tax is not None else None,
        "tags": ["woocommerce", "payment-paid" if paid else "payment-pending"],
        "prices_include_tax": False,  # line and shipping values are tax-exclusive with their tax given
        "payment": (
            {"external_status": "captured", "external_reference": (transaction or f"woocommerce:{ref}")[:100]}
            if paid
            else None
        ),
        "notes": base.notes_text(
            [
                f"WooCommerce order {base.text(payload.get('number'), 40) or ref} (id {ref})",
                f"status: {status}" if status else None,
                f"payment: {method}" + (f" (transaction {transaction})" if transaction else "") if method else None,
                _coupons(payload.get("coupon_lines")),
                customer_note,
                base.text(payload.get("customer_note"), 1000),
            ]
        ),
    }
    return base.intake_order(fields, lines, problems, payload.get("total"), cur, "total")


def _line(n: int, item: dict[str, Any], cur: str) -> tuple[dict[str, Any], str, str]:
    """A line item as ``(OrderLineCreate fields, SKU text, name)``."""
    what = f"line item {n}"
    count = base.quantity(item.get("quantity"), f"{what} quantity")
    after = base.amount(item.get("total"), cur, f"{what} total")
    before = base.amount_or_zero(item.get("subtotal"), cur, f"{what} subtotal")
    value = before if before.amount >= after.amount else after  # a surcharge plugin may raise the line
    if value.minor < 0:
        raise MappingError(f"{what} is worth less than nothing")
    unit, rounding = base.unit_price(value, count)
    line = {
        "sku": "",
        "quantity": count,
        "unit_price": base.wire(unit),
        "discount": base.wire(value - after + rounding),
        "tax": base.wire(base.amount_or_zero(item.get("total_tax"), cur, f"{what} total_tax")),
    }
    return line, base.sku_text(item.get("sku")), base.text(item.get("name"), 200) or ""


def _fees(fee_lines: Any, cur: str) -> list[str]:
    if not isinstance(fee_lines, list):
        return []
    fees = []
    for n, fee in enumerate((f for f in fee_lines if isinstance(f, dict)), 1):
        value = base.amount_or_zero(fee.get("total"), cur, f"fee line {n} total")
        if value.minor:
            fees.append(f"{base.text(fee.get('name'), 100) or 'fee'} {value}")
    return [f"fee lines are not supported ({', '.join(fees)})"] if fees else []


def _shipping(shipping_lines: Any, cur: str) -> tuple[Money | None, Money | None]:
    if not isinstance(shipping_lines, list) or not shipping_lines:
        return None, None
    prices, taxes = [], []
    for n, line in enumerate((s for s in shipping_lines if isinstance(s, dict)), 1):
        prices.append(base.amount_or_zero(line.get("total"), cur, f"shipping line {n} total"))
        taxes.append(base.amount_or_zero(line.get("total_tax"), cur, f"shipping line {n} total_tax"))
    price = base.total(prices, cur)
    if price.minor < 0:
        raise MappingError("shipping costs less than nothing")
    return price, base.total(taxes, cur)


def _address_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    return {
        "name": " ".join(str(raw.get(k) or "") for k in ("first_name", "last_name")).strip(),
        "company": raw.get("company"),
        "line1": raw.get("address_1"),
        "line2": raw.get("address_2"),
        "city": raw.get("city"),
        "region": raw.get("state"),
        "postal_code": raw.get("postcode"),
        "country": raw.get("country"),
        "phone": raw.get("phone"),
    }


def _customer(payload: dict[str, Any]) -> tuple[CustomerCreate | None, str | None]:
    billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
    assert isinstance(billing, dict)
    values: dict[str, Any] = {
        "email": base.text(billing.get("email"), 320),
        "first_name": base.text(billing.get("first_name"), 100),
        "last_name": base.text(billing.get("last_name"), 100),
        "company": base.text(billing.get("company"), 200),
        "phone": base.text(billing.get("phone"), 40),
    }
    customer_id = payload.get("customer_id")
    if isinstance(customer_id, int) and not isinstance(customer_id, bool) and customer_id > 0:
        values["external_refs"] = {"woocommerce": str(customer_id)}
    return base.customer(values)


def _coupons(raw: Any) -> str | None:
    if not isinstance(raw, list):
        return None
    codes = [base.text(coupon.get("code"), 100) for coupon in raw if isinstance(coupon, dict)]
    listed = ", ".join(code for code in codes if code)
    return f"coupons: {listed}" if listed else None
