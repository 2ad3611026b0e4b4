"""The first sourcing rule, without a database."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from oms_api.allocation.domain import Holding, LineRequest, Plan, Policy, Site, source


@dataclass(frozen=True, slots=True)
class Candidate:
    """A warehouse holding a SKU, with what it can still promise."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    priority: int
    available: int


def plan(
    lines: Sequence[LineRequest], candidates: Mapping[uuid.UUID, Sequence[Candidate]], max_warehouses: int = 3
) -> Plan:
    """The engine without coordinates, policy or safety stock: fewest shipments, then priority."""
    sites: dict[uuid.UUID, Site] = {}
    holdings: list[Holding] = []
    for sku_id, found in candidates.items():
        for c in found:
            sites.setdefault(c.warehouse_id, Site(c.warehouse_id, c.warehouse_code, c.priority))
            holdings.append(Holding(sku_id, c.warehouse_id, c.available))
    return source(lines, sites.values(), holdings, None, Policy(max_warehouses=max_warehouses), explain=False)


A, B, C = (uuid.UUID(int=i) for i in (1, 2, 3))
SKU1, SKU2 = uuid.UUID(int=101), uuid.UUID(int=102)


def wh(wid: uuid.UUID, available: int, priority: int = 0) -> Candidate:
    return Candidate(wid, f"W{wid.int}", priority, available)


def test_one_warehouse_that_serves_every_line_beats_a_higher_priority_split() -> None:
    result = plan(
        [LineRequest(1, SKU1, 2), LineRequest(2, SKU2, 1)],
        {SKU1: [wh(A, 5, priority=9), wh(B, 5)], SKU2: [wh(B, 1)]},
    )
    assert result.complete
    assert {a.warehouse_id for a in result.allocations} == {B}


def test_the_highest_priority_warehouse_wins_among_those_that_can_serve() -> None:
    result = plan([LineRequest(1, SKU1, 3)], {SKU1: [wh(A, 3, 1), wh(B, 3, 5), wh(C, 2, 9)]})
    assert [(a.warehouse_id, a.quantity) for a in result.allocations] == [(B, 3)]


def test_a_line_no_warehouse_can_serve_alone_is_split_only_as_needed() -> None:
    result = plan([LineRequest(1, SKU1, 7)], {SKU1: [wh(A, 4, 9), wh(B, 5), wh(C, 1, 5)]})
    assert result.complete
    assert sorted((a.warehouse_id.int, a.quantity) for a in result.allocations) == [(1, 2), (2, 5)]


def test_shortage_names_the_sku_with_what_is_available() -> None:
    result = plan([LineRequest(1, SKU1, 5), LineRequest(2, SKU1, 1)], {SKU1: [wh(A, 4), wh(B, 1)]})
    assert not result.complete
    assert [(s.sku_id, s.requested, s.available) for s in result.shortages] == [(SKU1, 6, 5)]
    assert result.allocations == ()


def test_a_split_is_limited_to_the_maximum_number_of_warehouses() -> None:
    result = plan([LineRequest(1, SKU1, 3)], {SKU1: [wh(A, 1), wh(B, 1), wh(C, 1)]}, max_warehouses=2)
    assert not result.complete


def test_two_lines_of_one_sku_never_take_the_same_unit_twice() -> None:
    result = plan([LineRequest(1, SKU1, 3), LineRequest(2, SKU1, 3)], {SKU1: [wh(A, 3, 5), wh(B, 3)]})
    assert result.complete
    taken: dict[uuid.UUID, int] = {}
    for a in result.allocations:
        taken[a.warehouse_id] = taken.get(a.warehouse_id, 0) + a.quantity
    assert taken == {A: 3, B: 3}


stock_lists = st.lists(st.integers(min_value=-2, max_value=8), min_size=1, max_size=4)


@settings(max_examples=300, deadline=None)
@given(
    stocks=st.lists(stock_lists, min_size=1, max_size=3),
    quantities=st.lists(st.integers(min_value=1, max_value=10), min_size=1, max_size=4),
)
def test_a_plan_never_exceeds_available_stock_and_covers_every_line_exactly(
    stocks: list[list[int]], quantities: list[int]
) -> None:
    skus = [uuid.UUID(int=200 + i) for i in range(len(stocks))]
    candidates = {
        sku: [Candidate(uuid.UUID(int=i + 1), f"W{i}", i % 3, avail) for i, avail in enumerate(avails)]
        for sku, avails in zip(skus, stocks, strict=True)
    }
    lines = [LineRequest(n, skus[n % len(skus)], q) for n, q in enumerate(quantities)]
    result = plan(lines, candidates, max_warehouses=3)
    if not result.complete:
        assert result.allocations == ()
        return
    used: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for a in result.allocations:
        assert a.quantity > 0
        used[(a.sku_id, a.warehouse_id)] = used.get((a.sku_id, a.warehouse_id), 0) + a.quantity
    for sku, cands in candidates.items():
        for c in cands:
            assert used.get((sku, c.warehouse_id), 0) <= max(c.available, 0)
    for line in lines:
        assert sum(a.quantity for a in result.allocations if a.line_no == line.line_no) == line.quantity
