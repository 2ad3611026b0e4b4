"""The ledger's running figures (pure): several changes of one level made in one statement get one ledger row
each, and replaying the rows in order leads to the level's final figures."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from oms_api.stock.domain import Balance, Change, LevelRef, running_figures

LEVELS = [LevelRef(uuid.UUID(int=i), uuid.UUID(int=100 + i), f"SKU{i}", uuid.UUID(int=200), "W") for i in range(3)]


def test_each_row_shows_the_level_right_after_its_change() -> None:
    a = LEVELS[0]
    changes = [
        Change(a, "reservation", reserved=2),
        Change(a, "reservation", reserved=3),
        Change(a, "shipment", -1, -1),
    ]
    assert running_figures(changes, {a.level_id: Balance(10, 4)}) == [Balance(11, 2), Balance(11, 5), Balance(10, 4)]


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(-5, 5), st.integers(-5, 5)), min_size=1, max_size=12))
def test_replaying_the_rows_from_the_figures_before_gives_the_final_figures(raw: list[tuple[int, int, int]]) -> None:
    changes = [Change(LEVELS[i], "adjustment", on_hand=d_on, reserved=d_res) for i, d_on, d_res in raw]
    final = {level.level_id: Balance(50, 20) for level in LEVELS}
    after = running_figures(changes, final)
    last: dict[uuid.UUID, Balance] = {}
    for change, figures in zip(changes, after, strict=True):
        previous = last.get(change.level.level_id)
        if previous is not None:
            assert figures == Balance(previous.on_hand + change.on_hand, previous.reserved + change.reserved)
        last[change.level.level_id] = figures
    assert all(last[level_id] == final[level_id] for level_id in last)
