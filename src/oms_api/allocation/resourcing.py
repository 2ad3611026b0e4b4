"""Re-sourcing orders that already hold stock: all of one order, part of one order, or many orders at once.

The orders context decides which orders and lines may move (their status, the moves asked for) and records
what changed for the order; this module does the stock side in the same transaction: it locks every level
the run may touch (id order, like every stock writer), gives back what moves, and reserves the new plan,
all or nothing (409 ``out_of_stock`` changes nothing).
"""

from __future__ import annotations

import uuid
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain
from oms_api.allocation.domain import Destination, LineRequest, LineToSource, Plan
from oms_api.allocation.sourcing import (
    Sourced,
    destination_of,
    latest_explanation,
    out_of_stock,
    picture,
    policy_of,
    record_plans,
    source_and_reserve,
)
from oms_api.kit.ids import uuid7
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import ActiveReservation, Hold, PartRelease


@dataclass(frozen=True, slots=True)
class OrderToSource:
    """What sourcing needs of an order: where it goes, its channel's policy, and its lines."""

    order_id: uuid.UUID
    address: Mapping[str, Any] | None
    pickup: uuid.UUID | None
    sourcing: Mapping[str, Any]
    lines: Sequence[LineToSource]
    vip: bool = False
    placed_at: datetime | None = None


def _codes(lines: Sequence[LineToSource]) -> dict[uuid.UUID, str]:
    return {line.sku_id: line.sku for line in lines}


def _refused(sourced: Sourced, lines: Sequence[LineToSource]) -> Exception:
    summary = sourced.plan.explanation.summary if sourced.plan.explanation else None
    return out_of_stock(sourced.plan.shortages, _codes(lines), summary=summary)


async def resource_whole(
    session: AsyncSession,
    actor: str,
    order: OrderToSource,
    settings: Settings,
    *,
    exclude: Sequence[uuid.UUID] = (),
    reason: str | None = None,
) -> Sourced:
    """Release all of the order's stock and reserve a new plan under its channel's current policy."""
    await stock.load_levels(session, {line.sku_id for line in order.lines}, lock=True)  # before releasing
    await stock.release_for_order(session, order.order_id, actor=actor, reason=reason or "re-allocation")
    sourced = await source_and_reserve(
        session,
        actor,
        order_id=order.order_id,
        address=order.address,
        policy=policy_of(order.sourcing, settings, exclude=exclude, pickup=order.pickup),
        lines=order.lines,
        trigger="allocate",
        reason=reason,
    )
    if not sourced.plan.complete:
        raise _refused(sourced, order.lines)
    return sourced


async def resource_part(
    session: AsyncSession,
    actor: str,
    order: OrderToSource,
    settings: Settings,
    *,
    parts: Sequence[PartRelease],
    moved: Sequence[LineToSource],
    left: Mapping[tuple[int, uuid.UUID], int],
    codes: Mapping[uuid.UUID, str],
    reason: str,
) -> Sourced:
    """Move ``parts`` away from their warehouses: release them and source ``moved`` without those warehouses,
    preferring the ones that keep part of the order (``left``: units per (line, warehouse) that stay)."""
    excluded = {part.warehouse_id for part in parts}
    kept = {wid for (_, wid), quantity in left.items() if quantity > 0}
    await stock.load_levels(session, {line.sku_id for line in moved}, lock=True)  # before releasing
    await stock.release_part(session, order.order_id, parts, actor=actor, reason=reason)
    previous = await latest_explanation(session, order.order_id)
    sourced = await source_and_reserve(
        session,
        actor,
        order_id=order.order_id,
        address=order.address,
        policy=policy_of(order.sourcing, settings, exclude=excluded, kept=kept, pickup=order.pickup),
        lines=moved,
        trigger="reallocate",
        reason=reason,
        explain_lines=order.lines,
        unchanged=domain.unchanged_parts(previous, left, codes),
    )
    if not sourced.plan.complete:
        raise _refused(sourced, moved)
    return sourced


@dataclass
class BatchSourced:
    """A batch's outcome: per re-sourced order its plan, the stored plan's id and document, and what it gave
    back; per order left as it was, why (``out_of_stock`` or ``same_allocation``)."""

    plans: dict[uuid.UUID, tuple[Plan, uuid.UUID, dict[str, Any]]] = field(default_factory=dict)
    released: dict[uuid.UUID, list[ActiveReservation]] = field(default_factory=dict)
    unchanged: dict[uuid.UUID, str] = field(default_factory=dict)


async def resource_batch(
    session: AsyncSession, actor: str, orders: Sequence[OrderToSource], settings: Settings, *, reason: str | None
) -> BatchSourced:
    """Source many orders against one stock picture (VIP first, then by placement time), each consuming what it
    takes; their current reservations count as free for the batch. An order that cannot be sourced keeps what
    it holds. A dozen statements whatever the batch size: levels and reservations are read in bulk (levels
    row-locked in id order) and the changes written in bulk."""
    places: dict[tuple[Any, ...], Destination] = {}
    batch: list[domain.BatchOrder] = []
    labels: dict[uuid.UUID, str] = {}
    for order in orders:
        address = order.address or {}
        key = tuple(address.get(k) for k in ("country", "city", "latitude", "longitude"))
        if key not in places:
            places[key] = await destination_of(address)
        labels.update(_codes(order.lines))
        batch.append(
            domain.BatchOrder(
                key=order.order_id,
                lines=[LineRequest(line.line_no, line.sku_id, line.quantity) for line in order.lines],
                destination=places[key],
                policy=policy_of(order.sourcing, settings, pickup=order.pickup),
                vip=order.vip,
                placed_at=order.placed_at,
                labels=labels,
            )
        )
    levels = await stock.load_levels(session, labels, lock=True)
    held = await stock.active_of_orders(session, [order.order_id for order in orders])
    sites, holdings, by_place = picture(levels)
    freed: dict[Hashable, dict[tuple[uuid.UUID, uuid.UUID], int]] = {}
    current: dict[uuid.UUID, dict[tuple[uuid.UUID | None, uuid.UUID], int]] = {}
    for r in held:
        per = freed.setdefault(r.order_id, {})
        per[(r.sku_id, r.warehouse_id)] = per.get((r.sku_id, r.warehouse_id), 0) + r.quantity
        line = current.setdefault(r.order_id, {})
        line[(r.order_line_id, r.warehouse_id)] = line.get((r.order_line_id, r.warehouse_id), 0) + r.quantity
    plans, failed = domain.plan_until_stable(batch, sites, holdings, freed)
    outcome = BatchSourced(unchanged=dict.fromkeys((uuid.UUID(str(k)) for k in failed), "out_of_stock"))
    by_id = {order.order_id: order for order in orders}
    new_holds: list[tuple[uuid.UUID, Hold]] = []
    documents: list[tuple[uuid.UUID, uuid.UUID, str, dict[str, Any]]] = []
    for order_key, plan in plans.items():
        order = by_id[uuid.UUID(str(order_key))]
        line_ids = {line.line_no: line.order_line_id for line in order.lines}
        if domain.same_allocation(plan, line_ids, current.get(order.order_id, {})):
            outcome.unchanged[order.order_id] = "same_allocation"
            continue
        for a in plan.allocations:
            level = by_place[(a.sku_id, a.warehouse_id)]
            hold = Hold(
                line_ids[a.line_no],
                level.level_id,
                a.sku_id,
                labels[a.sku_id],
                a.warehouse_id,
                level.warehouse_code,
                a.quantity,
            )
            new_holds.append((order.order_id, hold))
        plan_id, document = uuid7(), domain.document(plan, order.lines)
        documents.append((plan_id, order.order_id, "allocate", document))
        outcome.plans[order.order_id] = (plan, plan_id, document)
    moving = [r for r in held if r.order_id in outcome.plans]
    for r in moving:
        outcome.released.setdefault(r.order_id, []).append(r)
    await stock.release_reservations(session, moving, actor=actor, reason=reason or "batch re-allocation")
    await stock.reserve_for_orders(session, new_holds, actor=actor)
    await record_plans(session, actor, documents, reason)
    return outcome
