"""Posting rules (accounting.domain): every entry balances in the document currency and, whatever the rate, in the
base currency; the base rounding lands on the largest leg; no rate means no base amounts (never a guessed one)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.accounting.domain import (
    Leg,
    Role,
    Unbalanced,
    balanced,
    base_balanced,
    convert_minor,
    credit_note_legs,
    fx_legs,
    invoice_legs,
    money_in_legs,
    money_out_legs,
    order_fx_difference,
    rate_label,
    reversed_legs,
    to_base,
    write_off_legs,
)

amounts = st.integers(min_value=0, max_value=10**11)
rates = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("20000"), places=6, allow_nan=False)
tax_rates = st.sampled_from(["0", "5", "7", "7.7", "19", "20", "21"])
currencies = st.sampled_from([("USD", "EUR"), ("JPY", "EUR"), ("EUR", "JPY"), ("KWD", "EUR"), ("GBP", "USD")])


@st.composite
def invoices(draw: st.DrawFn) -> tuple[int, int, int, list[tuple[str, int]]]:
    items = draw(amounts)
    shipping = draw(st.integers(min_value=0, max_value=10**7))
    labels = draw(st.lists(tax_rates, unique=True, max_size=4))
    taxes = [(label, draw(st.integers(min_value=0, max_value=10**10))) for label in labels]
    total = items + shipping + sum(t for _, t in taxes)
    return total, items, shipping, taxes


def _sums(legs: list[Leg]) -> tuple[int, int, int, int]:
    return (
        sum(leg.debit for leg in legs),
        sum(leg.credit for leg in legs),
        sum(leg.base_debit or 0 for leg in legs),
        sum(leg.base_credit or 0 for leg in legs),
    )


@given(invoices(), rates, currencies)
def test_an_invoice_balances_in_both_currencies_at_any_rate(
    invoice: tuple[int, int, int, list[tuple[str, int]]], rate: Decimal, pair: tuple[str, str]
) -> None:
    total, items, shipping, taxes = invoice
    legs = invoice_legs(total, items, shipping, taxes)
    assert balanced(legs)
    posted, pending = to_base(legs, pair[0], pair[1], rate)
    assert not pending
    assert base_balanced(posted)
    debit, credit, base_debit, base_credit = _sums(posted)
    assert debit == credit == total
    assert base_debit == base_credit


@given(invoices(), rates, st.integers(min_value=-5, max_value=5))
def test_the_stated_base_total_anchors_receivables_and_the_rounding_goes_to_the_largest_other_leg(
    invoice: tuple[int, int, int, list[tuple[str, int]]], rate: Decimal, off: int
) -> None:
    total, items, shipping, taxes = invoice
    base_total = convert_minor(total, "USD", "EUR", rate) + (off if total else 0)
    legs = invoice_legs(total, items, shipping, taxes, base_total=base_total)
    posted, _ = to_base(legs, "USD", "EUR", rate)
    assert base_balanced(posted)
    receivables = [leg for leg in posted if leg.role is Role.RECEIVABLES]
    assert [leg.base_debit for leg in receivables] == ([base_total] if total else [])
    others = [leg for leg in posted if leg.role is not Role.RECEIVABLES]
    if others:
        largest = max(others, key=lambda leg: leg.amount)
        for leg in others:
            if leg is not largest:
                assert leg.base_credit == convert_minor(leg.credit, "USD", "EUR", rate)


@given(invoices(), rates)
def test_a_credit_note_mirrors_an_invoice(invoice: tuple[int, int, int, list[tuple[str, int]]], rate: Decimal) -> None:
    total, items, shipping, taxes = invoice
    legs = credit_note_legs(total, items + shipping, taxes)
    posted, _ = to_base(legs, "GBP", "EUR", rate)
    assert balanced(posted)
    assert base_balanced(posted)
    assert sum(leg.credit for leg in posted if leg.role is Role.RECEIVABLES) == total
    refunds = sum(leg.debit for leg in posted if leg.role is Role.REFUNDS_RETURNS)
    assert refunds == items + shipping


@given(amounts, st.sampled_from(["test", "stripe", "bank_transfer"]), rates)
def test_money_moving_balances_and_keeps_the_payments_own_conversion(amount: int, source: str, rate: Decimal) -> None:
    base = convert_minor(amount, "USD", "EUR", rate)
    for legs in (
        money_in_legs(source, amount, base=base),
        money_out_legs(source, amount, base=base),
        write_off_legs(amount, base=base),
    ):
        posted, pending = to_base(legs, "USD", "EUR", rate)
        assert not pending
        assert balanced(posted)
        assert base_balanced(posted)
        assert all((leg.base_debit or leg.base_credit) == base for leg in posted)


def test_a_capture_is_clearing_against_receivables_and_a_refund_the_reverse() -> None:
    capture = money_in_legs("stripe", 1000)
    assert [(leg.role, leg.qualifier, leg.debit, leg.credit) for leg in capture] == [
        (Role.CLEARING, "stripe", 1000, 0),
        (Role.RECEIVABLES, "", 0, 1000),
    ]
    refund = money_out_legs("stripe", 400)
    assert [(leg.role, leg.debit, leg.credit) for leg in refund] == [
        (Role.RECEIVABLES, 400, 0),
        (Role.CLEARING, 0, 400),
    ]


def test_in_the_base_currency_base_amounts_are_the_amounts() -> None:
    legs = invoice_legs(11900, 9000, 1000, [("19", 1900)])
    posted, pending = to_base(legs, "EUR", "EUR", None)
    assert not pending
    assert all(leg.base_debit == leg.debit and leg.base_credit == leg.credit for leg in posted)


def test_without_a_rate_the_base_is_pending_and_never_guessed() -> None:
    legs = invoice_legs(11900, 9000, 1000, [("19", 1900)])
    posted, pending = to_base(legs, "USD", "EUR", None)
    assert pending
    assert all(leg.base_debit is None and leg.base_credit is None for leg in posted)
    assert balanced(posted)


def test_legs_whose_base_is_all_stated_need_no_rate() -> None:
    posted, pending = to_base(fx_legs(37), "USD", "EUR", None)
    assert not pending
    assert base_balanced(posted)
    assert [(leg.role, leg.base_debit, leg.base_credit) for leg in posted] == [
        (Role.FX_LOSS, 37, 0),
        (Role.RECEIVABLES, 0, 37),
    ]
    gain, _ = to_base(fx_legs(-5), "USD", "EUR", None)
    assert [(leg.role, leg.base_debit, leg.base_credit) for leg in gain] == [
        (Role.RECEIVABLES, 5, 0),
        (Role.FX_GAIN, 0, 5),
    ]


def test_unbalanced_legs_are_refused() -> None:
    with pytest.raises(Unbalanced):
        to_base([Leg(Role.REVENUE, debit=10), Leg(Role.RECEIVABLES, credit=9)], "EUR", "EUR", None)


@given(invoices(), rates)
def test_a_reversal_cancels_in_both_currencies(
    invoice: tuple[int, int, int, list[tuple[str, int]]], rate: Decimal
) -> None:
    total, items, shipping, taxes = invoice
    posted, _ = to_base(invoice_legs(total, items, shipping, taxes), "USD", "EUR", rate)
    both = posted + reversed_legs(posted)
    per_account: dict[tuple[Role | None, str], int] = {}
    for leg in both:
        key = (leg.role, leg.qualifier)
        per_account[key] = per_account.get(key, 0) + leg.debit - leg.credit + (leg.base_debit or 0) * 10**15
        per_account[key] -= (leg.base_credit or 0) * 10**15
    assert set(per_account.values()) <= {0}


def test_the_fx_difference_of_an_order_moves_only_once_settled_and_known() -> None:
    assert order_fx_difference([(1000, 920), (-1000, -900)]) == 20
    assert order_fx_difference([(1000, 920), (-400, -370)]) is None  # not settled
    assert order_fx_difference([(1000, 920), (-1000, None)]) is None  # a base pending
    assert order_fx_difference([(1000, 920), (-1000, -920)]) is None  # nothing left
    assert order_fx_difference([]) is None


def test_rates_and_conversions() -> None:
    assert rate_label(Decimal("0.19")) == "19"
    assert rate_label(Decimal("0.075")) == "7.5"
    assert rate_label(Decimal("0")) == "0"
    assert convert_minor(1000, "JPY", "EUR", Decimal("0.0062")) == 620  # 1000 JPY = 6.20 EUR
    assert convert_minor(1, "EUR", "JPY", Decimal("161.5")) == 2  # 0.01 EUR = 1.615 JPY, half up
    assert convert_minor(12345, "KWD", "EUR", Decimal("3")) == 3704  # 12.345 KWD = 37.035 EUR
