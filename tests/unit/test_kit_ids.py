"""UUIDv7 ids: right version and variant bits, strictly increasing in a process, ordered by creation time.

Cursor pagination and "oldest first" lists rely on ids sorting by creation, so these properties are load-bearing.
"""

from __future__ import annotations

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

from oms_api.kit.ids import parse_uuid, uuid7


def _millis(value: uuid.UUID) -> int:
    return value.int >> 80


def test_uuid7_has_version_7_and_the_rfc_variant() -> None:
    for _ in range(1000):
        value = uuid7()
        assert value.version == 7
        assert value.variant == uuid.RFC_4122
        assert str(value)[14] == "7"
        assert str(value)[19] in "89ab"


def test_uuid7_is_strictly_increasing_over_many_calls() -> None:
    ids = [uuid7() for _ in range(20_000)]  # far more than one millisecond's worth of ids
    assert all(a < b for a, b in itertools.pairwise(ids))
    assert all(a.bytes < b.bytes for a, b in itertools.pairwise(ids)), "byte order (as stored) must agree"
    assert all(str(a) < str(b) for a, b in itertools.pairwise(ids)), "text order (SQLite) must agree"


def test_uuid7_from_many_threads_are_unique() -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        batches = list(pool.map(lambda _: [uuid7() for _ in range(2000)], range(8)))
    ids = [i for batch in batches for i in batch]
    assert len(set(ids)) == len(ids)
    for batch in batches:
        assert batch == sorted(batch)


def test_uuid7_carries_the_creation_time_and_sorts_by_it() -> None:
    before = time.time_ns() // 1_000_000
    first = uuid7()
    time.sleep(0.005)
    second = uuid7()
    after = time.time_ns() // 1_000_000
    assert first < second
    # A burst of ids may borrow a few milliseconds ahead of the clock, never go behind it.
    assert before <= _millis(first) <= _millis(second) <= after + 1000


def test_parse_uuid_reads_ids_and_rejects_codes() -> None:
    value = uuid7()
    assert parse_uuid(str(value)) == value
    assert parse_uuid(value.hex) == value
    assert parse_uuid("SKU-0001") is None
    assert parse_uuid("") is None
