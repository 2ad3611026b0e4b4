"""The shipment state machine and the order roll-up, without a database."""

from __future__ import annotations

import itertools
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.fulfillment import domain
from oms_api.fulfillment.domain import (
    BEFORE_DISPATCH,
    DISPATCHED,
    Covered,
    Held,
    IllegalShipmentTransition,
    OrderProgress,
    ShipmentPart,
    ShipmentStatus,
    progress_steps,
    rollup,
    transition,
    uncovered,
)
from oms_api.orders.domain import TRANSITIONS as ORDER_TRANSITIONS
from oms_api.orders.domain import OrderStatus

S = ShipmentStatus
P = OrderProgress
A, B = uuid.uuid4(), uuid.uuid4()
W1, W2 = uuid.uuid4(), uuid.uuid4()


def test_a_delivery_shipment_walks_the_whole_path() -> None:
    path = [S.PENDING, S.PICKING, S.PACKED, S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED]
    for current, target in itertools.pairwise(path):
        assert transition(current, target, pickup=False) == target


def test_a_pickup_shipment_ends_collected_not_shipped() -> None:
    for current, target in [(S.PENDING, S.PICKING), (S.PICKING, S.READY_FOR_PICKUP), (S.READY_FOR_PICKUP, S.PICKED_UP)]:
        assert transition(current, target, pickup=True) == target
    with pytest.raises(IllegalShipmentTransition):
        transition(S.PACKED, S.SHIPPED, pickup=True)
    with pytest.raises(IllegalShipmentTransition):
        transition(S.PACKED, S.READY_FOR_PICKUP, pickup=False)


@pytest.mark.parametrize("status", sorted(BEFORE_DISPATCH - {S.READY_FOR_PICKUP}))
def test_a_shipment_that_has_not_left_can_be_cancelled(status: ShipmentStatus) -> None:
    assert transition(status, S.CANCELLED, pickup=False) == S.CANCELLED
    assert transition(status, S.CANCELLED, pickup=True) == S.CANCELLED


@pytest.mark.parametrize("status", sorted(DISPATCHED - {S.PICKED_UP}))
def test_a_shipment_that_has_left_cannot_be_cancelled(status: ShipmentStatus) -> None:
    with pytest.raises(IllegalShipmentTransition) as caught:
        transition(status, S.CANCELLED, pickup=False)
    assert S.CANCELLED not in caught.value.allowed


def test_shipping_is_only_possible_once_packed() -> None:
    for status in (S.PENDING, S.PICKING):
        with pytest.raises(IllegalShipmentTransition) as caught:
            transition(status, S.SHIPPED, pickup=False)
        assert S.SHIPPED not in caught.value.allowed


def test_an_exception_can_recover_or_end() -> None:
    for target in (S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.RETURNED_TO_SENDER):
        assert transition(S.EXCEPTION, target, pickup=False) == target


@pytest.mark.parametrize("status", [S.DELIVERED, S.RETURNED_TO_SENDER, S.CANCELLED, S.PICKED_UP])
def test_final_states_allow_nothing(status: ShipmentStatus) -> None:
    assert domain.allowed(status, status == S.PICKED_UP) == []


def test_a_carrier_report_moves_forward_but_never_back() -> None:
    assert domain.carrier_update_target(S.SHIPPED, S.IN_TRANSIT, pickup=False) == S.IN_TRANSIT
    assert domain.carrier_update_target(S.IN_TRANSIT, S.DELIVERED, pickup=False) == S.DELIVERED
    assert domain.carrier_update_target(S.DELIVERED, S.IN_TRANSIT, pickup=False) is None
    assert domain.carrier_update_target(S.IN_TRANSIT, S.IN_TRANSIT, pickup=False) is None
    assert domain.carrier_update_target(S.READY_FOR_PICKUP, S.DELIVERED, pickup=True) is None


# --- roll-up ---------------------------------------------------------------------------------------------------


def part(status: ShipmentStatus, **quantities: int) -> ShipmentPart:
    lines = {"a": A, "b": B}
    return ShipmentPart(status, {lines[k]: v for k, v in quantities.items()})


def test_nothing_dispatched_keeps_the_order_allocated() -> None:
    assert rollup({A: 2}, [part(S.PACKED, a=2)]) == P.ALLOCATED


def test_one_of_two_shipments_dispatched_is_partially_shipped() -> None:
    assert rollup({A: 2, B: 1}, [part(S.SHIPPED, a=2), part(S.PICKING, b=1)]) == P.PARTIALLY_SHIPPED


def test_every_unit_dispatched_is_shipped_even_while_some_travel() -> None:
    assert rollup({A: 2, B: 1}, [part(S.DELIVERED, a=2), part(S.OUT_FOR_DELIVERY, b=1)]) == P.SHIPPED


def test_every_unit_received_is_delivered_including_collected_ones() -> None:
    assert rollup({A: 2, B: 1}, [part(S.DELIVERED, a=2), part(S.PICKED_UP, b=1)]) == P.DELIVERED


def test_a_cancelled_part_not_yet_replaced_keeps_the_order_short_of_shipped() -> None:
    parts = [part(S.SHIPPED, a=1), part(S.CANCELLED, a=1)]
    assert rollup({A: 2}, parts) == P.PARTIALLY_SHIPPED
    assert rollup({A: 2}, [*parts, part(S.SHIPPED, a=1)]) == P.SHIPPED


def test_a_line_split_over_two_warehouses_counts_units() -> None:
    assert rollup({A: 3}, [part(S.DELIVERED, a=2), part(S.SHIPPED, a=1)]) == P.SHIPPED
    assert rollup({A: 3}, [part(S.DELIVERED, a=2), part(S.DELIVERED, a=1)]) == P.DELIVERED


def test_progress_goes_through_shipped_to_reach_delivered() -> None:
    assert progress_steps(P.ALLOCATED, P.DELIVERED) == [P.SHIPPED, P.DELIVERED]
    assert progress_steps(P.ALLOCATED, P.SHIPPED) == [P.SHIPPED]
    assert progress_steps(P.ALLOCATED, P.PARTIALLY_SHIPPED) == [P.PARTIALLY_SHIPPED]
    assert progress_steps(P.PARTIALLY_SHIPPED, P.DELIVERED) == [P.SHIPPED, P.DELIVERED]
    assert progress_steps(P.SHIPPED, P.PARTIALLY_SHIPPED) == []
    assert progress_steps(P.DELIVERED, P.DELIVERED) == []


@given(st.sampled_from(list(P)), st.sampled_from(list(P)))
def test_every_progress_step_is_a_legal_order_transition(current: OrderProgress, target: OrderProgress) -> None:
    at = OrderStatus(current.value)
    for step in progress_steps(current, target):
        assert OrderStatus(step.value) in ORDER_TRANSITIONS[at]
        at = OrderStatus(step.value)


statuses = st.sampled_from(list(S))


@given(st.lists(st.tuples(statuses, st.integers(0, 3), st.integers(0, 3)), max_size=6))
def test_the_roll_up_never_claims_more_than_the_shipments_carry(shipments: list[tuple[S, int, int]]) -> None:
    ordered = {A: 3, B: 2}
    parts = [ShipmentPart(s, {A: a, B: b}) for s, a, b in shipments]
    result = rollup(ordered, parts)
    sent = {line: sum(p.quantities[line] for p in parts if p.status in DISPATCHED) for line in ordered}
    if result in (P.SHIPPED, P.DELIVERED):
        assert all(sent[line] >= qty for line, qty in ordered.items())
    if result == P.ALLOCATED:
        assert not any(sent.values())


# --- creating shipments ----------------------------------------------------------------------------------------


def test_new_shipments_take_only_what_open_shipments_do_not_carry() -> None:
    held = [Held(W1, A, 2), Held(W1, B, 1), Held(W2, A, 1)]
    assert uncovered(held, []) == {W1: {A: 2, B: 1}, W2: {A: 1}}
    assert uncovered(held, [Covered(W1, A, 2), Covered(W1, B, 1)]) == {W2: {A: 1}}
    assert uncovered(held, [Covered(W1, A, 2), Covered(W1, B, 1), Covered(W2, A, 1)]) == {}


def test_units_short_at_pick_time_do_not_ship() -> None:
    assert domain.to_dispatch(3, 1) == 2
    assert domain.to_dispatch(3, 3) == 0
