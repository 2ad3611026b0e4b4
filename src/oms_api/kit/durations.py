"""Durations written the way operators write them in settings: ``"5s,30s,2m,1h"``."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"5s,30s,2m,1h"`` -> seconds; a bare number is seconds. At least one step, each > 0 and <= 7 days."""
    steps = []
    for raw in text.split(","):
        token = raw.strip().lower()
        found = _STEP.match(token)
        if not found:
            raise ValueError(f"retry schedule step {raw.strip()!r} is not like 30s, 5m, 2h or 1d")
        seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
        if not 0 < seconds <= 7 * 86_400:
            raise ValueError(f"retry schedule step {raw.strip()!r} must be more than 0 and at most 7 days")
        steps.append(seconds)
    if not steps:
        raise ValueError("the retry schedule needs at least one step")
    return tuple(steps)
