"""Stock rules without a database: adjustment reasons and signs, coordinates, balances."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oms_api.stock.domain import (
    MAX_MOVEMENT_QUANTITY,
    AdjustmentReason,
    Balance,
    adjustment_error,
    available,
    missing_coordinate,
    total,
)


@pytest.mark.parametrize(
    ("reason", "quantity"),
    [
        (AdjustmentReason.CYCLE_COUNT, 5),
        (AdjustmentReason.CYCLE_COUNT, -5),
        (AdjustmentReason.DAMAGE, -1),
        (AdjustmentReason.LOSS, -MAX_MOVEMENT_QUANTITY),
        (AdjustmentReason.FOUND, 1),
    ],
)
def test_an_adjustment_in_the_direction_of_its_reason_is_allowed(reason: AdjustmentReason, quantity: int) -> None:
    assert adjustment_error(reason, quantity) is None


@pytest.mark.parametrize(
    ("reason", "quantity", "words"),
    [
        (AdjustmentReason.DAMAGE, 1, "negative"),
        (AdjustmentReason.LOSS, 3, "negative"),
        (AdjustmentReason.FOUND, -2, "positive"),
        (AdjustmentReason.CYCLE_COUNT, 0, "0"),
        (AdjustmentReason.FOUND, MAX_MOVEMENT_QUANTITY + 1, "at most"),
    ],
)
def test_an_adjustment_against_its_reason_is_refused(reason: AdjustmentReason, quantity: int, words: str) -> None:
    problem = adjustment_error(reason, quantity)
    assert problem is not None
    assert words in problem


@given(st.sampled_from(list(AdjustmentReason)), st.integers(-MAX_MOVEMENT_QUANTITY, MAX_MOVEMENT_QUANTITY))
def test_only_cycle_counts_may_go_either_way(reason: AdjustmentReason, quantity: int) -> None:
    allowed = adjustment_error(reason, quantity) is None
    if quantity == 0:
        assert not allowed
    elif reason is AdjustmentReason.CYCLE_COUNT:
        assert allowed
    else:
        assert allowed == ((quantity > 0) == (reason is AdjustmentReason.FOUND))


def test_reasons_are_spelled_as_on_the_wire() -> None:
    assert [r.value for r in AdjustmentReason] == ["cycle_count", "damage", "loss", "found"]


@pytest.mark.parametrize(
    ("latitude", "longitude", "missing"),
    [(None, None, None), (1.0, 2.0, None), (0.0, None, "longitude"), (None, 0.0, "latitude")],
)
def test_coordinates_come_in_pairs(latitude: float | None, longitude: float | None, missing: str | None) -> None:
    assert missing_coordinate(latitude, longitude) == missing


def test_available_is_on_hand_less_reserved() -> None:
    assert available(10, 3) == 7
    assert Balance(4, 4).available == 0
    assert Balance().available == 0


balances = st.lists(st.builds(Balance, st.integers(0, 10**9), st.integers(0, 10**9)), max_size=20)


@given(balances)
def test_a_total_adds_every_figure(parts: list[Balance]) -> None:
    summed = total(parts)
    assert summed.on_hand == sum(b.on_hand for b in parts)
    assert summed.reserved == sum(b.reserved for b in parts)
    assert summed.available == sum(b.available for b in parts)
