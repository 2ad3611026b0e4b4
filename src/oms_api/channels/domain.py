"""Sales channel rules (pure)."""

from __future__ import annotations

from typing import Literal, get_args

ChannelType = Literal["web", "marketplace", "pos", "phone", "b2b", "customer_service", "other"]
"""Where orders come from; reports group sales by it, so the set is closed (``other`` for the rest)."""

CHANNEL_TYPES: tuple[str, ...] = get_args(ChannelType)


def inactive_detail(code: str) -> str:
    """What is said of an order or cart for a channel that no longer sells (refused, or held at intake)."""
    return f"channel {code!r} is not active"
