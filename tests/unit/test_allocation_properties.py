"""Properties of every sourcing plan (hypothesis): the invariants no input may break."""

from __future__ import annotations

import uuid
from itertools import combinations

from hypothesis import event, given, settings
from hypothesis import strategies as st

from oms_api.allocation.domain import (
    BatchOrder,
    Destination,
    Holding,
    LineRequest,
    Plan,
    Policy,
    Site,
    Strategy,
    plan_batch,
    source,
)

WAREHOUSES = [uuid.UUID(int=i + 1) for i in range(6)]
SKUS = [uuid.UUID(int=100 + i) for i in range(4)]
COUNTRIES = ["DE", "AT", "FR"]

site_facts = st.tuples(
    st.sampled_from([True, True, True, False]),  # active, mostly
    st.integers(-3, 3),  # priority
    st.booleans(),  # has coordinates
    st.floats(-60, 60),
    st.floats(-170, 170),
    st.just(set()) | st.sets(st.sampled_from(COUNTRIES), max_size=2),  # serves everywhere, often
)
sites_strategy = st.lists(site_facts, min_size=1, max_size=6).map(
    lambda facts: [
        Site(
            WAREHOUSES[i], f"W{i}", prio, active, lat if located else None, lon if located else None, frozenset(serves)
        )
        for i, (active, prio, located, lat, lon, serves) in enumerate(facts)
    ]
)


holdings_strategy = st.lists(  # one (available, safety stock) per warehouse and SKU, row by row
    st.tuples(st.integers(2, 12) | st.integers(4, 12) | st.integers(-2, 3), st.integers(0, 2)), min_size=24, max_size=24
)
lines_strategy = st.lists(st.tuples(st.integers(0, 3), st.integers(1, 5)), min_size=1, max_size=4)
destination_strategy = st.one_of(
    st.just(Destination("DE")),
    st.builds(
        lambda c, lat, lon: Destination(c, lat, lon, "city"),
        st.sampled_from(COUNTRIES),
        st.floats(-60, 60),
        st.floats(-170, 170),
    ),
)
policy_strategy = st.builds(
    lambda strategy, allowed, most, excluded: Policy(
        strategy=strategy,
        allowed_warehouses=frozenset(f"W{i}" for i in allowed),
        max_warehouses=most,
        excluded=frozenset(WAREHOUSES[i] for i in excluded),
    ),
    st.sampled_from(list(Strategy)),
    st.just(set()) | st.sets(st.integers(0, 5), max_size=4),
    st.integers(1, 4),
    st.just(set()) | st.sets(st.integers(0, 5), max_size=2),
)


def _build(
    sites: list[Site], raw: list[tuple[int, int]], raw_lines: list[tuple[int, int]]
) -> tuple[list[Holding], list[LineRequest]]:
    holdings = [
        Holding(SKUS[i % 4], WAREHOUSES[i // 4], available, safety)
        for i, (available, safety) in enumerate(raw)
        if i // 4 < len(sites)
    ]
    lines = [LineRequest(n + 1, SKUS[k], q) for n, (k, q) in enumerate(raw_lines)]
    return holdings, lines


def _eligible(site: Site, destination: Destination, policy: Policy) -> bool:
    return (
        site.active
        and site.warehouse_id not in policy.excluded
        and (not policy.allowed_warehouses or site.code in policy.allowed_warehouses)
        and (not site.serves_countries or destination.country in site.serves_countries)
    )


def _wanted(lines: list[LineRequest]) -> dict[uuid.UUID, int]:
    wanted: dict[uuid.UUID, int] = {}
    for line in lines:
        wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
    return wanted


def _check(
    plan: Plan, sites: list[Site], holdings: list[Holding], lines: list[LineRequest], dest: Destination, policy: Policy
) -> None:
    by_id = {s.warehouse_id: s for s in sites}
    sourceable = {(h.sku_id, h.warehouse_id): h.sourceable for h in holdings}
    eligible = [s for s in sites if _eligible(s, dest, policy)]
    wanted = _wanted(lines)
    if not plan.complete:
        assert plan.allocations == ()
        # A refusal is never wrong when one eligible warehouse could ship everything alone.
        assert not any(all(sourceable.get((k, s.warehouse_id), 0) >= q for k, q in wanted.items()) for s in eligible)
        if policy.max_warehouses >= 2:  # nor when two could (pairs are searched exhaustively)
            for a, b in combinations(eligible, 2):
                assert not all(
                    sourceable.get((k, a.warehouse_id), 0) + sourceable.get((k, b.warehouse_id), 0) >= q
                    for k, q in wanted.items()
                )
        return
    taken: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for a in plan.allocations:
        assert a.quantity > 0
        site = by_id[a.warehouse_id]
        assert site.active, "never an inactive warehouse"
        assert _eligible(site, dest, policy), "never a disallowed, excluded or non-serving warehouse"
        taken[(a.sku_id, a.warehouse_id)] = taken.get((a.sku_id, a.warehouse_id), 0) + a.quantity
    for key, quantity in taken.items():
        assert quantity <= sourceable.get(key, 0), "never more than available above safety stock"
    for line in lines:
        assert sum(a.quantity for a in plan.allocations if a.line_no == line.line_no) == line.quantity
        assert all(a.sku_id == line.sku_id for a in plan.allocations if a.line_no == line.line_no)
    used = {a.warehouse_id for a in plan.allocations}
    assert len(used) <= policy.max_warehouses
    if policy.strategy is not Strategy.NEAREST_PER_LINE:
        one_can = any(all(sourceable.get((k, s.warehouse_id), 0) >= q for k, q in wanted.items()) for s in eligible)
        if one_can:
            assert len(used) == 1, "never more shipments than needed when one warehouse could serve all"
        elif len(used) > 2:
            pair_can = any(
                all(
                    sourceable.get((k, a.warehouse_id), 0) + sourceable.get((k, b.warehouse_id), 0) >= q
                    for k, q in wanted.items()
                )
                for a, b in combinations(eligible, 2)
            )
            assert not pair_can


@settings(max_examples=500, deadline=None)
@given(
    sites=sites_strategy,
    raw_holdings=holdings_strategy,
    raw_lines=lines_strategy,
    destination=destination_strategy,
    policy=policy_strategy,
)
def test_every_plan_keeps_the_invariants(
    sites: list[Site],
    raw_holdings: list[tuple[int, int]],
    raw_lines: list[tuple[int, int]],
    destination: Destination,
    policy: Policy,
) -> None:
    holdings, lines = _build(sites, raw_holdings, raw_lines)
    plan = source(lines, sites, holdings, destination, policy)
    event(f"{plan.explanation.decision if plan.explanation else None} shipments={len(plan.warehouses)}")
    _check(plan, sites, holdings, lines, destination, policy)
    assert source(lines, sites, holdings, destination, policy, explain=False).allocations == plan.allocations


@settings(max_examples=150, deadline=None)
@given(
    sites=sites_strategy,
    raw_holdings=holdings_strategy,
    orders=st.lists(st.tuples(lines_strategy, st.booleans()), min_size=1, max_size=6),
)
def test_a_batch_never_promises_more_than_there_is(
    sites: list[Site],
    raw_holdings: list[tuple[int, int]],
    orders: list[tuple[list[tuple[int, int]], bool]],
) -> None:
    holdings, _ = _build(sites, raw_holdings, [(0, 1)])
    batch = [
        BatchOrder(n, _build(sites, [], raw)[1], Destination("DE"), vip=vip) for n, (raw, vip) in enumerate(orders)
    ]
    plans = plan_batch(batch, sites, holdings)
    sourceable = {(h.sku_id, h.warehouse_id): h.sourceable for h in holdings}
    taken: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for plan in plans.values():
        assert plan.complete or plan.allocations == ()
        for a in plan.allocations:
            taken[(a.sku_id, a.warehouse_id)] = taken.get((a.sku_id, a.warehouse_id), 0) + a.quantity
    for key, quantity in taken.items():
        assert quantity <= sourceable.get(key, 0)
