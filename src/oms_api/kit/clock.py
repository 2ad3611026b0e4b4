"""The one place that reads the time, so that tests can reason about it."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Aware UTC now."""
    return datetime.now(UTC)
