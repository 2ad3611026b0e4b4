"""Picking rules (pure): the S-shape walking order, the four methods, confirmation and barcode matching."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oms_api.fulfillment.picking import domain
from oms_api.fulfillment.picking.domain import (
    ListStatus,
    Method,
    PickRequest,
    PlannedLine,
    ShipmentToPick,
    Spot,
    barcode_matches,
    choose_shipments,
    confirm,
    list_status,
    natural_key,
    plan_lists,
    walking_order,
)

ZONES = {code: (uuid.UUID(int=n + 1), n) for n, code in enumerate(["A", "B", "C"])}
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=UTC)


def spot(zone: str, aisle: str, position: int, level: int = 0) -> Spot:
    zone_id, sequence = ZONES[zone]
    code = f"{zone}-{aisle}-{position:02d}-{level}"
    return Spot(zone_id, zone, sequence, aisle, position, level, code, uuid.uuid5(uuid.NAMESPACE_DNS, code))


def request(shipment: int, where: Spot | None, sku: str = "SKU", quantity: int = 1) -> PickRequest:
    return PickRequest(uuid.UUID(int=shipment), uuid.uuid4(), uuid.uuid5(uuid.NAMESPACE_DNS, sku), sku, quantity, where)


def shipment(n: int, *requests: PickRequest, minutes: int = 0) -> ShipmentToPick:
    return ShipmentToPick(uuid.UUID(int=n), T0 + timedelta(minutes=minutes), tuple(requests))


def codes(lines: list[PlannedLine]) -> list[str]:
    return [line.request.spot.bin_code if line.request.spot else "-" for line in lines]


def test_natural_order_reads_numbers_as_numbers() -> None:
    assert sorted(["A10", "A2", "a1", "B1"], key=natural_key) == ["a1", "A2", "A10", "B1"]


def test_the_walk_goes_up_one_aisle_and_down_the_next() -> None:
    lines = [
        PlannedLine(request(1, spot("A", "2", 1)), 1),
        PlannedLine(request(1, spot("A", "1", 9)), 1),
        PlannedLine(request(1, spot("A", "2", 8)), 1),
        PlannedLine(request(1, spot("A", "1", 1)), 1),
        PlannedLine(request(1, spot("A", "10", 5)), 1),
    ]
    ordered = walking_order(lines)
    assert codes(ordered) == ["A-1-01-0", "A-1-09-0", "A-2-08-0", "A-2-01-0", "A-10-05-0"]
    assert [line.sequence for line in ordered] == [1, 2, 3, 4, 5]


def test_zones_are_walked_in_their_sequence_and_binless_lines_come_last() -> None:
    lines = [
        PlannedLine(request(1, None, "NOBIN"), 1),
        PlannedLine(request(1, spot("C", "1", 1)), 1),
        PlannedLine(request(1, spot("A", "3", 1)), 1),
        PlannedLine(request(1, spot("B", "1", 1, level=2)), 1),
        PlannedLine(request(1, spot("B", "1", 1, level=0)), 1),
    ]
    assert codes(walking_order(lines)) == ["A-3-01-0", "B-1-01-0", "B-1-01-2", "C-1-01-0", "-"]


spots = st.builds(
    spot,
    st.sampled_from(list(ZONES)),
    st.sampled_from(["1", "2", "3", "10", "B7"]),
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=4),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), spots), min_size=1, max_size=40))
def test_walking_order_is_a_serpentine_route_over_every_line(where: list[Spot | None]) -> None:
    lines = [PlannedLine(request(1, s, f"S{i}"), 1) for i, s in enumerate(where)]
    ordered = walking_order(lines)
    assert sorted(id(line.request) for line in ordered) == sorted(id(line.request) for line in lines)
    assert [line.sequence for line in ordered] == list(range(1, len(lines) + 1))
    placed = [line.request.spot for line in ordered if line.request.spot is not None]
    assert all(line.request.spot is None for line in ordered[len(placed) :]), "bin-less lines come last"
    # zones never go backwards, and each (zone, aisle) is walked in one stretch
    assert [s.zone_sequence for s in placed] == sorted(s.zone_sequence for s in placed)
    stretches = [(s.zone_code, s.aisle) for s in placed]
    seen: list[tuple[str, str]] = []
    for key in stretches:
        if not seen or seen[-1] != key:
            assert key not in seen, f"aisle {key} visited twice"
            seen.append(key)
    # inside a zone, aisles alternate direction: up (positions rising), then down, ...
    for zone in ZONES:
        aisles = [a for z, a in seen if z == zone]
        for index, aisle in enumerate(aisles):
            positions = [s.position for s in placed if (s.zone_code, s.aisle) == (zone, aisle)]
            expected = sorted(positions, reverse=index % 2 == 1)
            assert positions == expected


def test_single_takes_the_oldest_waiting_shipment() -> None:
    queue = [shipment(1, request(1, spot("A", "1", 1))), shipment(2, request(2, spot("A", "1", 2)))]
    assert [s.shipment_id for s in choose_shipments(Method.SINGLE, queue, 10)] == [uuid.UUID(int=1)]


def test_batch_takes_up_to_n_shipments_each_in_its_own_tote() -> None:
    queue = [shipment(n, request(n, spot("A", "1", 10 - n))) for n in range(1, 6)]
    chosen = choose_shipments(Method.BATCH, queue, 3)
    assert len(chosen) == 3
    [only] = plan_lists(Method.BATCH, chosen)
    assert only.zone_id is None
    assert sorted(line.tote for line in only.lines) == [1, 2, 3]
    assert codes(list(only.lines)) == ["A-1-07-0", "A-1-08-0", "A-1-09-0"]  # walking order, not order age


def test_shipments_without_lines_left_are_not_taken() -> None:
    queue = [shipment(1), shipment(2, request(2, spot("A", "1", 1)))]
    assert [s.shipment_id for s in choose_shipments(Method.BATCH, queue, 10)] == [uuid.UUID(int=2)]


def test_zone_picking_makes_one_list_per_zone_and_keeps_each_order_in_one_tote() -> None:
    chosen = [
        shipment(1, request(1, spot("B", "1", 1)), request(1, spot("A", "1", 1))),
        shipment(2, request(2, spot("A", "2", 3)), request(2, None, "NOBIN")),
    ]
    lists = plan_lists(Method.ZONE, chosen)
    assert [plan.zone_code for plan in lists] == ["A", "B", None]
    assert [len(plan.lines) for plan in lists] == [2, 1, 1]
    totes = {(line.request.shipment_id, line.tote) for plan in lists for line in plan.lines}
    assert totes == {(uuid.UUID(int=1), 1), (uuid.UUID(int=2), 2)}
    assert lists[0].shipment_ids == [uuid.UUID(int=1), uuid.UUID(int=2)]


def test_a_wave_takes_every_waiting_shipment() -> None:
    queue = [shipment(n, request(n, spot("A", "1", n))) for n in range(1, 150)]
    assert len(choose_shipments(Method.WAVE, queue, 1)) == 149
    assert domain.in_window(T0, T0, T0 + timedelta(hours=1))
    assert not domain.in_window(T0 + timedelta(hours=1), T0, T0 + timedelta(hours=1))


def test_nothing_to_pick_plans_no_list() -> None:
    assert plan_lists(Method.ZONE, []) == []


def test_confirming_fewer_units_than_asked_is_a_short_pick() -> None:
    assert confirm(3, 3) == domain.Confirmation(picked=3, short=0)
    short = confirm(3, 1)
    assert (short.picked, short.short, short.status) == (1, 2, domain.LineStatus.SHORT)
    with pytest.raises(domain.OverPick):
        confirm(3, 4)


def test_a_list_is_open_then_in_progress_then_completed() -> None:
    assert list_status(["open", "open"]) is ListStatus.OPEN
    assert list_status(["picked", "open"]) is ListStatus.IN_PROGRESS
    assert list_status(["picked", "short"]) is ListStatus.COMPLETED


@pytest.mark.parametrize(
    ("scanned", "barcode", "sku", "matches"),
    [
        ("4006381333931", "4006381333931", "MUG", True),
        ("04006381333931", "4006381333931", "MUG", True),  # the same GTIN as GTIN-14
        ("012345678905", "0012345678905", "MUG", True),  # UPC-A read as EAN-13
        ("4006381333932", "4006381333931", "MUG", False),
        ("MUG", "4006381333931", "MUG", False),  # a SKU with a barcode must be scanned by it
        ("MUG", None, "MUG", True),  # no barcode: the shelf label shows the SKU code
        ("TEE", None, "MUG", False),
    ],
)
def test_a_scan_identifies_a_sku_by_gtin_in_any_length(
    scanned: str, barcode: str | None, sku: str, matches: bool
) -> None:
    assert barcode_matches(scanned, barcode, sku) is matches
