"""Batch re-sourcing rules without a database: orders that already hold stock, planned until no planned order
fails, and the check that spares writing a plan an order already holds."""

from __future__ import annotations

import uuid
from collections.abc import Hashable

from hypothesis import given, settings
from hypothesis import strategies as st

from oms_api.allocation.domain import (
    Allocation,
    BatchOrder,
    Holding,
    LineRequest,
    Plan,
    Policy,
    Site,
    plan_until_stable,
    same_allocation,
)

A, B = uuid.UUID(int=1), uuid.UUID(int=2)
MUG, TEE = uuid.UUID(int=101), uuid.UUID(int=102)
SITES = [Site(A, "A", 5), Site(B, "B", 1)]


def order(key: str, quantity: int, *, vip: bool = False, only: str | None = None) -> BatchOrder:
    policy = Policy(allowed_warehouses=frozenset({only}) if only else frozenset())
    return BatchOrder(key=key, lines=[LineRequest(1, MUG, quantity)], policy=policy, vip=vip)


def test_stock_an_order_holds_is_free_for_the_batch() -> None:
    """A holds nothing free; the one order's own reservation there makes A its plan again."""
    plans, failed = plan_until_stable([order("x", 3)], SITES, [Holding(MUG, A, 0)], {"x": {(MUG, A): 3}})
    assert failed == set()
    assert [(a.warehouse_id, a.quantity) for a in plans["x"].allocations] == [(A, 3)]


def test_an_order_that_fails_keeps_its_stock_and_the_others_are_planned_without_it() -> None:
    """The VIP takes A (the better warehouse), so x could only have B, which its channel forbids: x fails and keeps
    A, and the VIP, planned again without x's units, gets B instead."""
    orders = [order("x", 3, only="A"), order("vip", 3, vip=True)]
    holdings = [Holding(MUG, A, 0), Holding(MUG, B, 3)]
    plans, failed = plan_until_stable(orders, SITES, holdings, {"x": {(MUG, A): 3}})
    assert failed == {"x"}
    assert set(plans) == {"vip"}
    assert [(a.warehouse_id, a.quantity) for a in plans["vip"].allocations] == [(B, 3)]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 4), st.booleans(), st.sampled_from([None, "A", "B"]), st.integers(0, 4)),
        min_size=1,
        max_size=6,
    ),
    st.integers(0, 6),
    st.integers(0, 6),
)
def test_every_plan_a_batch_keeps_is_complete_and_fits_the_stock_it_may_use(
    raw: list[tuple[int, bool, str | None, int]], free_a: int, free_b: int
) -> None:
    orders = [order(f"o{i}", quantity, vip=vip, only=only) for i, (quantity, vip, only, _) in enumerate(raw)]
    held: dict[Hashable, dict[tuple[uuid.UUID, uuid.UUID], int]] = {
        f"o{i}": {(MUG, A): holds} for i, (_, _, _, holds) in enumerate(raw) if holds
    }
    plans, failed = plan_until_stable(orders, SITES, [Holding(MUG, A, free_a), Holding(MUG, B, free_b)], held)
    assert set(plans) | failed == {o.key for o in orders}
    assert not set(plans) & failed
    assert all(plan.complete for plan in plans.values())
    used = {A: 0, B: 0}
    for plan in plans.values():
        for a in plan.allocations:
            used[a.warehouse_id] += a.quantity
    kept_at_a = sum(units for key, per in held.items() if key in failed for units in per.values())
    freed_at_a = sum(units for key, per in held.items() if key not in failed for units in per.values())
    assert used[A] <= free_a + freed_at_a  # the failed orders' units stay theirs
    assert used[B] <= free_b
    assert kept_at_a + freed_at_a == sum(units for per in held.values() for units in per.values())


def test_a_plan_is_the_same_allocation_when_it_reserves_exactly_what_each_line_holds() -> None:
    line_1, line_2 = uuid.UUID(int=11), uuid.UUID(int=12)
    plan = Plan((Allocation(1, MUG, A, 2), Allocation(1, MUG, B, 1), Allocation(2, TEE, A, 4)), ())
    lines = {1: line_1, 2: line_2}
    assert same_allocation(plan, lines, {(line_1, A): 2, (line_1, B): 1, (line_2, A): 4})
    assert not same_allocation(plan, lines, {(line_1, A): 3, (line_2, A): 4})
    assert not same_allocation(plan, lines, {(line_1, A): 2, (line_1, B): 1, (line_2, A): 4, (line_2, B): 1})
