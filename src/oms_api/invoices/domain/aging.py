"""AR aging (pure): what is outstanding, by how long past due, per customer and in total.

Every open invoice falls in exactly one bucket by its days past due on the report date, and a bucket holds whole
invoice amounts: so the buckets of a customer add up to what the customer owes, and the customers' to the total,
by construction (ERPNext's report did not, issue 51596: it aged payments and invoices separately).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Generic, TypeVar

from oms_api.kit.money import from_minor

K = TypeVar("K", bound=Hashable)

BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_over_90")
"""Not yet due, 1-30, 31-60, 61-90 and more than 90 days past due."""
_UPPER = ((0, "current"), (30, "days_1_30"), (60, "days_31_60"), (90, "days_61_90"))


def bucket_of(due_date: date | None, as_of: date) -> str:
    """The bucket of an amount due on ``due_date`` (None: due on issue, taken as not past due) on ``as_of``."""
    if due_date is None:
        return "current"
    late = (as_of - due_date).days
    for upper, name in _UPPER:
        if late <= upper:
            return name
    return "days_over_90"


@dataclass(frozen=True, slots=True)
class OpenItem(Generic[K]):
    """One invoice's amount due on the report date, in the currency of the section it is reported in."""

    key: K
    """Whom it is owed by (a customer id, or None)."""
    due_date: date | None
    amount: int


@dataclass
class Buckets:
    amounts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0))
    count: int = 0

    def add(self, bucket: str, amount: int) -> None:
        self.amounts[bucket] += amount
        self.count += 1

    @property
    def total(self) -> int:
        return sum(self.amounts.values())


@dataclass
class Aged(Generic[K]):
    """Buckets per key (in first-seen order) and in total."""

    per_key: dict[K, Buckets]
    total: Buckets


def age(items: Iterable[OpenItem[K]], as_of: date) -> Aged[K]:
    per_key: dict[K, Buckets] = {}
    total = Buckets()
    for item in items:
        bucket = bucket_of(item.due_date, as_of)
        per_key.setdefault(item.key, Buckets()).add(bucket, item.amount)
        total.add(bucket, item.amount)
    return Aged(per_key, total)


CSV_HEADER = ("section", "currency", "customer_id", "customer", "invoices", *BUCKETS, "total")


def csv_rows(section: str, currency: str, aged: Aged[K], names: dict[K, str | None]) -> list[tuple[str, ...]]:
    """The rows of one section (``base``, or ``unconverted`` per currency): one per customer, then its total, with
    amounts as decimal strings of ``currency``."""
    rows = [
        _row(section, currency, "" if key is None else str(key), names.get(key) or "", buckets)
        for key, buckets in aged.per_key.items()
    ]
    rows.append(_row(section, currency, "", "TOTAL", aged.total))
    return rows


def _row(section: str, currency: str, key: str, name: str, buckets: Buckets) -> tuple[str, ...]:
    amounts = (str(from_minor(buckets.amounts[b], currency)) for b in BUCKETS)
    total = str(from_minor(buckets.total, currency))
    return (section, currency, key, _cell(name), str(buckets.count), *amounts, total)


def _cell(text: str) -> str:
    """A name a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) is quoted with ``'``."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_text(rows: Iterable[tuple[str, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(rows)
    return out.getvalue()
