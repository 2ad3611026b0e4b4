"""Order rules (pure): the lifecycle state machine and the money arithmetic of totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from oms_api.kit.money import Money, fits_column


class OrderStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    ALLOCATED = "allocated"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    ON_HOLD = "on_hold"
    CANCELLED = "cancelled"


class OrderPaymentStatus(StrEnum):
    """An order's payment status, derived by payments from the order's transactions (``payments.domain``)."""

    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    OVERPAID = "overpaid"
    ON_TERMS = "on_terms"
    """Nothing was asked of a gateway: the order is invoiced and paid by its customer's payment terms."""


CREDIT_HOLD = "credit"
"""The hold type of an order placed over its customer's credit limit (invoices' credit control)."""

S = OrderStatus
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.ON_HOLD, S.CANCELLED}),
    S.CONFIRMED: frozenset({S.ALLOCATED, S.ON_HOLD, S.CANCELLED}),
    S.ALLOCATED: frozenset({S.PARTIALLY_SHIPPED, S.SHIPPED, S.ON_HOLD, S.CANCELLED}),
    S.PARTIALLY_SHIPPED: frozenset({S.SHIPPED}),
    S.SHIPPED: frozenset({S.DELIVERED}),
    S.DELIVERED: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.ON_HOLD: frozenset({S.PENDING, S.CONFIRMED, S.ALLOCATED, S.CANCELLED}),
    S.CANCELLED: frozenset(),
}
HOLDABLE = frozenset({S.PENDING, S.CONFIRMED, S.ALLOCATED})
EDITABLE = frozenset({S.PENDING, S.CONFIRMED, S.ALLOCATED, S.ON_HOLD})
RESOURCEABLE = frozenset({S.CONFIRMED, S.ON_HOLD})
"""Orders whose whole allocation may be sourced again (nothing is being picked yet)."""
PARTLY_RESOURCEABLE = frozenset({S.CONFIRMED, S.ON_HOLD, S.ALLOCATED})
"""Orders a part of which may move to another warehouse (short pick, closed warehouse)."""
SHIPMENTS_CAN_BE_MADE = frozenset({S.CONFIRMED, S.ALLOCATED, S.PARTIALLY_SHIPPED})
"""Orders whose reserved stock not yet in a shipment may be put into new shipments."""
WORKABLE = frozenset({S.ALLOCATED, S.PARTIALLY_SHIPPED, S.SHIPPED})
"""Orders whose shipments the warehouse may work on (pick, pack, ship)."""


class IllegalTransition(Exception):
    """The order cannot move from its status to the requested one."""

    def __init__(self, current: OrderStatus, target: OrderStatus) -> None:
        self.current, self.target = current, target
        self.allowed = sorted(TRANSITIONS[current])
        super().__init__(f"An order that is {current} cannot become {target}")


def transition(current: OrderStatus, target: OrderStatus) -> OrderStatus:
    """``target`` if the lifecycle allows it from ``current``; otherwise ``IllegalTransition``."""
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(current, target)
    return target


def release_target(held_from: OrderStatus | None) -> OrderStatus:
    """Where an order returns when its hold is released: the status it was held from."""
    return held_from if held_from in HOLDABLE else S.PENDING


@dataclass(frozen=True, slots=True)
class PricedLine:
    quantity: int
    unit_price: Money
    discount: Money
    tax_rate: Decimal | None
    tax: Money | None
    tax_included: bool = False
    """The unit price includes the tax (tax_inclusive basis): the tax is the part of the value it makes up."""


@dataclass(frozen=True, slots=True)
class LineAmounts:
    gross: Money  # quantity x unit price
    discount: Money
    tax: Money
    total: Money  # gross - discount + tax


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    discount_total: Money
    shipping_total: Money
    tax_total: Money
    grand_total: Money


class PricingError(ValueError):
    """Amounts that cannot make an order (a discount above the line's value, say)."""

    def __init__(self, line_index: int | None, field: str, message: str) -> None:
        self.line_index, self.field = line_index, field
        super().__init__(message)


def line_amounts(index: int, line: PricedLine) -> LineAmounts:
    """A line's money: tax given by the channel, or computed from a rate on the discounted value; the total is
    the discounted value with its tax added, or, when prices include tax, the discounted value itself."""
    gross = line.unit_price.times(line.quantity)
    if line.discount.amount > gross.amount:
        raise PricingError(index, "discount", "the discount exceeds the line's value")
    net = gross - line.discount
    if line.tax is not None:
        tax = line.tax
    elif line.tax_rate is not None:  # pricing passes taxes it computed (taxes.domain); this is the exclusive rule
        tax = net.times(line.tax_rate)
    else:
        tax = Money.zero(gross.currency)
    total = net if line.tax_included else net + tax
    amounts = LineAmounts(gross=gross, discount=line.discount, tax=tax, total=total)
    if not (fits_column(amounts.gross) and fits_column(amounts.total)):  # only from amounts no request can give
        raise PricingError(index, "unit_price", "the line's value is larger than an amount the service can store")
    return amounts


def order_totals(
    currency: str,
    lines: Sequence[LineAmounts],
    shipping: Money | None,
    shipping_tax: Money | None,
    *,
    tax_included: bool = False,
) -> Totals:
    """The order's totals; every amount is exact in the currency's minor unit and fits its column. When prices
    include tax (``tax_included``: the subtotal and shipping contain it), the tax total is what they contain and
    is not added again.

    Amounts a request gives are bounded (``kit.money.MAX_AMOUNT_MINOR``) so that the largest order fits; the check
    here keeps amounts that bypass request validation (a storefront's, mapped by intake) from overflowing."""
    zero = Money.zero(currency)
    subtotal, discount, tax = zero, zero, zero
    for line in lines:
        subtotal, discount, tax = subtotal + line.gross, discount + line.discount, tax + line.tax
    shipping = shipping or zero
    tax = tax + (shipping_tax or zero)
    totals = Totals(
        subtotal=subtotal,
        discount_total=discount,
        shipping_total=shipping,
        tax_total=tax,
        grand_total=subtotal - discount + shipping + (zero if tax_included else tax),
    )
    if not all(fits_column(t) for t in (totals.subtotal, totals.tax_total, totals.grand_total)):
        raise PricingError(None, "lines", "the order's total is larger than an amount the service can store")
    return totals
