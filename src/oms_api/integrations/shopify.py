"""Shopify webhooks (REST Admin API order resource): ``orders/create`` and ``orders/cancelled``.

Money is the shop currency (``currency``, ``price``…; ``*_set`` presentment amounts are ignored). Discounts come
from each line's ``discount_allocations`` (order-level discounts are allocated to lines by Shopify), else from
``total_discount`` per line, else ``total_discounts`` spread over the lines. With ``taxes_included`` prices
contain their tax: lines and shipping are converted to tax-exclusive values whose totals stay exact.
"""

from __future__ import annotations

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

ORDER_TOPICS = frozenset({"orders/create", "orders/cancelled"})
MAX_LINES = 200


class Shopify:
    source: ClassVar[str] = "shopify"
    signature_header: ClassVar[str] = "X-Shopify-Hmac-Sha256"
    delivery_header: ClassVar[str] = "X-Shopify-Webhook-Id"
    topic_header: ClassVar[str] = "X-Shopify-Topic"

    def is_ping(self, body: bytes, signature: str | None) -> bool:
        return False  # Shopify signs everything it sends

    def check(self, topic: str, payload: Any) -> None:
        if not isinstance(payload, dict):
            raise MalformedDelivery("the body is not a JSON object")
        if topic in ORDER_TOPICS and order_ref(payload) is None:
            raise MalformedDelivery("the order has no id")

    def interpret(self, topic: str, payload: dict[str, Any], channel: str) -> Action:
        ref = order_ref(payload)
        if topic == "orders/create" and ref is not None:
            return CreateOrder(map_order(payload, channel, ref))
        if topic == "orders/cancelled" and ref is not None:
            why = base.text(payload.get("cancel_reason"), 100)
            return CancelOrder(ref, f"cancelled in Shopify ({why})" if why else "cancelled in Shopify")
        return Ignore(f"topic {topic!r} is not one intake handles")


def order_ref(payload: dict[str, Any]) -> str | None:
    """Shopify's order id (``450789469``) as the order's external_ref."""
    value = payload.get("id")
    if isinstance(value, bool) or not isinstance(value, int | str):
        return None
    ref = str(value).strip()
    return ref if 0 < len(ref) <= 100 and ref.isprintable() else None


_EXTERNAL_STATUS = {
    "paid": "captured",
    "partially_refunded": "captured",
    "refunded": "captured",
    "authorized": "authorized",
}
"""Shopify ``financial_status`` values in which Shopify holds the order's money: it arrives paid externally (a
refund made in Shopify is Shopify's; the OMS's own refunds come with returns). Pending, voided and the rest: none."""


def _payment(financial: str | None, ref: str) -> dict[str, Any] | None:
    """The order's payment as Shopify took it, if it did."""
    status = _EXTERNAL_STATUS.get(financial or "")
    if status is None:
        return None
    return {"external_status": status, "external_reference": f"shopify:{ref}"[:100]}


def map_order(payload: dict[str, Any], channel: str, ref: str) -> IntakeOrder:
    cur = base.currency(payload.get("currency"))
    inclusive = payload.get("taxes_included") is True
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise MappingError("the order has no line_items")
    if len(items) > MAX_LINES:
        raise MappingError(f"the order has {len(items)} line items; at most {MAX_LINES} are supported")
    if not all(isinstance(item, dict) for item in items):
        raise MappingError("a line item is not an object")
    problems: list[str] = []
    lines = _lines(items, payload, cur, inclusive)
    shipping_address, billing_address = base.addresses(
        _address_fields(payload.get("shipping_address")), _address_fields(payload.get("billing_address")), problems
    )
    shipping, shipping_tax = _shipping(payload.get("shipping_lines"), cur, inclusive)
    customer, customer_note = _customer(payload)
    financial = base.text(payload.get("financial_status"), 40)
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
        "tags": _tags(payload.get("tags"), financial),
        "prices_include_tax": False,  # the lines above are tax-exclusive values with their tax given
        "payment": _payment(financial, ref),
        "notes": base.notes_text(
            [
                f"Shopify order {base.text(payload.get('name'), 40) or ref} (id {ref})",
                f"financial status: {financial}" if financial else None,
                "prices include tax" if inclusive else None,
                _discount_codes(payload.get("discount_codes")),
                customer_note,
                base.text(payload.get("note"), 1000),
            ]
        ),
    }
    return base.intake_order(fields, lines, problems, payload.get("total_price"), cur, "total_price")


def _lines(
    items: list[dict[str, Any]], payload: dict[str, Any], cur: str, inclusive: bool
) -> list[tuple[dict[str, Any], str, str]]:
    """Each line item as ``(OrderLineCreate fields, SKU text, title)``."""
    by_allocation = any(_allocations(item) for item in items)
    counts, gross, discounts, taxes = [], [], [], []
    for n, item in enumerate(items, 1):
        what = f"line item {n}"
        count = base.quantity(item.get("quantity"), f"{what} quantity")
        counts.append(count)
        gross.append(base.amount(item.get("price"), cur, f"{what} price").times(count))
        if by_allocation:
            off = [base.amount(a.get("amount"), cur, f"{what} discount") for a in _allocations(item)]
            discounts.append(base.total(off, cur))
        else:
            discounts.append(base.amount_or_zero(item.get("total_discount"), cur, f"{what} total_discount"))
        tax_lines = [t for t in item.get("tax_lines") or [] if isinstance(t, dict)]
        taxes.append(base.total([base.amount(t.get("price"), cur, f"{what} tax") for t in tax_lines], cur))
    order_discount = base.amount_or_zero(payload.get("total_discounts"), cur, "total_discounts")
    if not by_allocation and all(d.minor == 0 for d in discounts) and order_discount.minor:
        discounts = base.spread(order_discount, gross)
    lines = []
    for n, item in enumerate(items):
        value = gross[n] - taxes[n] if inclusive else gross[n]
        if value.minor < 0:
            raise MappingError(f"line item {n + 1}: its tax exceeds its price")
        unit, rounding = base.unit_price(value, counts[n])
        line = {
            "sku": "",
            "quantity": counts[n],
            "unit_price": base.wire(unit),
            "discount": base.wire(discounts[n] + rounding),
            "tax": base.wire(taxes[n]),
        }
        title = base.text(item.get("name"), 200) or base.text(item.get("title"), 200) or ""
        lines.append((line, base.sku_text(item.get("sku")), title))
    return lines


def _shipping(shipping_lines: Any, cur: str, inclusive: bool) -> tuple[Money | None, Money | None]:
    """Shipping after its discounts, and its tax (None when the order has no shipping lines)."""
    if not isinstance(shipping_lines, list) or not shipping_lines:
        return None, None
    prices, taxes = [], []
    for n, line in enumerate((s for s in shipping_lines if isinstance(s, dict)), 1):
        what = f"shipping line {n}"
        if line.get("discounted_price") not in (None, ""):
            prices.append(base.amount(line.get("discounted_price"), cur, f"{what} discounted_price"))
        else:
            off = base.total([base.amount(a.get("amount"), cur, f"{what} discount") for a in _allocations(line)], cur)
            prices.append(base.amount(line.get("price"), cur, f"{what} price") - off)
        tax_lines = [t for t in line.get("tax_lines") or [] if isinstance(t, dict)]
        taxes.append(base.total([base.amount(t.get("price"), cur, f"{what} tax") for t in tax_lines], cur))
    price, tax = base.total(prices, cur), base.total(taxes, cur)
    if inclusive:
        price = price - tax
    if price.minor < 0:
        raise MappingError("shipping costs less than nothing after its discounts and taxes")
    return price, tax


def _allocations(line: dict[str, Any]) -> list[dict[str, Any]]:
    raw = line.get("discount_allocations")
    return [a for a in raw if isinstance(a, dict)] if isinstance(raw, list) else []


def _address_fields(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        return {}
    full_name = raw.get("name") or " ".join(str(raw.get(k) or "") for k in ("first_name", "last_name")).strip()
    return {
        "name": full_name,
        "company": raw.get("company"),
        "line1": raw.get("address1"),
        "line2": raw.get("address2"),
        "city": raw.get("city"),
        "region": raw.get("province_code") or raw.get("province"),
        "postal_code": raw.get("zip"),
        "country": raw.get("country_code"),
        "phone": raw.get("phone"),
        "latitude": raw.get("latitude"),
        "longitude": raw.get("longitude"),
    }


def _customer(payload: dict[str, Any]) -> tuple[CustomerCreate | None, str | None]:
    """The customer's details (matched by e-mail, else created), and a note when some could not be used."""
    raw = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
    assert isinstance(raw, dict)
    values: dict[str, Any] = {
        "email": base.text(raw.get("email") or payload.get("email") or payload.get("contact_email"), 320),
        "first_name": base.text(raw.get("first_name"), 100),
        "last_name": base.text(raw.get("last_name"), 100),
        "phone": base.text(raw.get("phone") or payload.get("phone"), 40),
    }
    customer_id = base.text(raw.get("id"), 100)
    if customer_id:
        values["external_refs"] = {"shopify": customer_id}
    return base.customer(values)


def _tags(raw: Any, financial: str | None) -> list[str]:
    tags = ["shopify"]
    if financial:
        tags.append(base.tag(f"payment-{financial}") or "payment")
    if isinstance(raw, str):
        tags.extend(t for t in (base.tag(part) for part in raw.split(",")) if t)
    return list(dict.fromkeys(tags))[:20]


def _discount_codes(raw: Any) -> str | None:
    if not isinstance(raw, list):
        return None
    codes = [base.text(code.get("code"), 100) for code in raw if isinstance(code, dict)]
    listed = ", ".join(code for code in codes if code)
    return f"discount codes: {listed}" if listed else None
