"""Order lifecycle and money rules, without a database."""

from __future__ import annotations

import itertools
from decimal import Decimal

import pytest

from oms_api.kit.money import Money
from oms_api.orders.domain import (
    TRANSITIONS,
    IllegalTransition,
    LineAmounts,
    OrderStatus,
    PricedLine,
    PricingError,
    line_amounts,
    order_totals,
    release_target,
    transition,
)

S = OrderStatus


def eur(amount: str) -> Money:
    return Money.of(amount, "EUR")


def test_the_happy_path_is_allowed_step_by_step() -> None:
    path = [S.PENDING, S.CONFIRMED, S.ALLOCATED, S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.COMPLETED]
    for current, target in itertools.pairwise(path):
        assert transition(current, target) is target


@pytest.mark.parametrize("status", [S.PARTIALLY_SHIPPED, S.SHIPPED, S.DELIVERED, S.COMPLETED, S.CANCELLED])
def test_cancelling_a_shipped_or_finished_order_is_refused(status: OrderStatus) -> None:
    with pytest.raises(IllegalTransition) as caught:
        transition(status, S.CANCELLED)
    assert caught.value.allowed == sorted(TRANSITIONS[status])


def test_terminal_states_allow_nothing() -> None:
    assert TRANSITIONS[S.CANCELLED] == frozenset()
    assert TRANSITIONS[S.COMPLETED] == frozenset()


def test_every_status_has_its_transitions_declared() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


def test_a_released_hold_returns_to_where_it_was() -> None:
    assert release_target(S.ALLOCATED) is S.ALLOCATED
    assert release_target(None) is S.PENDING


def test_tax_from_a_rate_is_computed_on_the_discounted_value_and_rounded_half_up() -> None:
    amounts = line_amounts(0, PricedLine(3, eur("9.99"), eur("2.00"), Decimal("0.19"), None))
    assert amounts.gross == eur("29.97")
    assert amounts.tax == eur("5.31")  # 27.97 x 0.19 = 5.3143
    assert amounts.total == eur("33.28")


def test_a_discount_above_the_line_value_is_refused() -> None:
    with pytest.raises(PricingError) as caught:
        line_amounts(2, PricedLine(1, eur("5.00"), eur("6.00"), None, None))
    assert (caught.value.line_index, caught.value.field) == (2, "discount")


def test_totals_add_up_in_minor_units_for_a_zero_decimal_currency() -> None:
    yen = line_amounts(0, PricedLine(2, Money.of("1500", "JPY"), Money.zero("JPY"), Decimal("0.1"), None))
    totals = order_totals("JPY", [yen], Money.of("500", "JPY"), None)
    assert totals.grand_total == Money.of("3800", "JPY")
    assert totals.grand_total.minor == 3800


def test_grand_total_is_subtotal_minus_discount_plus_shipping_plus_tax() -> None:
    lines = [
        LineAmounts(eur("10.00"), eur("1.00"), eur("1.71"), eur("10.71")),
        LineAmounts(eur("5.00"), eur("0.00"), eur("0.95"), eur("5.95")),
    ]
    totals = order_totals("EUR", lines, eur("4.90"), eur("0.93"))
    assert totals.subtotal == eur("15.00")
    assert totals.tax_total == eur("3.59")
    assert totals.grand_total == eur("22.49")


def test_the_payment_statuses_orders_filter_on_are_the_ones_payments_derive() -> None:
    from oms_api.orders.domain import OrderPaymentStatus as Filtered
    from oms_api.payments.domain import OrderPaymentStatus as Derived

    assert [s.value for s in Filtered] == [s.value for s in Derived]
