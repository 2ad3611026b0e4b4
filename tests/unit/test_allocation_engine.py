"""The sourcing engine's rules one by one, without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from oms_api.allocation.domain import (
    BatchOrder,
    Destination,
    Holding,
    LineRequest,
    Plan,
    Policy,
    Site,
    Strategy,
    batch_order,
    plan_batch,
    source,
)

MUNICH = Destination("DE", 48.137, 11.575, "city", "Munich, DE")
NOWHERE = Destination("AQ")
MUC, HAM, BER, FRA = (uuid.UUID(int=i) for i in (1, 2, 3, 4))
MUG, TEE, CAP = (uuid.UUID(int=i) for i in (101, 102, 103))

SITES = {
    MUC: Site(MUC, "MUC", priority=0, latitude=48.14, longitude=11.58),
    HAM: Site(HAM, "HAM", priority=10, latitude=53.55, longitude=9.99),
    BER: Site(BER, "BER", priority=5, latitude=52.52, longitude=13.40),
    FRA: Site(FRA, "FRA", priority=1, latitude=50.11, longitude=8.68),
}


def stock(*rows: tuple[uuid.UUID, uuid.UUID, int]) -> list[Holding]:
    return [Holding(sku, wid, qty) for sku, wid, qty in rows]


def used(plan: Plan) -> dict[str, int]:
    found: dict[str, int] = {}
    for a in plan.allocations:
        code = next(s.code for s in SITES.values() if s.warehouse_id == a.warehouse_id)
        found[code] = found.get(code, 0) + a.quantity
    return found


def verdicts(plan: Plan) -> dict[str, tuple[str, str]]:
    assert plan.explanation is not None
    return {v.code: (v.status, v.reason) for v in plan.explanation.warehouses}


def run(
    lines: list[LineRequest],
    holdings: list[Holding],
    destination: Destination | None = MUNICH,
    policy: Policy | None = None,
    sites: dict[uuid.UUID, Site] | None = None,
) -> Plan:
    return source(lines, (sites or SITES).values(), holdings, destination, policy, labels={MUG: "MUG", TEE: "TEE"})


# --- hard constraints -------------------------------------------------------------------------------------------


def test_an_inactive_warehouse_is_never_used_and_the_plan_says_why() -> None:
    sites = {**SITES, MUC: Site(MUC, "MUC", active=False, latitude=48.14, longitude=11.58)}
    plan = run([LineRequest(1, MUG, 2)], stock((MUG, MUC, 9), (MUG, HAM, 9)), sites=sites)
    assert used(plan) == {"HAM": 2}
    assert verdicts(plan)["MUC"] == ("rejected", "inactive")


def test_a_warehouse_that_does_not_serve_the_destination_country_is_rejected() -> None:
    sites = {**SITES, MUC: Site(MUC, "MUC", latitude=48.14, longitude=11.58, serves_countries=frozenset({"AT"}))}
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9), (MUG, HAM, 9)), sites=sites)
    assert used(plan) == {"HAM": 1}
    assert verdicts(plan)["MUC"] == ("rejected", "does_not_serve_country")


def test_a_cart_whose_country_is_not_known_yet_may_be_held_at_a_warehouse_that_serves_some_countries() -> None:
    """A cart has no address: only the order it becomes is held to the countries a warehouse ships to."""
    sites = {MUC: Site(MUC, "MUC", serves_countries=frozenset({"AT"}))}
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9)), Destination(), sites=sites)
    assert used(plan) == {"MUC": 1}


def test_an_empty_country_list_serves_everywhere() -> None:
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9)), Destination("JP", 35.68, 139.69, "city"))
    assert used(plan) == {"MUC": 1}


def test_only_the_channels_allowed_warehouses_are_used() -> None:
    policy = Policy(allowed_warehouses=frozenset({"HAM"}))
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9), (MUG, HAM, 9)), policy=policy)
    assert used(plan) == {"HAM": 1}
    assert verdicts(plan)["MUC"] == ("rejected", "not_allowed_by_channel")


def test_an_excluded_warehouse_is_not_used() -> None:
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9), (MUG, HAM, 9)), policy=Policy(excluded=frozenset({MUC})))
    assert used(plan) == {"HAM": 1}
    assert verdicts(plan)["MUC"] == ("rejected", "excluded")


def test_safety_stock_is_kept_out_of_what_can_be_promised() -> None:
    holdings = [Holding(MUG, MUC, 5, safety_stock=4), Holding(MUG, HAM, 5)]
    assert used(run([LineRequest(1, MUG, 2)], holdings)) == {"HAM": 2}
    refused = run([LineRequest(1, MUG, 7)], holdings)
    assert not refused.complete
    assert [(s.requested, s.available) for s in refused.shortages] == [(7, 6)]
    only_safety = [Holding(MUG, MUC, 3, safety_stock=3), Holding(MUG, HAM, 1)]
    assert verdicts(run([LineRequest(1, MUG, 1)], only_safety))["MUC"] == ("rejected", "no_stock")


def test_click_and_collect_sources_only_the_pickup_warehouse_whatever_its_countries() -> None:
    sites = {**SITES, HAM: Site(HAM, "HAM", priority=10, serves_countries=frozenset({"AT"}))}
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 9), (MUG, HAM, 9)), policy=Policy(pickup=HAM), sites=sites)
    assert used(plan) == {"HAM": 1}
    assert verdicts(plan)["MUC"] == ("rejected", "not_pickup_warehouse")


# --- fewest shipments, distance, priority ---------------------------------------------------------------------


def test_one_warehouse_that_ships_everything_beats_a_nearer_split() -> None:
    holdings = stock((MUG, MUC, 5), (TEE, BER, 5), (MUG, HAM, 5), (TEE, HAM, 5))
    plan = run([LineRequest(1, MUG, 1), LineRequest(2, TEE, 1)], holdings)
    assert used(plan) == {"HAM": 2}
    assert plan.explanation is not None
    assert plan.explanation.decision == "single_warehouse"
    assert verdicts(plan)["MUC"] == ("not_chosen", "cannot_ship_whole_order")


def test_the_nearest_of_the_warehouses_that_can_ship_everything_wins_over_priority() -> None:
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5), (MUG, FRA, 5)))
    assert used(plan) == {"MUC": 1}
    assert verdicts(plan)["HAM"] == ("not_chosen", "farther")
    assert plan.explanation is not None
    assert plan.explanation.summary.startswith("MUC ships every line: nearest (")


def test_equally_near_warehouses_are_ranked_by_priority_then_code() -> None:
    twins = {
        MUC: Site(MUC, "B-MUC", priority=1, latitude=48.14, longitude=11.58),
        HAM: Site(HAM, "A-MUC", priority=1, latitude=48.14, longitude=11.58),
        BER: Site(BER, "C-MUC", priority=7, latitude=48.14, longitude=11.58),
    }
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5), (MUG, BER, 5)), sites=twins)
    assert [a.warehouse_id for a in plan.allocations] == [BER]
    without = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5)), sites=twins)
    assert [a.warehouse_id for a in without.allocations] == [HAM]
    assert without.explanation is not None
    losers = {v.code: v.reason for v in without.explanation.warehouses if v.status != "chosen"}
    assert losers == {"B-MUC": "tie_break"}


def test_warehouses_without_coordinates_rank_after_those_with_a_distance() -> None:
    sites = {**SITES, MUC: Site(MUC, "MUC", priority=99)}
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5)), sites=sites)
    assert used(plan) == {"HAM": 1}
    assert plan.explanation is not None
    assert any("without coordinates" in note for note in plan.explanation.notes)


def test_without_destination_coordinates_priority_decides_and_the_plan_says_so() -> None:
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5), (MUG, BER, 5)), NOWHERE)
    assert used(plan) == {"HAM": 1}
    assert plan.explanation is not None
    assert any("could not be located" in note for note in plan.explanation.notes)
    assert "highest priority (10)" in plan.explanation.summary
    assert verdicts(plan)["BER"] == ("not_chosen", "lower_priority")


def test_the_priority_strategy_ranks_priority_before_distance() -> None:
    policy = Policy(strategy=Strategy.PRIORITY)
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5)), policy=policy)
    assert used(plan) == {"HAM": 1}
    assert plan.explanation is not None
    assert plan.explanation.rules[2] == "priority"


# --- splits -----------------------------------------------------------------------------------------------------


def test_a_split_uses_the_fewest_warehouses_preferring_the_nearest() -> None:
    holdings = stock((MUG, MUC, 3), (TEE, FRA, 3), (TEE, BER, 3), (MUG, HAM, 3))
    plan = run([LineRequest(1, MUG, 2), LineRequest(2, TEE, 2)], holdings)
    assert used(plan) == {"MUC": 2, "FRA": 2}
    assert plan.explanation is not None
    assert (plan.explanation.decision, plan.explanation.shipments) == ("split", 2)
    rules = {p.rule for line in plan.explanation.lines for p in line.parts}
    assert rules == {"split_order"}


def test_a_line_no_warehouse_holds_alone_is_split_biggest_holding_first() -> None:
    plan = run([LineRequest(1, MUG, 7)], stock((MUG, MUC, 3), (MUG, HAM, 5), (MUG, BER, 1)))
    assert used(plan) == {"HAM": 5, "MUC": 2}
    assert plan.explanation is not None
    assert {p.rule for p in plan.explanation.lines[0].parts} == {"split_line"}


def test_more_than_two_warehouses_are_found_greedily() -> None:
    holdings = stock((MUG, MUC, 1), (TEE, HAM, 1), (CAP, BER, 1), (MUG, FRA, 1))
    lines = [LineRequest(1, MUG, 1), LineRequest(2, TEE, 1), LineRequest(3, CAP, 1)]
    assert used(run(lines, holdings)) == {"MUC": 1, "HAM": 1, "BER": 1}


def test_the_split_limit_refuses_a_plan_that_needs_more_warehouses() -> None:
    holdings = stock((MUG, MUC, 1), (MUG, HAM, 1), (MUG, BER, 1))
    refused = run([LineRequest(1, MUG, 3)], holdings, policy=Policy(max_warehouses=2))
    assert not refused.complete
    assert refused.allocations == ()
    assert refused.explanation is not None
    assert refused.explanation.decision == "split_limit"
    assert [(s.requested, s.available) for s in refused.shortages] == [(3, 2)]
    assert run([LineRequest(1, MUG, 3)], holdings, policy=Policy(max_warehouses=3)).complete


def test_not_enough_stock_anywhere_is_an_out_of_stock_plan_naming_the_sku() -> None:
    plan = run([LineRequest(1, MUG, 9), LineRequest(2, TEE, 1)], stock((MUG, MUC, 4), (TEE, MUC, 1)))
    assert not plan.complete
    assert [(s.sku_id, s.requested, s.available) for s in plan.shortages] == [(MUG, 9, 4)]
    assert plan.explanation is not None
    assert plan.explanation.decision == "out_of_stock"
    assert "MUG (4 of 9)" in plan.explanation.summary


def test_nearest_per_line_ships_each_line_from_its_nearest_holder() -> None:
    holdings = stock((MUG, MUC, 5), (TEE, FRA, 5), (MUG, HAM, 5), (TEE, HAM, 5))
    lines = [LineRequest(1, MUG, 1), LineRequest(2, TEE, 1)]
    assert used(run(lines, holdings)) == {"HAM": 2}
    per_line = run(lines, holdings, policy=Policy(strategy=Strategy.NEAREST_PER_LINE))
    assert used(per_line) == {"MUC": 1, "FRA": 1}
    capped = run(lines, holdings, policy=Policy(strategy=Strategy.NEAREST_PER_LINE, max_warehouses=1))
    assert used(capped) == {"HAM": 2}
    assert capped.explanation is not None
    assert any("fewest shipments instead" in note for note in capped.explanation.notes)


def test_a_warehouse_already_shipping_the_order_is_preferred_on_reallocation() -> None:
    policy = Policy(excluded=frozenset({BER}), kept=frozenset({HAM, BER}))
    plan = run([LineRequest(1, MUG, 1)], stock((MUG, MUC, 5), (MUG, HAM, 5), (MUG, BER, 5)), policy=policy)
    assert used(plan) == {"HAM": 1}
    assert plan.explanation is not None
    assert "already ships part of the order" in plan.explanation.summary
    three = run(
        [LineRequest(1, MUG, 1)],
        stock((MUG, MUC, 5)),
        policy=Policy(max_warehouses=2, kept=frozenset({HAM, BER})),
    )
    assert not three.complete  # a third warehouse would exceed the limit


def test_plans_do_not_depend_on_the_order_of_their_inputs() -> None:
    holdings = stock((MUG, MUC, 3), (TEE, FRA, 3), (TEE, BER, 3), (MUG, HAM, 3), (MUG, BER, 1))
    lines = [LineRequest(1, MUG, 2), LineRequest(2, TEE, 2)]
    first = source(lines, list(SITES.values()), holdings, MUNICH)
    second = source(lines, list(reversed(SITES.values())), list(reversed(holdings)), MUNICH)
    assert first == second


# --- batches ----------------------------------------------------------------------------------------------------


def test_vip_orders_are_sourced_first_when_stock_is_contested() -> None:
    now = datetime(2026, 11, 25, tzinfo=UTC)
    orders = [
        BatchOrder("early", [LineRequest(1, MUG, 3)], MUNICH, placed_at=now),
        BatchOrder("vip", [LineRequest(1, MUG, 3)], MUNICH, vip=True, placed_at=now + timedelta(minutes=5)),
        BatchOrder("late", [LineRequest(1, MUG, 3)], MUNICH, placed_at=now + timedelta(minutes=1)),
    ]
    assert [o.key for o in batch_order(orders)] == ["vip", "early", "late"]
    plans = plan_batch(orders, SITES.values(), stock((MUG, MUC, 4), (MUG, HAM, 2)))
    assert plans["vip"].complete
    assert used(plans["vip"]) == {"MUC": 3}
    assert plans["early"].complete
    assert used(plans["early"]) == {"HAM": 2, "MUC": 1}
    assert not plans["late"].complete
    assert plans["late"].allocations == ()
    assert plans["vip"].explanation is not None
    assert plans["vip"].explanation.notes[-1].startswith("sourced 1 of 3 in a batch")


def test_a_batch_never_promises_a_unit_twice() -> None:
    orders = [BatchOrder(n, [LineRequest(1, MUG, 2), LineRequest(2, TEE, 1)], MUNICH) for n in range(10)]
    plans = plan_batch(orders, SITES.values(), stock((MUG, MUC, 5), (MUG, HAM, 4), (TEE, HAM, 3), (TEE, BER, 9)))
    taken: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
    for plan in plans.values():
        for a in plan.allocations:
            taken[(a.sku_id, a.warehouse_id)] = taken.get((a.sku_id, a.warehouse_id), 0) + a.quantity
    assert taken[(MUG, MUC)] <= 5
    assert taken[(MUG, HAM)] <= 4
    assert sum(plan.complete for plan in plans.values()) == 4  # 9 mugs: four orders of two
