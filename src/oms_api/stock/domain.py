"""Stock rules (pure): what a manual movement may do, and how figures add up.

The database enforces the invariants at the moment of change (conditional updates); these
functions decide what a request may ask for before any row is touched.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

MAX_MOVEMENT_QUANTITY = 10_000_000
"""Largest quantity one manual movement may move (a typo guard, not a physical limit)."""

MAX_STOCK = 2_000_000_000
"""Largest on_hand a stock level may reach (stays below the 32-bit integer columns' limit)."""


class AdjustmentReason(StrEnum):
    """Why stock was corrected by hand; the reason fixes the direction the count may move."""

    CYCLE_COUNT = "cycle_count"
    DAMAGE = "damage"
    LOSS = "loss"
    FOUND = "found"


_DECREASING = frozenset({AdjustmentReason.DAMAGE, AdjustmentReason.LOSS})
_INCREASING = frozenset({AdjustmentReason.FOUND})


def adjustment_error(reason: AdjustmentReason, quantity: int) -> str | None:
    """Why an adjustment of ``quantity`` for ``reason`` is refused, or None when it is fine.

    A cycle count may go either way; damage and loss only remove stock, found stock only adds.
    """
    if quantity == 0:
        return "An adjustment must change the quantity (it may not be 0)"
    if abs(quantity) > MAX_MOVEMENT_QUANTITY:
        return f"An adjustment moves at most {MAX_MOVEMENT_QUANTITY} units"
    if reason in _DECREASING and quantity > 0:
        return f"A {reason.value} adjustment removes stock: its quantity must be negative"
    if reason in _INCREASING and quantity < 0:
        return f"A {reason.value} adjustment adds stock: its quantity must be positive"
    return None


def missing_coordinate(latitude: float | None, longitude: float | None) -> str | None:
    """The coordinate that is missing when only one of the pair is given (both or neither)."""
    if latitude is None and longitude is not None:
        return "latitude"
    if longitude is None and latitude is not None:
        return "longitude"
    return None


@dataclass(frozen=True, slots=True)
class Balance:
    """Units at a stock level: physically present and promised to orders."""

    on_hand: int = 0
    reserved: int = 0

    @property
    def available(self) -> int:
        """What can still be promised: on hand and not reserved."""
        return self.on_hand - self.reserved

    def __add__(self, other: Balance) -> Balance:
        return Balance(self.on_hand + other.on_hand, self.reserved + other.reserved)


def available(on_hand: int, reserved: int) -> int:
    return Balance(on_hand, reserved).available


def total(balances: Iterable[Balance]) -> Balance:
    """The sum of several levels' balances (e.g. one SKU across warehouses)."""
    result = Balance()
    for balance in balances:
        result = result + balance
    return result
