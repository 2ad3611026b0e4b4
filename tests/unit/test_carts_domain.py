"""Cart rules without a database: lifecycle refusals, expiry, line changes and which holds give way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from oms_api.carts import domain
from oms_api.carts.domain import HeldPart

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_an_active_cart_may_change_until_its_expiry_instant() -> None:
    assert domain.refusal("active", NOW + timedelta(seconds=1), NOW) is None
    assert domain.refusal("active", NOW, NOW) == "cart_expired"
    assert domain.refusal("active", NOW - timedelta(minutes=5), NOW) == "cart_expired"


@pytest.mark.parametrize("status", ["converted", "expired", "abandoned"])
def test_a_closed_cart_is_refused_with_its_status(status: str) -> None:
    assert domain.refusal(status, NOW + timedelta(days=1), NOW) == f"cart_{status}"


def test_an_extension_never_brings_the_expiry_forward() -> None:
    current = NOW + timedelta(minutes=30)
    assert domain.extended(current, NOW, 60) == NOW + timedelta(minutes=60)
    assert domain.extended(current, NOW, 10) == current
    assert domain.expiry(NOW, 30) == current


def test_put_keeps_exactly_the_given_lines_and_patch_merges() -> None:
    current = {"MUG": 2, "TEE": 1}
    assert domain.replaced({"CAP": 3, "MUG": 0}) == {"CAP": 3}
    assert domain.merged(current, {"MUG": 5, "TEE": 0, "CAP": 1}) == {"MUG": 5, "CAP": 1}
    assert domain.merged(current, {"NEW": 0}) == current


def test_deltas_name_only_what_changes() -> None:
    assert domain.deltas({"MUG": 2, "TEE": 1, "HAT": 4}, {"MUG": 5, "HAT": 4, "CAP": 2}) == {
        "CAP": 2,
        "MUG": 3,
        "TEE": -1,
    }
    assert domain.deltas({"MUG": 2}, {"MUG": 2}) == {}


def parts() -> list[HeldPart[str]]:
    return [
        HeldPart("big", 5, priority=10, warehouse_code="WH-A"),
        HeldPart("small", 2, priority=1, warehouse_code="WH-B"),
        HeldPart("tie", 3, priority=10, warehouse_code="WH-C"),
    ]


def test_the_least_preferred_warehouse_gives_way_first() -> None:
    assert domain.pick_releases(parts(), 1) == [("small", 1)]
    assert domain.pick_releases(parts(), 4) == [("small", 2), ("tie", 2)]  # WH-C ranks after WH-A at equal priority
    assert domain.pick_releases(parts(), 10) == [("small", 2), ("tie", 3), ("big", 5)]
    assert domain.pick_releases(parts(), 0) == []


def test_releasing_more_than_is_held_is_a_bug_not_a_guess() -> None:
    with pytest.raises(ValueError, match="only 10 are held"):
        domain.pick_releases(parts(), 11)


def test_codes_sort_in_reverse_including_prefixes() -> None:
    ranked = domain.pick_releases(
        [HeldPart("a", 1, 0, "A"), HeldPart("ab", 1, 0, "AB"), HeldPart("b", 1, 0, "B")],
        3,
    )
    assert [key for key, _ in ranked] == ["b", "ab", "a"]
