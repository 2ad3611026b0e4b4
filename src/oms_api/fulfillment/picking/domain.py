"""Picking rules (pure): which shipments go on which pick list, and the order a picker walks the bins.

Four methods (the brief's warehouse step):

- ``single``: one shipment, one list — the picker brings one order to packing.
- ``batch``: up to N shipments on one list — one round of the cart, each order in its own tote.
- ``zone``: one list per zone — each picker owns a zone; a shipment is complete when every zone
  holding its lines has picked them.
- ``wave``: every shipment released in a time window, one list per zone, all lists picked at once
  into one consolidation point, where the totes of each order meet.

Walking order is the S-shape (serpentine) route: zones in their sequence; inside a zone the visited
aisles in natural order (A2 before A10), walking up the first aisle and down the next; on the way the
bins by position, then shelf level. Lines whose SKU has no bin come last, so they are never forgotten.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

MAX_BATCH_ORDERS = 100
MAX_WAVE_ORDERS = 500
DEFAULT_BATCH_ORDERS = 10


class Method(StrEnum):
    SINGLE = "single"
    BATCH = "batch"
    ZONE = "zone"
    WAVE = "wave"


class ListStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class LineStatus(StrEnum):
    OPEN = "open"
    PICKED = "picked"
    SHORT = "short"


_DIGITS = re.compile(r"(\d+)")
NaturalKey = tuple[tuple[int, int | str], ...]
ZoneKey = tuple[int, NaturalKey, str]


def natural_key(text: str) -> NaturalKey:
    """Sort key reading digit runs as numbers: ``A2`` < ``A10``, case-insensitive."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.lower()) for part in _DIGITS.split(text) if part)


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a bin is: its zone (with the zone's walking sequence), aisle, position along it, shelf level."""

    zone_id: uuid.UUID
    zone_code: str
    zone_sequence: int
    aisle: str
    position: int
    level: int
    bin_code: str
    bin_id: uuid.UUID

    @property
    def zone_key(self) -> ZoneKey:
        return (self.zone_sequence, natural_key(self.zone_code), str(self.zone_id))


@dataclass(frozen=True, slots=True)
class PickRequest:
    """Units of one shipment line still to pick, and the bin they are in (``None``: no bin assigned)."""

    shipment_id: uuid.UUID
    shipment_line_id: uuid.UUID
    sku_id: uuid.UUID
    sku: str
    quantity: int
    spot: Spot | None


@dataclass(frozen=True, slots=True)
class ShipmentToPick:
    """A shipment waiting to be picked, oldest first in the queue the service gives."""

    shipment_id: uuid.UUID
    released_at: datetime
    requests: tuple[PickRequest, ...]


@dataclass(frozen=True, slots=True)
class PlannedLine:
    request: PickRequest
    tote: int
    sequence: int = 0


@dataclass(frozen=True, slots=True)
class PlannedList:
    """One pick list to create: its zone (zone and wave methods; ``None`` for bin-less lines) and lines."""

    zone_id: uuid.UUID | None
    zone_code: str | None
    lines: tuple[PlannedLine, ...]

    @property
    def shipment_ids(self) -> list[uuid.UUID]:
        return list(dict.fromkeys(line.request.shipment_id for line in self.lines))


def walking_order(lines: Sequence[PlannedLine]) -> list[PlannedLine]:
    """``lines`` in S-shape walking order, numbered from 1 (ties: tote, then SKU, then line id)."""
    located = [line for line in lines if line.request.spot is not None]
    unplaced = [line for line in lines if line.request.spot is None]

    def spot(line: PlannedLine) -> Spot:
        assert line.request.spot is not None
        return line.request.spot

    def tiebreak(line: PlannedLine) -> tuple[int, NaturalKey, str]:
        return (line.tote, natural_key(line.request.sku), str(line.request.shipment_line_id))

    ordered: list[PlannedLine] = []
    zones: dict[ZoneKey, list[PlannedLine]] = {}
    for line in located:
        zones.setdefault(spot(line).zone_key, []).append(line)
    for zone_key in sorted(zones):
        aisles: dict[str, list[PlannedLine]] = {}
        for line in zones[zone_key]:
            aisles.setdefault(spot(line).aisle, []).append(line)
        for index, aisle in enumerate(sorted(aisles, key=natural_key)):
            direction = 1 if index % 2 == 0 else -1  # up the first aisle, down the next

            def along(line: PlannedLine, direction: int = direction) -> tuple[object, ...]:
                here = spot(line)
                return (direction * here.position, here.level, natural_key(here.bin_code), tiebreak(line))

            ordered.extend(sorted(aisles[aisle], key=along))
    ordered.extend(sorted(unplaced, key=tiebreak))
    return [replace(line, sequence=number) for number, line in enumerate(ordered, start=1)]


def in_window(released_at: datetime, start: datetime, end: datetime) -> bool:
    """A wave takes shipments released in ``[start, end)``."""
    return start <= released_at < end


def choose_shipments(method: Method, queue: Sequence[ShipmentToPick], max_orders: int) -> list[ShipmentToPick]:
    """The shipments one generation takes from the queue (already in priority order, only pickable ones)."""
    pickable = [s for s in queue if s.requests]
    if method is Method.SINGLE:
        return pickable[:1]
    if method is Method.WAVE:
        return pickable[:MAX_WAVE_ORDERS]
    return pickable[: max(1, min(max_orders, MAX_BATCH_ORDERS))]


def plan_lists(method: Method, shipments: Sequence[ShipmentToPick]) -> list[PlannedList]:
    """The pick lists for ``shipments``: one list (single, batch) or one per zone (zone, wave).

    Each shipment keeps one tote number across every list it appears on, so the consolidation
    point (or the packer) can bring its units back together. Lists come in zone walking order,
    the bin-less list last.
    """
    planned = [
        PlannedLine(request, tote)
        for tote, shipment in enumerate(shipments, start=1)
        for request in shipment.requests
        if request.quantity > 0
    ]
    if not planned:
        return []
    if method in (Method.SINGLE, Method.BATCH):
        return [PlannedList(None, None, tuple(walking_order(planned)))]
    by_zone: dict[ZoneKey | None, list[PlannedLine]] = {}
    for line in planned:
        spot = line.request.spot
        by_zone.setdefault(spot.zone_key if spot else None, []).append(line)
    lists: list[PlannedList] = []
    zone_keys: list[ZoneKey | None] = [*sorted(k for k in by_zone if k is not None)]
    if None in by_zone:
        zone_keys.append(None)
    for key in zone_keys:
        lines = walking_order(by_zone[key])
        first = lines[0].request.spot
        lists.append(PlannedList(first.zone_id if first else None, first.zone_code if first else None, tuple(lines)))
    return lists


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What confirming a pick-list line records: units picked and units found missing."""

    picked: int
    short: int

    @property
    def status(self) -> LineStatus:
        return LineStatus.SHORT if self.short else LineStatus.PICKED


class OverPick(ValueError):
    """More units confirmed than the line asks for."""


def confirm(requested: int, picked: int) -> Confirmation:
    """Confirming ``picked`` of ``requested`` units: the remainder is a shortfall (nothing in the bin)."""
    if picked < 0 or picked > requested:
        raise OverPick(f"the line asks for {requested} unit(s); {picked} cannot be confirmed")
    return Confirmation(picked=picked, short=requested - picked)


def barcode_matches(scanned: str, barcode: str | None, sku_code: str) -> bool:
    """Whether a scan identifies the SKU: its GTIN in any length (zero-padded GTIN-8/12/13/14 are one
    number), or its SKU code when it has no barcode (a shelf label printed with the code)."""
    scanned = scanned.strip()
    if barcode is None:
        return scanned == sku_code
    if scanned.isdigit() and barcode.isdigit():
        return scanned.zfill(14) == barcode.zfill(14)
    return scanned == barcode


def list_status(line_statuses: Sequence[str]) -> ListStatus:
    """A list is open until its first confirmation and completed when every line is confirmed."""
    done = sum(1 for status in line_statuses if status != LineStatus.OPEN)
    if done == 0:
        return ListStatus.OPEN
    return ListStatus.COMPLETED if done == len(line_statuses) else ListStatus.IN_PROGRESS
