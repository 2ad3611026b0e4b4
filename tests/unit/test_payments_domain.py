"""Payment rules without a database: figures from the ledger, statuses, a shipment's share, and invariants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_api.payments.domain import (
    Entry,
    Figures,
    Kind,
    LineValue,
    OrderPaymentStatus,
    PaymentStatus,
    Step,
    allocate,
    due,
    figures,
    gateway_key,
    method_summary,
    operations,
    order_payment_status,
    payment_status,
    shipment_capture,
    shipment_share,
    shipping_value,
    units_value,
)


class Ledger:
    """Builds entries with increasing ids, as the service appends them."""

    def __init__(self) -> None:
        self.entries: list[Entry] = []
        self._n = 0

    def _id(self) -> uuid.UUID:
        self._n += 1
        return uuid.UUID(int=self._n)

    def ask(self, kind: Kind, amount: int, *, final: bool = False) -> Entry:
        entry = Entry(self._id(), kind, Step.REQUESTED, amount, None, final)
        self.entries.append(entry)
        return entry

    def answer(self, request: Entry, step: Step, amount: int | None = None) -> None:
        self.entries.append(
            Entry(
                self._id(),
                request.kind,
                step,
                request.amount_minor if amount is None else amount,
                request.id,
                request.final,
            )
        )

    def done(self, kind: Kind, amount: int, *, final: bool = False, step: Step = Step.SUCCEEDED) -> None:
        self.answer(self.ask(kind, amount, final=final), step)

    @property
    def figures(self) -> Figures:
        return figures(self.entries)


def test_amounts_are_sums_of_the_operations_that_succeeded() -> None:
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, 3000)
    ledger.done(Kind.CAPTURE, 2000)
    ledger.done(Kind.CAPTURE, 500, step=Step.FAILED)
    ledger.done(Kind.REFUND, 700)
    f = ledger.figures
    assert (f.authorized, f.captured, f.refunded, f.capturable, f.refundable) == (3000, 2000, 700, 1000, 1300)
    assert payment_status(f) == PaymentStatus.PARTIALLY_REFUNDED


def test_the_latest_outcome_of_a_request_is_its_state() -> None:
    ledger = Ledger()
    request = ledger.ask(Kind.AUTHORIZATION, 3000)
    ledger.answer(request, Step.PENDING)
    assert [op.state for op in operations(ledger.entries)] == [Step.PENDING]
    assert payment_status(ledger.figures) == PaymentStatus.PENDING
    ledger.answer(request, Step.SUCCEEDED)
    assert [op.state for op in operations(ledger.entries)] == [Step.SUCCEEDED]
    assert payment_status(ledger.figures) == PaymentStatus.AUTHORIZED


def test_operations_in_doubt_count_as_done_against_what_may_still_be_done() -> None:
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, 3000)
    ledger.done(Kind.CAPTURE, 1000)
    ledger.ask(Kind.CAPTURE, 1500)  # no answer yet
    assert (ledger.figures.captured, ledger.figures.capturable) == (1000, 500)
    ledger.ask(Kind.REFUND, 600)
    assert (ledger.figures.refunded, ledger.figures.refundable) == (0, 400)
    assert ledger.figures.in_doubt


def test_a_final_capture_in_doubt_closes_the_authorisation_without_voiding_it() -> None:
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, 3000)
    ledger.ask(Kind.CAPTURE, 3000, final=True)
    assert (ledger.figures.capturable, payment_status(ledger.figures)) == (0, PaymentStatus.AUTHORIZED)


def test_a_final_capture_or_a_void_closes_the_authorisation() -> None:
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, 3000)
    ledger.done(Kind.CAPTURE, 1000, final=True)
    assert (ledger.figures.capturable, payment_status(ledger.figures)) == (0, PaymentStatus.CAPTURED)
    voided = Ledger()
    voided.done(Kind.AUTHORIZATION, 3000)
    voided.done(Kind.VOID, 3000)
    assert (voided.figures.capturable, voided.figures.voided, payment_status(voided.figures)) == (
        0,
        3000,
        PaymentStatus.VOIDED,
    )


@pytest.mark.parametrize(
    ("step", "status"),
    [
        (Step.FAILED, PaymentStatus.FAILED),
        (Step.REQUIRES_ACTION, PaymentStatus.REQUIRES_ACTION),
        (Step.PENDING, PaymentStatus.PENDING),
    ],
)
def test_a_payment_not_authorised_is_as_its_authorisation_stands(step: Step, status: PaymentStatus) -> None:
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, 3000, step=step)
    assert payment_status(ledger.figures) == status


@pytest.mark.parametrize(
    ("captured", "refunded", "capturable", "status"),
    [
        (0, 0, 0, OrderPaymentStatus.UNPAID),
        (0, 0, 3000, OrderPaymentStatus.AUTHORIZED),
        (1000, 0, 2000, OrderPaymentStatus.PARTIALLY_CAPTURED),
        (3000, 0, 0, OrderPaymentStatus.PAID),
        (3000, 1000, 0, OrderPaymentStatus.PARTIALLY_REFUNDED),
        (3000, 3000, 0, OrderPaymentStatus.REFUNDED),
        (3500, 0, 0, OrderPaymentStatus.OVERPAID),
        (3500, 400, 0, OrderPaymentStatus.OVERPAID),
    ],
)
def test_the_orders_payment_status_table(
    captured: int, refunded: int, capturable: int, status: OrderPaymentStatus
) -> None:
    f = Figures(authorized=captured + capturable, captured=captured, refunded=refunded)
    assert order_payment_status(3000, [f]) == status


def test_an_order_paid_by_two_payments_is_paid() -> None:
    halves = [
        Figures(authorized=1500, captured=1500, closed=True),
        Figures(authorized=1500, captured=1500, closed=True),
    ]
    assert order_payment_status(3000, halves) == OrderPaymentStatus.PAID


def test_a_shipments_share_is_its_units_pro_rata_plus_shipping_with_the_first() -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    lines = {a: LineValue(3, 1000), b: LineValue(1, 999)}  # 3 units for 10.00: 3.33, 3.33, 3.34 in all
    shipping = shipping_value(2499, lines.values())
    assert shipping == 500
    assert shipment_share({a: 1}, lines, shipping, first=True) == 333 + 500
    assert shipment_share({a: 2, b: 1}, lines, shipping, first=False) == 667 + 999
    assert shipment_capture(1666, outstanding=1666, fully_shipped=True) == (1666, True)
    assert shipment_capture(833, outstanding=2499, fully_shipped=False) == (833, False)


def test_what_an_order_owes_leaves_out_the_units_cancelled() -> None:
    lines = [LineValue(2, 2000, cancelled=1), LineValue(1, 1000)]
    assert due(3500, lines) == 3500 - 1000


def test_keys_name_the_operation_and_methods_keep_only_the_last_four_digits() -> None:
    pid = uuid.UUID(int=1)
    assert gateway_key(pid, Kind.CAPTURE, "shipment", "s1") == f"pay_{pid}:capture:shipment:s1"
    assert method_summary("4242424242424242") == "card •••• 4242"
    assert method_summary("pm_card_visa") == "pm_card_visa"


def test_allocating_a_capture_over_payments_takes_the_oldest_first() -> None:
    assert allocate(2500, [1000, 2000, 500]) == [1000, 1500, 0]


# --- invariants -------------------------------------------------------------------------------------------------

OUTCOMES = st.sampled_from([Step.SUCCEEDED, Step.FAILED, Step.PENDING, None])
OPS = st.lists(
    st.tuples(st.sampled_from([Kind.CAPTURE, Kind.REFUND, Kind.VOID]), st.integers(1, 5000), st.booleans(), OUTCOMES),
    max_size=25,
)


def run(authorized: int, ops: list[tuple[Kind, int, bool, Step | None]]) -> Iterator[Figures]:
    """Apply operations as the service does: each is asked only if the rules allow it at that moment, and then
    answered (or left in doubt); yields the figures after each."""
    ledger = Ledger()
    ledger.done(Kind.AUTHORIZATION, authorized)
    for kind, amount, final, outcome in ops:
        f = ledger.figures
        if kind == Kind.CAPTURE and not 0 < amount <= f.capturable:
            continue
        if kind == Kind.REFUND and not 0 < amount <= f.refundable:
            continue
        if kind == Kind.VOID:
            if f.capturable <= 0:
                continue
            amount = f.capturable
        request = ledger.ask(kind, amount, final=final)
        if outcome is not None:
            ledger.answer(request, outcome)
        yield ledger.figures


@settings(max_examples=300)
@given(st.integers(1, 10_000), OPS)
def test_never_more_refunded_than_captured_nor_captured_than_authorised(
    authorized: int, ops: list[tuple[Kind, int, bool, Step | None]]
) -> None:
    for f in run(authorized, ops):
        assert 0 <= f.refunded + f.refund_in_doubt <= f.captured
        assert 0 <= f.captured + f.capture_in_doubt <= f.authorized
        assert 0 <= f.refundable <= f.captured - f.refunded
        assert 0 <= f.capturable <= f.authorized - f.captured
        assert payment_status(f) in set(PaymentStatus)


@settings(max_examples=300)
@given(st.integers(1, 10_000), OPS)
def test_operations_in_doubt_settling_either_way_stay_within_bounds(
    authorized: int, ops: list[tuple[Kind, int, bool, Step | None]]
) -> None:
    """Whatever a request in doubt turns out to have done, the totals never pass what the gateway allows."""
    for f in run(authorized, ops):
        assert f.captured + f.capture_in_doubt <= f.authorized  # every capture in doubt succeeding
        assert f.refunded + f.refund_in_doubt <= f.captured  # every refund in doubt succeeding, captures failing


@given(st.lists(st.tuples(st.integers(1, 50), st.integers(0, 100_000)), min_size=1, max_size=8), st.data())
def test_shipments_shares_add_up_to_exactly_what_the_order_owes(
    lines_spec: list[tuple[int, int]], data: st.DataObject
) -> None:
    """Ship the order in any number of shipments: every share but the last is at most its value, and the last
    (the one that completes the order) captures exactly what remains, so the captures add up to the total."""
    ids = [uuid.UUID(int=i + 1) for i in range(len(lines_spec))]
    lines = {i: LineValue(q, total) for i, (q, total) in zip(ids, lines_spec, strict=True)}
    shipping = data.draw(st.integers(0, 5000))
    total = sum(v.total_minor for v in lines.values()) + shipping
    remaining = {i: v.quantity for i, v in lines.items()}
    captured = 0
    while any(remaining.values()):
        shipment = {i: data.draw(st.integers(0, left)) for i, left in remaining.items() if left}
        if not any(shipment.values()):
            first_left = next(i for i, left in remaining.items() if left)
            shipment[first_left] = 1
        for i, units in shipment.items():
            remaining[i] -= units
        complete = not any(remaining.values())
        share = shipment_share(shipment, lines, shipping, first=captured == 0)
        amount, final = shipment_capture(share, total - captured, complete)
        assert 0 <= amount <= total - captured
        assert final == complete
        captured += amount
    assert captured == total
    assert all(units_value(v, v.quantity) == v.total_minor for v in lines.values())
