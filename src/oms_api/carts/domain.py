"""Cart rules (pure): the lifecycle, expiry, how lines change and which holds give way first."""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Generic, TypeVar

MAX_LINES = 200
MAX_QUANTITY = 100_000
MAX_TTL_MINUTES = 10_080


class CartStatus(StrEnum):
    ACTIVE = "active"
    CONVERTED = "converted"
    EXPIRED = "expired"
    ABANDONED = "abandoned"


def is_expired(expires_at: datetime, now: datetime) -> bool:
    """A cart is expired from its expiry instant on, whether or not the expiry job has released it yet."""
    return expires_at <= now


def refusal(status: str, expires_at: datetime, now: datetime) -> str | None:
    """Why a cart may not change any more (a problem ``code``), or None while it is active and unexpired."""
    if status == CartStatus.ACTIVE:
        return "cart_expired" if is_expired(expires_at, now) else None
    return f"cart_{status}"


def expiry(now: datetime, minutes: int) -> datetime:
    return now + timedelta(minutes=minutes)


def extended(current: datetime, now: datetime, minutes: int) -> datetime:
    """``now + minutes``, never earlier than the current expiry (an extension does not shorten a cart)."""
    return max(current, expiry(now, minutes))


def replaced(given: Mapping[str, int]) -> dict[str, int]:
    """PUT: the cart becomes exactly the given lines (a quantity of 0 leaves the SKU out)."""
    return {sku: qty for sku, qty in given.items() if qty > 0}


def merged(current: Mapping[str, int], given: Mapping[str, int]) -> dict[str, int]:
    """PATCH: the given SKUs get their new quantity (0 removes the line), the others stay."""
    result = dict(current)
    for sku, qty in given.items():
        if qty > 0:
            result[sku] = qty
        else:
            result.pop(sku, None)
    return result


def deltas(current: Mapping[str, int], wanted: Mapping[str, int]) -> dict[str, int]:
    """How many more (positive) or fewer (negative) units each SKU needs held; unchanged SKUs are left out."""
    changes = {sku: wanted.get(sku, 0) - current.get(sku, 0) for sku in {*current, *wanted}}
    return {sku: delta for sku, delta in sorted(changes.items()) if delta}


K = TypeVar("K", bound=Hashable)


@dataclass(frozen=True, slots=True)
class HeldPart(Generic[K]):
    """Units of one SKU a cart holds at one warehouse (``key`` names the hold)."""

    key: K
    quantity: int
    priority: int
    warehouse_code: str


def pick_releases(parts: Sequence[HeldPart[K]], amount: int) -> list[tuple[K, int]]:
    """Which holds give back ``amount`` units: the least preferred warehouse first, so the cart keeps
    the stock that would ship soonest (highest priority, then code, as placement ranks warehouses)."""
    if amount > sum(p.quantity for p in parts):
        raise ValueError(f"cannot release {amount} units: only {sum(p.quantity for p in parts)} are held")
    ranked = sorted(parts, key=lambda p: (p.priority, _descending(p.warehouse_code)))
    picked: list[tuple[K, int]] = []
    for part in ranked:
        if amount == 0:
            break
        take = min(amount, part.quantity)
        picked.append((part.key, take))
        amount -= take
    return picked


def _descending(code: str) -> tuple[int, ...]:
    """A key sorting codes in reverse (placement prefers lower codes on equal priority)."""
    return (*(-ord(ch) for ch in code), 1)
