"""What the sourcing engine takes and gives (pure values): the order's lines, the warehouses and their stock, the
destination, the channel's policy; the plan, its shortages and its explanation."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from enum import StrEnum

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), for great-circle distances."""


class Strategy(StrEnum):
    """A channel's order of the soft rules (hard constraints and the split limit always apply)."""

    NEAREST = "nearest"
    """Fewest shipments, then distance, then priority (the default)."""
    PRIORITY = "priority"
    """Fewest shipments, then priority, then distance."""
    NEAREST_PER_LINE = "nearest_per_line"
    """Distance first: each line from the nearest warehouse holding it, even if that adds shipments."""


RULES: dict[Strategy, tuple[str, ...]] = {
    Strategy.NEAREST: ("hard_constraints", "fewest_shipments", "distance", "priority", "max_splits"),
    Strategy.PRIORITY: ("hard_constraints", "fewest_shipments", "priority", "distance", "max_splits"),
    Strategy.NEAREST_PER_LINE: ("hard_constraints", "distance", "priority", "max_splits"),
}


# --- inputs -----------------------------------------------------------------------------------------------------


def trig_of(latitude: float, longitude: float) -> tuple[float, float, float]:
    lat = math.radians(latitude)
    return lat, math.radians(longitude), math.cos(lat)


def great_circle(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """``geo.great_circle_km`` on precomputed radians and cosines (haversine)."""
    h = math.sin((b[0] - a[0]) / 2) ** 2 + a[2] * b[2] * math.sin((b[1] - a[1]) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


@dataclass(frozen=True, slots=True)
class LineToSource:
    """Units of an order line to source, as the service hands them to the engine (with the line's ids)."""

    order_line_id: uuid.UUID
    line_no: int
    sku: str
    sku_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class LineRequest:
    line_no: int
    sku_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class Site:
    """A warehouse as sourcing sees it."""

    warehouse_id: uuid.UUID
    code: str
    priority: int = 0
    active: bool = True
    latitude: float | None = None
    longitude: float | None = None
    serves_countries: frozenset[str] = frozenset()
    """Countries it ships to; empty means everywhere."""
    key: int = field(init=False, repr=False, compare=False)
    """``warehouse_id.int``: integers hash in C, UUIDs in Python (a third of a plan's time)."""
    trig: tuple[float, float, float] | None = field(init=False, repr=False, compare=False)
    """Latitude and longitude in radians and the latitude's cosine, computed once for every distance."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", self.warehouse_id.int)
        trig = None
        if self.latitude is not None and self.longitude is not None:
            trig = trig_of(self.latitude, self.longitude)
        object.__setattr__(self, "trig", trig)


@dataclass(frozen=True, slots=True)
class Holding:
    """Stock of one SKU at one warehouse: ``available`` is on_hand - reserved."""

    sku_id: uuid.UUID
    warehouse_id: uuid.UUID
    available: int
    safety_stock: int = 0

    @property
    def sourceable(self) -> int:
        """What sourcing may promise: available above the safety stock, never negative."""
        return max(self.available - max(self.safety_stock, 0), 0)


@dataclass(frozen=True, slots=True)
class Destination:
    """Where the order goes: its country, and coordinates when known (with how they were found)."""

    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    precision: str | None = None
    """``address`` (given), ``city`` or ``country`` (geocoded), None (not located)."""
    place: str | None = None

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Policy:
    """A channel's sourcing policy, resolved for one run."""

    strategy: Strategy = Strategy.NEAREST
    allowed_warehouses: frozenset[str] = frozenset()
    """Warehouse codes the channel may ship from; empty means any."""
    max_warehouses: int = 3
    """Most warehouses (so shipments) the order may use, counting ``kept`` ones."""
    excluded: frozenset[uuid.UUID] = frozenset()
    """Warehouses that must not take new stock (re-allocation away from a failed warehouse)."""
    kept: frozenset[uuid.UUID] = frozenset()
    """Warehouses already shipping part of the order: using them adds no shipment, so they come first."""
    pickup: uuid.UUID | None = None
    """Click-and-collect: the one warehouse where the customer collects the order (countries do not matter)."""


# --- outputs ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Allocation:
    line_no: int
    sku_id: uuid.UUID
    warehouse_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class Shortage:
    sku_id: uuid.UUID
    requested: int
    available: int


@dataclass(frozen=True, slots=True)
class Part:
    """Units of a line served by one warehouse, and the rule that chose it."""

    warehouse_id: uuid.UUID
    code: str
    quantity: int
    distance_km: float | None
    rule: str


@dataclass(frozen=True, slots=True)
class LineExplanation:
    line_no: int
    sku_id: uuid.UUID
    quantity: int
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Verdict:
    """What sourcing made of one warehouse: ``chosen``, ``rejected`` (hard constraint) or ``not_chosen``."""

    warehouse_id: uuid.UUID
    code: str
    status: str
    reason: str
    detail: str
    priority: int
    distance_km: float | None


@dataclass(frozen=True, slots=True)
class Explanation:
    strategy: str
    rules: tuple[str, ...]
    destination: Destination
    decision: str
    """``single_warehouse``, ``split``, ``nearest_per_line``, ``out_of_stock`` or ``split_limit``."""
    summary: str
    shipments: int
    lines: tuple[LineExplanation, ...]
    warehouses: tuple[Verdict, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    allocations: tuple[Allocation, ...]
    shortages: tuple[Shortage, ...]
    explanation: Explanation | None = None

    @property
    def complete(self) -> bool:
        return not self.shortages

    @property
    def warehouses(self) -> tuple[uuid.UUID, ...]:
        """The warehouses used, in first-use order (one shipment each)."""
        return tuple(dict.fromkeys(a.warehouse_id for a in self.allocations))
