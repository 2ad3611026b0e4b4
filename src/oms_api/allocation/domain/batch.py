"""Sourcing many orders against one stock picture (batch re-allocation): VIP orders first, then by placement time,
each consuming what it takes."""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from oms_api.allocation.domain.engine import _Run, stock_of
from oms_api.allocation.domain.model import Destination, Holding, LineRequest, Plan, Policy, Site


@dataclass(frozen=True, slots=True)
class BatchOrder:
    """One order of a batch: VIP orders are sourced first, then by placement time."""

    key: Hashable
    lines: Sequence[LineRequest]
    destination: Destination | None = None
    policy: Policy | None = None
    vip: bool = False
    placed_at: datetime | None = None
    labels: Mapping[uuid.UUID, str] | None = field(default=None, compare=False)


def batch_order(orders: Iterable[BatchOrder]) -> list[BatchOrder]:
    """The order in which a batch is sourced: VIP first, then oldest placement, then key."""
    return sorted(orders, key=lambda o: (not o.vip, o.placed_at is None, o.placed_at or datetime.min, str(o.key)))


def plan_batch(
    orders: Iterable[BatchOrder], sites: Iterable[Site], holdings: Iterable[Holding], *, explain: bool = True
) -> dict[Hashable, Plan]:
    """Source many orders against one stock picture, each consuming what it takes (contested stock goes to VIPs)."""
    by_id = {s.key: s for s in sites}
    stock = stock_of(holdings)
    ranked = batch_order(orders)
    plans: dict[Hashable, Plan] = {}
    distances: dict[tuple[float | None, float | None], dict[int, float | None]] = {}
    for position, order in enumerate(ranked, start=1):
        note = f"sourced {position} of {len(ranked)} in a batch (VIP orders first, then by placement time)"
        dest = order.destination or Destination()
        known = distances.setdefault((dest.latitude, dest.longitude), {})
        run = _Run(order.lines, by_id, stock, order.destination, order.policy, order.labels, known)
        result = run.plan(explain, note)
        if result.complete:
            for a in result.allocations:
                stock[a.sku_id.int][a.warehouse_id.int] -= a.quantity
        plans[order.key] = result
    return plans


Place = tuple[uuid.UUID, uuid.UUID]
"""(SKU id, warehouse id)."""


def plan_until_stable(
    orders: Sequence[BatchOrder],
    sites: Sequence[Site],
    holdings: Sequence[Holding],
    held: Mapping[Hashable, Mapping[Place, int]],
) -> tuple[dict[Hashable, Plan], set[Hashable]]:
    """Re-source a batch of orders that already hold stock: the complete plans, and the orders left as they are.

    Each order's current reservations (``held``) count as free for the batch. An order the batch cannot source
    keeps its reservations, which are then not free for the others, so some that fitted may no longer fit:
    plan again without the failed orders until no planned order fails. Ends after at most one round per order.
    """
    failed: set[Hashable] = set()
    while True:
        freed: dict[Place, int] = {}
        for key, per in held.items():
            if key not in failed:
                for place, quantity in per.items():
                    freed[place] = freed.get(place, 0) + quantity
        picture = [
            Holding(h.sku_id, h.warehouse_id, h.available + freed.get((h.sku_id, h.warehouse_id), 0), h.safety_stock)
            for h in holdings
        ]
        plans = plan_batch([o for o in orders if o.key not in failed], sites, picture)
        newly = {key for key, plan in plans.items() if not plan.complete}
        if not newly:
            return plans, failed
        failed |= newly


def same_allocation(
    plan: Plan, line_ids: Mapping[int, uuid.UUID], current: Mapping[tuple[uuid.UUID | None, uuid.UUID], int]
) -> bool:
    """Whether ``plan`` reserves exactly what the order holds now (units per order line and warehouse): then a
    batch has nothing to write for it."""
    planned: dict[tuple[uuid.UUID | None, uuid.UUID], int] = {}
    for a in plan.allocations:
        key = (line_ids[a.line_no], a.warehouse_id)
        planned[key] = planned.get(key, 0) + a.quantity
    return planned == dict(current)
