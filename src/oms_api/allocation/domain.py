"""Where each order line's stock is reserved: the first sourcing rule (pure).

Rule: one warehouse that can serve every line beats any split (fewest shipments); among
those, the highest priority wins. Otherwise each line goes, whole, to the highest-priority
warehouse that can serve it; a line that no single warehouse can serve is split across
warehouses in priority order, at most ``max_warehouses`` of them. Ties break on the
warehouse code so that plans are deterministic. The allocation issue replaces this rule
with distance- and policy-aware sourcing behind the same ``plan`` signature.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Candidate:
    """A warehouse holding the SKU, with what it can still promise."""

    warehouse_id: uuid.UUID
    warehouse_code: str
    priority: int
    available: int


@dataclass(frozen=True, slots=True)
class LineRequest:
    line_no: int
    sku_id: uuid.UUID
    quantity: int


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
class Plan:
    allocations: tuple[Allocation, ...]
    shortages: tuple[Shortage, ...]

    @property
    def complete(self) -> bool:
        return not self.shortages


def _ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    return sorted(candidates, key=lambda c: (-c.priority, c.warehouse_code))


def plan(
    lines: Sequence[LineRequest], candidates: Mapping[uuid.UUID, Sequence[Candidate]], max_warehouses: int = 3
) -> Plan:
    """An all-or-nothing plan: either every line is covered or the shortages say what is missing."""
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for line in lines:
        wanted[line.sku_id] += line.quantity
    shortages = _shortages(wanted, candidates)
    if shortages:
        return Plan((), shortages)
    single = _single_warehouse(lines, wanted, candidates)
    if single is not None:
        return Plan(single, ())
    return _per_line(lines, candidates, max_warehouses)


def _shortages(
    wanted: Mapping[uuid.UUID, int], candidates: Mapping[uuid.UUID, Sequence[Candidate]]
) -> tuple[Shortage, ...]:
    found = []
    for sku_id, quantity in wanted.items():
        total = sum(max(c.available, 0) for c in candidates.get(sku_id, ()))
        if total < quantity:
            found.append(Shortage(sku_id, quantity, total))
    return tuple(found)


def _single_warehouse(
    lines: Sequence[LineRequest], wanted: Mapping[uuid.UUID, int], candidates: Mapping[uuid.UUID, Sequence[Candidate]]
) -> tuple[Allocation, ...] | None:
    able: dict[uuid.UUID, Candidate] | None = None
    for sku_id, quantity in wanted.items():
        serving = {c.warehouse_id: c for c in candidates.get(sku_id, ()) if c.available >= quantity}
        able = serving if able is None else {k: v for k, v in able.items() if k in serving}
        if not able:
            return None
    assert able
    best = _ranked(list(able.values()))[0]
    return tuple(Allocation(line.line_no, line.sku_id, best.warehouse_id, line.quantity) for line in lines)


def _per_line(
    lines: Sequence[LineRequest], candidates: Mapping[uuid.UUID, Sequence[Candidate]], max_warehouses: int
) -> Plan:
    left = {(sku_id, c.warehouse_id): c.available for sku_id, cs in candidates.items() for c in cs}
    allocations: list[Allocation] = []
    shortages: list[Shortage] = []
    for line in lines:
        ranked = _ranked(list(candidates.get(line.sku_id, ())))
        whole = next((c for c in ranked if left[(line.sku_id, c.warehouse_id)] >= line.quantity), None)
        if whole is not None:
            left[(line.sku_id, whole.warehouse_id)] -= line.quantity
            allocations.append(Allocation(line.line_no, line.sku_id, whole.warehouse_id, line.quantity))
            continue
        # No single warehouse holds the whole line: take the biggest holdings first to split the least.
        by_stock = sorted(ranked, key=lambda c: (-left[(line.sku_id, c.warehouse_id)], -c.priority, c.warehouse_code))
        need = line.quantity
        parts: list[Allocation] = []
        for c in by_stock[:max_warehouses]:
            take = min(need, left[(line.sku_id, c.warehouse_id)])
            if take <= 0:
                continue
            parts.append(Allocation(line.line_no, line.sku_id, c.warehouse_id, take))
            need -= take
            if need == 0:
                break
        if need:
            shortages.append(Shortage(line.sku_id, line.quantity, line.quantity - need))
            continue
        for part in parts:
            left[(line.sku_id, part.warehouse_id)] -= part.quantity
        allocations.extend(parts)
    if shortages:
        return Plan((), tuple(shortages))
    return Plan(tuple(allocations), ())
