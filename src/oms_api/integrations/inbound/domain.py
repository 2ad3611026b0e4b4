"""Rules of inbound deliveries (pure): outcomes, retry schedule, which headers are kept."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum


class Outcome(StrEnum):
    PENDING = "pending"  # stored, not applied yet (or waiting to be retried)
    PROCESSED = "processed"  # applied: order created, cancelled, or already there
    HELD = "held"  # an order was created (or found) on hold: it cannot be served as sent
    FAILED = "failed"  # cannot be applied as it is; see ``error`` (reprocess after fixing the cause)
    IGNORED = "ignored"  # nothing to do (a topic or an update intake does not act on)


MAX_ATTEMPTS = 8
KEPT_HEADER_PREFIXES = ("x-shopify-", "x-wc-")
KEPT_HEADERS = frozenset({"content-type", "user-agent"})
HEADER_VALUE_MAX = 500


def retry_delay(attempts: int) -> timedelta:
    """Wait before attempt ``attempts + 1``: 1, 2, 4 … minutes, at most two hours (about 4 hours in all)."""
    return timedelta(minutes=min(2 ** max(attempts - 1, 0), 120))


def gives_up(attempts: int) -> bool:
    return attempts >= MAX_ATTEMPTS


def kept_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The headers worth keeping with a delivery: the platform's own and the content type, never credentials
    (``Authorization``, cookies): an allow-list, so a proxy's secret header is not stored by accident."""
    kept: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        if key in KEPT_HEADERS or key.startswith(KEPT_HEADER_PREFIXES):
            kept[key] = "".join(ch for ch in value if ch.isprintable())[:HEADER_VALUE_MAX]
    return kept
