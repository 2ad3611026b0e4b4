"""Checkout: a cart becomes an order without its stock ever going back to the pool.

The cart's lines and the prices in the request become a placement request, which the orders context
drafts and writes exactly as a placement (same validation, totals, duplicate ``external_ref`` check and
events); instead of reserving, it takes over the cart's holds as the order lines' reservations in place.
``reserved`` does not move, so there is no moment at which another buyer could take the units; the cart
row stays locked until the transaction commits, so a concurrent change, checkout or expiry of the same
cart waits and then finds it converted.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carts import lifecycle
from oms_api.carts.models import CartLine
from oms_api.carts.schemas import CartCheckout, CheckoutLine
from oms_api.customers.schemas import CustomerRef
from oms_api.kit.auth import Principal
from oms_api.kit.errors import ProblemError, ValidationFailed, field_error
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order, OrderCreate, OrderLineCreate

_LINE_POINTER = re.compile(r"^/body/lines/(\d+)(/.*)?$")


def _checkout_lines(body: CartCheckout, lines: list[CartLine], currency: str) -> dict[str, tuple[int, CheckoutLine]]:
    """The body's price lines by SKU, each naming a SKU of the cart once, in the cart's currency."""
    in_cart = {line.sku for line in lines}
    found: dict[str, tuple[int, CheckoutLine]] = {}
    problems = []
    for i, line in enumerate(body.lines):
        at = f"/body/lines/{i}"
        if line.sku not in in_cart:
            problems.append(
                ProblemError(pointer=at + "/sku", detail=f"the cart has no SKU {line.sku!r}", code="not_in_cart")
            )
        elif line.sku in found:
            problems.append(
                ProblemError(pointer=at + "/sku", detail=f"SKU {line.sku!r} is given twice", code="duplicate_sku")
            )
        found[line.sku] = (i, line)
        for field in ("unit_price", "discount", "tax"):
            value: MoneyIn | None = getattr(line, field)
            if value is not None and value.currency != currency:
                problems.append(
                    ProblemError(
                        pointer=f"{at}/{field}/currency",
                        detail=f"must be the cart currency {currency}",
                        code="currency_mismatch",
                    )
                )
    for name in ("shipping_price", "shipping_tax"):
        money: MoneyIn | None = getattr(body, name)
        if money is not None and money.currency != currency:
            problems.append(
                ProblemError(
                    pointer=f"/body/{name}/currency",
                    detail=f"must be the cart currency {currency}",
                    code="currency_mismatch",
                )
            )
    if problems:
        raise ValidationFailed(problems)
    return found


def _order_body(
    body: CartCheckout, channel_id: uuid.UUID, customer_id: uuid.UUID | None, currency: str, lines: list[CartLine]
) -> tuple[OrderCreate, list[int | None]]:
    """The placement request the cart stands for, and for each order line the body line that priced it."""
    priced = _checkout_lines(body, lines, currency)
    order_lines: list[OrderLineCreate] = []
    origin: list[int | None] = []
    missing = []
    for line in lines:
        index, given = priced.get(line.sku, (None, None))
        unit = given.unit_price if given is not None and given.unit_price is not None else None
        if unit is None and line.unit_price_minor is not None:
            unit = MoneyIn.of(Money.from_minor(line.unit_price_minor, currency))
        if unit is None:
            missing.append(line.sku)
            continue
        order_lines.append(
            OrderLineCreate(
                sku=line.sku,
                quantity=line.quantity,
                unit_price=unit,
                discount=given.discount if given else None,
                tax_rate=given.tax_rate if given else None,
                tax=given.tax if given else None,
            )
        )
        origin.append(index)
    if missing:
        raise field_error(
            "/body/lines",
            f"no unit_price for {', '.join(repr(s) for s in missing)}: give it in lines (or on the cart line)",
            "missing_price",
        )
    customer = body.customer
    if customer is None and customer_id is not None:
        customer = CustomerRef(id=customer_id)
    order = OrderCreate(
        channel=str(channel_id),
        external_ref=body.external_ref,
        currency=currency,
        customer=customer,
        shipping_address=body.shipping_address,
        billing_address=body.billing_address,
        lines=order_lines,
        shipping_price=body.shipping_price,
        shipping_tax=body.shipping_tax,
        tags=body.tags,
        notes=body.notes,
    )
    return order, origin


def _repointed(exc: ValidationFailed, origin: list[int | None]) -> ValidationFailed:
    """Placement names order lines; a checkout's client knows its own ``lines`` (by SKU) instead."""
    problems = []
    for error in exc.extra.get("errors", []):
        problem = ProblemError.model_validate(error)
        match = _LINE_POINTER.match(problem.pointer)
        if match and int(match.group(1)) < len(origin):
            body_index = origin[int(match.group(1))]
            problem.pointer = (
                f"/body/lines/{body_index}{match.group(2) or ''}" if body_index is not None else "/body/lines"
            )
        problems.append(problem)
    return ValidationFailed(problems)


async def checkout(
    session: AsyncSession, actor: Principal, cart_id: uuid.UUID, body: CartCheckout, if_match: str | None
) -> Order:
    """Turn the cart into a confirmed order whose reservations are the cart's former holds."""
    cart, lines, held = await lifecycle.begin_checkout(session, cart_id, if_match)
    order_body, origin = _order_body(body, cart.channel_id, cart.customer_id, cart.currency, lines)
    try:
        view = await orders.place_from_cart(session, actor, order_body, cart_id=cart.id, held=held)
    except ValidationFailed as exc:
        raise _repointed(exc, origin) from exc
    await lifecycle.complete_checkout(session, actor, cart, view.id)
    return view
