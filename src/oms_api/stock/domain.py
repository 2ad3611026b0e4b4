"""Stock rules (pure): what a manual movement may do, how figures add up, and the values other contexts
exchange with stock (levels, holds, reservations).

The database enforces the invariants at the moment of change (conditional updates, see ``ledger``); these
functions decide what a request may ask for before any row is touched.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
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


# --- what other contexts hand to stock and get back -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LevelRef:
    """A stock level with the codes its ledger rows and ``stock.changed`` events show."""

    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str


@dataclass(frozen=True, slots=True)
class Change:
    """One ledger row to write: a change of one level's ``on_hand`` and/or ``reserved``, and why."""

    level: LevelRef
    kind: str
    """The movement type: receipt, adjustment, transfer_in/out, reservation, release, hold, hold_release, shipment."""
    on_hand: int = 0
    reserved: int = 0
    reference: str | None = None
    group_id: uuid.UUID | None = None
    reason: str | None = None
    note: str | None = None


def units_per_level(parts: Iterable[tuple[LevelRef, int]]) -> dict[uuid.UUID, tuple[LevelRef, int]]:
    """Units by stock level, in the order the levels first appear: one ledger row per level and owner (an order's
    lines of one SKU, or a cart's holds, at one warehouse)."""
    totals: dict[uuid.UUID, tuple[LevelRef, int]] = {}
    for ref, quantity in parts:
        known = totals.get(ref.level_id)
        totals[ref.level_id] = (ref, quantity + (known[1] if known else 0))
    return totals


def running_figures(changes: Sequence[Change], final: Mapping[uuid.UUID, Balance]) -> list[Balance]:
    """Each change's figures right after it, given every level's figures after all of them.

    Several changes of one level made in one statement (a batch) get one ledger row each; replaying the
    rows in order must lead to the final figures, so each row shows the level as it stood after it.
    """
    before: dict[uuid.UUID, Balance] = dict(final)
    for change in changes:
        now = before[change.level.level_id]
        before[change.level.level_id] = Balance(now.on_hand - change.on_hand, now.reserved - change.reserved)
    after = []
    for change in changes:
        was = before[change.level.level_id]
        before[change.level.level_id] = Balance(was.on_hand + change.on_hand, was.reserved + change.reserved)
        after.append(before[change.level.level_id])
    return after


def within_invariants(balance: Balance) -> bool:
    """What every stock level must satisfy after any change: nothing negative, reserved <= on_hand <= MAX."""
    return 0 <= balance.reserved <= balance.on_hand <= MAX_STOCK


@dataclass(frozen=True, slots=True)
class StockCandidate:
    """Units of a SKU available at an active warehouse (what a cart or an order can be sourced from)."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    priority: int
    available: int
    level_id: uuid.UUID


@dataclass
class SkuStock:
    """A SKU of an order or cart with the active warehouses that hold it."""

    sku_id: uuid.UUID
    sku: str
    name: str
    active: bool
    candidates: list[StockCandidate]
    tax_category: str = "standard"
    """The SKU's tax category (placement taxes the line by it)."""


@dataclass(frozen=True, slots=True)
class LevelFacts:
    """A stock level with its warehouse's facts: what sourcing plans on (every warehouse, active or not)."""

    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse_code: str
    priority: int
    active: bool
    latitude: float | None
    longitude: float | None
    serves_countries: tuple[str, ...]
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def ref(self) -> LevelRef:
        return LevelRef(self.level_id, self.sku_id, self.sku, self.warehouse_id, self.warehouse_code)


@dataclass(frozen=True, slots=True)
class Hold:
    """Reserve ``quantity`` of a SKU at a warehouse for one order line (or, with no line, for a cart)."""

    order_line_id: uuid.UUID | None
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    quantity: int

    @property
    def ref(self) -> LevelRef:
        return LevelRef(self.level_id, self.sku_id, self.sku, self.warehouse_id, self.warehouse)


@dataclass(frozen=True, slots=True)
class PartRelease:
    """Give back ``quantity`` units of an order line reserved at a warehouse."""

    order_line_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class ActiveReservation:
    """An order's active reservation with its stock level."""

    reservation_id: uuid.UUID
    order_id: uuid.UUID
    order_line_id: uuid.UUID | None
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    quantity: int

    @property
    def ref(self) -> LevelRef:
        return LevelRef(self.level_id, self.sku_id, self.sku, self.warehouse_id, self.warehouse)


@dataclass(frozen=True, slots=True)
class Held:
    """A cart's active hold: units of one SKU the cart holds at one warehouse."""

    reservation_id: uuid.UUID
    cart_id: uuid.UUID
    level_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    warehouse_id: uuid.UUID
    warehouse: str
    priority: int
    quantity: int

    @property
    def ref(self) -> LevelRef:
        return LevelRef(self.level_id, self.sku_id, self.sku, self.warehouse_id, self.warehouse)


@dataclass(frozen=True, slots=True)
class LineUnits:
    """``quantity`` units of an order line (of ``sku_id``) at a shipment's warehouse."""

    order_line_id: uuid.UUID
    sku_id: uuid.UUID
    quantity: int


class ReservationShortfall(Exception):
    """The order no longer holds the units a shipment line needs at its warehouse."""

    def __init__(self, order_line_id: uuid.UUID, needed: int, held: int) -> None:
        self.order_line_id, self.needed, self.held = order_line_id, needed, held
        super().__init__(f"order line {order_line_id} holds {held} units here, {needed} needed")


class StockOutOfStep(Exception):
    """Stock levels or reservations changed under a lock that should have prevented it (never expected)."""
