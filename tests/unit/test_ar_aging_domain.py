"""AR aging rules (pure): buckets by days past due, and buckets that always add up to what is outstanding."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from oms_api.invoices.domain.aging import BUCKETS, CSV_HEADER, OpenItem, age, bucket_of, csv_rows, csv_text

AS_OF = date(2026, 12, 3)


def test_buckets_by_days_past_due() -> None:
    def days_late(n: int) -> str:
        return bucket_of(AS_OF - timedelta(days=n), AS_OF)

    assert [days_late(n) for n in (-5, 0, 1, 30, 31, 60, 61, 90, 91, 400)] == [
        "current",
        "current",
        "days_1_30",
        "days_1_30",
        "days_31_60",
        "days_31_60",
        "days_61_90",
        "days_61_90",
        "days_over_90",
        "days_over_90",
    ]
    assert bucket_of(None, AS_OF) == "current"


items = st.lists(
    st.builds(
        OpenItem,
        st.sampled_from(["a", "b", "c", None]),
        st.one_of(st.none(), st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1))),
        st.integers(min_value=1, max_value=10**12),
    ),
    max_size=40,
)


@given(items, st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 1, 1)))
def test_buckets_always_add_up_to_the_outstanding_amount(open_items: list[OpenItem[str | None]], as_of: date) -> None:
    aged = age(open_items, as_of)
    outstanding = sum(item.amount for item in open_items)
    assert aged.total.total == outstanding
    assert sum(aged.total.amounts[b] for b in BUCKETS) == outstanding
    for key, buckets in aged.per_key.items():
        assert buckets.total == sum(item.amount for item in open_items if item.key == key)
        assert buckets.count == sum(1 for item in open_items if item.key == key)
    assert sum(b.total for b in aged.per_key.values()) == outstanding
    for bucket in BUCKETS:
        assert sum(b.amounts[bucket] for b in aged.per_key.values()) == aged.total.amounts[bucket]


def test_csv_has_a_row_per_customer_and_a_total_and_defuses_formulas() -> None:
    aged = age([OpenItem("a", AS_OF, 1050), OpenItem("b", AS_OF - timedelta(days=45), 200)], AS_OF)
    text = csv_text(csv_rows("base", "EUR", aged, {"a": "=HYPERLINK()", "b": "Babbage Ltd"}))
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == list(CSV_HEADER)
    assert rows[1] == ["base", "EUR", "a", "'=HYPERLINK()", "1", "10.50", "0.00", "0.00", "0.00", "0.00", "10.50"]
    assert rows[2][3:] == ["Babbage Ltd", "1", "0.00", "0.00", "2.00", "0.00", "0.00", "2.00"]
    assert rows[3][3:] == ["TOTAL", "2", "10.50", "0.00", "2.00", "0.00", "0.00", "12.50"]
