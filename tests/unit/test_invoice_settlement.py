"""Settlement rules (pure): statuses from figures, payments and refunds shared among an order's invoices."""

from __future__ import annotations

from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from oms_api.invoices.domain.settlement import (
    InvoiceStatus,
    allocate_payment,
    allocate_refund,
    amount_due,
    derive_status,
    spread,
)

TODAY = date(2026, 12, 3)
amounts = st.integers(min_value=0, max_value=10**12)


def status(total: int, paid: int = 0, credited: int = 0, written_off: int = 0, due: date | None = TODAY) -> str:
    return derive_status(
        total=total, paid=paid, credited=credited, written_off=written_off, due_date=due, today=TODAY
    ).value


def test_statuses_follow_the_figures() -> None:
    assert status(100) == "issued"
    assert status(100, paid=40) == "partially_paid"
    assert status(100, paid=100) == "paid"
    assert status(100, paid=40, written_off=60) == "paid"
    assert status(100, credited=100) == "credited"
    assert status(100, paid=100, credited=100) == "credited"
    assert status(100, credited=30) == "issued"
    assert status(100, credited=30, paid=70) == "paid"
    assert status(0) == "paid"


def test_past_due_with_something_due_is_overdue_and_nothing_due_never_is() -> None:
    yesterday = date(2026, 12, 2)
    assert status(100, due=yesterday) == "overdue"
    assert status(100, paid=40, due=yesterday) == "overdue"
    assert status(100, paid=100, due=yesterday) == "paid"
    assert status(100, due=TODAY) == "issued"
    assert status(100, due=None) == "issued"


def test_a_payment_pays_the_oldest_invoice_in_full_first() -> None:
    assert allocate_payment(150, [("a", 100), ("b", 100)]) == ([("a", 100), ("b", 50)], 0)
    assert allocate_payment(250, [("a", 100), ("b", 100)]) == ([("a", 100), ("b", 100)], 50)
    assert allocate_payment(50, [("a", 0), ("b", 100)]) == ([("b", 50)], 0)
    assert allocate_payment(50, []) == ([], 50)


def test_a_refund_takes_unallocated_money_first_then_the_newest_invoices() -> None:
    assert allocate_refund(30, 40, [("b", 100), ("a", 100)]) == ([], 0)
    assert allocate_refund(60, 40, [("b", 100), ("a", 100)]) == ([("b", -20)], 0)
    assert allocate_refund(150, 0, [("b", 100), ("a", 100)]) == ([("b", -100), ("a", -50)], 0)
    assert allocate_refund(250, 0, [("b", 100), ("a", 100)]) == ([("b", -100), ("a", -100)], 50)


@given(amounts, st.lists(amounts, max_size=6))
def test_payment_shares_never_exceed_what_is_due_and_add_up(amount: int, dues: list[int]) -> None:
    shares, left = allocate_payment(amount, list(enumerate(dues)))
    assert sum(s for _, s in shares) + left == amount
    assert all(0 < s <= dues[k] for k, s in shares)
    paid = dict(shares)
    for k, due in enumerate(dues):  # oldest first: a later invoice gets money only when earlier ones are paid
        if any(paid.get(later, 0) > 0 for later in range(k + 1, len(dues))):
            assert paid.get(k, 0) == due
    if left > 0:
        assert all(paid.get(k, 0) == due for k, due in enumerate(dues))


@given(amounts, amounts, st.lists(amounts, max_size=6))
def test_refund_shares_never_exceed_what_was_paid_and_add_up(amount: int, waiting: int, paid: list[int]) -> None:
    shares, left = allocate_refund(amount, waiting, list(enumerate(paid)))
    taken_from_waiting = min(amount, waiting)
    assert taken_from_waiting - sum(s for _, s in shares) + left == amount
    assert all(-paid[k] <= s < 0 for k, s in shares)


@given(amounts, st.lists(amounts, max_size=6))
def test_spread_takes_no_more_than_each_pot_holds(amount: int, pots: list[int]) -> None:
    taken = spread(amount, list(enumerate(pots)))
    assert sum(s for _, s in taken) == min(amount, sum(pots))
    assert all(0 < s <= pots[k] for k, s in taken)


@given(amounts, amounts, amounts, amounts)
def test_nothing_due_is_settled_and_something_due_is_open(total: int, paid: int, credited: int, off: int) -> None:
    result = derive_status(total=total, paid=paid, credited=credited, written_off=off, due_date=None, today=TODAY)
    due = amount_due(total, paid, credited, off)
    if due <= 0:
        assert result in (InvoiceStatus.PAID, InvoiceStatus.CREDITED)
    elif result != InvoiceStatus.CREDITED:
        assert result in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID)
