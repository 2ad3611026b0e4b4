"""Re-sourcing orders: all of an order (``POST …/allocate``), part of it (``…/reallocate``), or many at once
(``POST /v1/orders/allocate-batch``).

Orders decides which orders and lines may move and records what changed for each order (a new version and
``order.allocation_changed``); the allocation context moves the stock and stores the new plan, all in this
transaction. Each order is locked first (the order every order writer takes), then the stock levels.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
from oms_api.allocation.domain import Plan
from oms_api.channels import service as channels
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed
from oms_api.orders import reading, repository
from oms_api.orders.domain import PARTLY_RESOURCEABLE, RESOURCEABLE, OrderStatus
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.schemas import Order
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import ActiveReservation, PartRelease


def _check_status(order: OrderRow, allowed: frozenset[OrderStatus], action: str) -> None:
    if OrderStatus(order.status) not in allowed:
        raise Conflict(
            f"An order that is {order.status} cannot be {action}",
            code="order_not_allocatable",
            current_status=order.status,
            allowed_statuses=sorted(s.value for s in allowed),
        )


def _lines_of(view: Order) -> list[allocation.LineToSource]:
    missing = [line.line_no for line in view.lines if line.sku_id is None]
    if missing:
        raise Conflict(
            f"Lines {missing} name SKUs the catalogue does not know: the order cannot be sourced",
            code="order_not_allocatable",
            current_status=view.status,
        )
    return [
        allocation.LineToSource(line.id, line.line_no, line.sku, line.sku_id, line.quantity)
        for line in view.lines
        if line.sku_id is not None
    ]


def _active(view: Order) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line.line_no,
            "sku": line.sku,
            "warehouse": a.warehouse,
            "warehouse_id": str(a.warehouse_id),
            "quantity": a.quantity,
        }
        for line in view.lines
        for a in line.allocations
        if a.status == "active"
    ]


async def _warehouse_ids(session: AsyncSession, refs: Iterable[uuid.UUID | str], pointer: str) -> dict[uuid.UUID, str]:
    found: dict[uuid.UUID, str] = {}
    problems = []
    for i, ref in enumerate(refs):
        try:
            warehouse = await stock.get_warehouse(session, str(ref))
        except NotFound:
            problems.append(
                ProblemError(pointer=f"{pointer}/{i}", detail=f"no warehouse {ref!r}", code="unknown_warehouse")
            )
            continue
        found[warehouse.id] = warehouse.code
    if problems:
        raise ValidationFailed(problems)
    return found


async def _to_source(
    session: AsyncSession, order: OrderRow, lines: list[allocation.LineToSource]
) -> allocation.OrderToSource:
    channel = await channels.channel_by_id(session, order.channel_id)
    return allocation.OrderToSource(
        order.id, order.shipping_address, order.pickup_warehouse_id, channel.sourcing, lines
    )


def _changed_event(
    order_id: uuid.UUID,
    external_ref: str,
    status: str,
    version: int,
    trigger: str,
    reason: str | None,
    plan_id: uuid.UUID,
    decision: str,
    released: list[dict[str, Any]],
    allocations: list[dict[str, Any]],
) -> dict[str, Any]:
    """The ``order.allocation_changed`` payload: what was given back, and where every unit is allocated now."""
    return {
        "order_id": str(order_id),
        "external_ref": external_ref,
        "order_status": status,
        "trigger": trigger,
        "reason": reason,
        "plan_id": str(plan_id),
        "decision": decision,
        "shipments": len({a["warehouse_id"] for a in allocations}),
        "released": released,
        "allocations": allocations,
        "version": version,
    }


async def _changed(
    session: AsyncSession,
    actor: Principal,
    order: OrderRow,
    sourced: allocation.Sourced,
    trigger: str,
    reason: str | None,
    released: list[dict[str, Any]],
) -> None:
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    view = await reading.view_of(session, order)
    assert sourced.plan_id is not None
    assert sourced.plan.explanation is not None
    data = _changed_event(
        order.id,
        order.external_ref,
        order.status,
        order.version,
        trigger,
        reason,
        sourced.plan_id,
        sourced.plan.explanation.decision,
        released,
        _active(view),
    )
    outbox.record(session, "order.allocation_changed", "order", order.id, data, actor=actor.actor, reason=reason)


async def allocate_order(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    settings: Settings,
    *,
    exclude_warehouses: Iterable[uuid.UUID | str] = (),
    reason: str | None = None,
) -> Plan:
    """Re-run sourcing for a confirmed or held order: release its stock and reserve the new plan, all or nothing.

    409 ``order_not_allocatable`` for other statuses, 409 ``out_of_stock`` (nothing changed) when the new plan
    cannot cover every line; 422 ``unknown_warehouse`` for an unknown excluded warehouse.
    """
    order = await reading.load(session, order_id, for_update=True)
    _check_status(order, RESOURCEABLE, "allocated")
    excluded = await _warehouse_ids(session, exclude_warehouses, "/body/exclude_warehouses")
    before = await reading.view_of(session, order)
    target = await _to_source(session, order, _lines_of(before))
    sourced = await allocation.resource_whole(
        session, actor.actor, target, settings, exclude=list(excluded), reason=reason
    )
    await _changed(session, actor, order, sourced, "allocate", reason, _active(before))
    return sourced.plan


@dataclass(frozen=True, slots=True)
class Move:
    """Units of an order line to move away from a warehouse."""

    line_no: int
    warehouse: uuid.UUID | str
    quantity: int


async def reallocate(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, moves: Sequence[Move], reason: str, settings: Settings
) -> Plan:
    """Move part of an order to other warehouses: release it where it cannot ship, source it elsewhere.

    The warehouses moved away from are excluded; warehouses already shipping the rest of the order come
    first (no new shipment). All or nothing: 409 ``out_of_stock`` changes nothing.
    """
    order = await reading.load(session, order_id, for_update=True)
    _check_status(order, PARTLY_RESOURCEABLE, "re-allocated")
    before = await reading.view_of(session, order)
    lines = {line.line_no: line for line in _lines_of(before)}
    held: dict[tuple[int, uuid.UUID], int] = {}
    for order_line in before.lines:
        for a in order_line.allocations:
            if a.status == "active":
                key = (order_line.line_no, a.warehouse_id)
                held[key] = held.get(key, 0) + a.quantity
    problems: list[ProblemError] = []
    parts: list[PartRelease] = []
    moved: list[allocation.LineToSource] = []
    asked: dict[tuple[int, uuid.UUID], int] = {}
    for i, move in enumerate(moves):
        at = f"/body/moves/{i}"
        source = lines.get(move.line_no)
        if source is None:
            problems.append(
                ProblemError(pointer=f"{at}/line_no", detail=f"no line {move.line_no}", code="unknown_line")
            )
            continue
        try:
            warehouse = await stock.get_warehouse(session, str(move.warehouse))
        except NotFound:
            problems.append(
                ProblemError(
                    pointer=f"{at}/warehouse", detail=f"no warehouse {move.warehouse!r}", code="unknown_warehouse"
                )
            )
            continue
        wid, code = warehouse.id, warehouse.code
        asked[(move.line_no, wid)] = asked.get((move.line_no, wid), 0) + move.quantity
        if asked[(move.line_no, wid)] > held.get((move.line_no, wid), 0):
            problems.append(
                ProblemError(
                    pointer=f"{at}/quantity",
                    detail=f"line {move.line_no} has {held.get((move.line_no, wid), 0)} unit(s) allocated at {code}",
                    code="not_allocated_there",
                )
            )
            continue
        parts.append(PartRelease(source.order_line_id, wid, move.quantity))
        moved.append(
            allocation.LineToSource(source.order_line_id, source.line_no, source.sku, source.sku_id, move.quantity)
        )
    if problems:
        raise ValidationFailed(problems)
    left = dict(held)
    for key, quantity in asked.items():
        left[key] -= quantity
    codes = {a.warehouse_id: a.warehouse for line in before.lines for a in line.allocations}
    target = await _to_source(session, order, list(lines.values()))
    sourced = await allocation.resource_part(
        session, actor.actor, target, settings, parts=parts, moved=moved, left=left, codes=codes, reason=reason
    )
    released = [
        {
            "line_no": line_no,
            "sku": lines[line_no].sku,
            "warehouse": codes.get(wid, str(wid)),
            "warehouse_id": str(wid),
            "quantity": quantity,
        }
        for (line_no, wid), quantity in asked.items()
    ]
    await _changed(session, actor, order, sourced, "reallocate", reason, released)
    return sourced.plan


# --- many orders at once ----------------------------------------------------------------------------------------


@dataclass
class BatchResult:
    """What a batch did: the orders re-sourced (with their plans) and those left as they were, with why."""

    allocated: dict[uuid.UUID, Plan]
    unchanged: dict[uuid.UUID, str]


def _released(rows: Sequence[ActiveReservation], line_nos: dict[uuid.UUID, int]) -> list[dict[str, Any]]:
    return [
        {
            "line_no": line_nos.get(r.order_line_id) if r.order_line_id else None,
            "sku": r.sku,
            "warehouse": r.warehouse,
            "warehouse_id": str(r.warehouse_id),
            "quantity": r.quantity,
        }
        for r in rows
    ]


async def allocate_batch(
    session: AsyncSession,
    actor: Principal,
    order_ids: Sequence[uuid.UUID],
    settings: Settings,
    *,
    reason: str | None = None,
) -> BatchResult:
    """Source many confirmed or held orders against one stock picture: VIP-tagged orders first, then by
    placement time, each consuming what it takes (their current reservations count as free for the batch).

    An order the batch cannot source keeps its current reservations and is reported in ``unchanged`` (so are
    orders whose new plan is what they already hold, and orders in other statuses or with unknown SKUs); the
    others are released and reserved anew. A dozen statements whatever the batch size.
    """
    rows = await repository.orders_to_source(session, order_ids)
    unchanged: dict[uuid.UUID, str] = dict.fromkeys(set(order_ids) - {r.id for r in rows}, "order_not_found")
    todo = []
    for row in rows:
        if OrderStatus(row.status) not in RESOURCEABLE:
            unchanged[row.id] = "order_not_allocatable"
        elif any(line.sku_id is None for line in row.lines) or not row.lines:
            unchanged[row.id] = "unknown_sku"
        else:
            todo.append(row)
    sourcing = {cid: (await channels.channel_by_id(session, cid)).sourcing for cid in {r.channel_id for r in todo}}
    targets = [
        allocation.OrderToSource(
            row.id,
            row.shipping_address,
            row.pickup_warehouse_id,
            sourcing[row.channel_id],
            [
                allocation.LineToSource(line.id, line.line_no, line.sku, line.sku_id, line.quantity)
                for line in row.lines
            ],
            vip="vip" in row.tags,
            placed_at=row.placed_at,
        )
        for row in todo
    ]
    outcome = await allocation.resource_batch(session, actor.actor, targets, settings, reason=reason)
    unchanged.update(outcome.unchanged)
    by_order = {row.id: row for row in todo}
    for oid, (_, plan_id, document) in outcome.plans.items():
        row = by_order[oid]
        allocations = [
            {
                "line_no": line["line_no"],
                "sku": line["sku"],
                "warehouse": part["warehouse"],
                "warehouse_id": part["warehouse_id"],
                "quantity": part["quantity"],
            }
            for line in document["lines"]
            for part in line["allocations"]
        ]
        released = _released(outcome.released.get(oid, []), {line.id: line.line_no for line in row.lines})
        data = _changed_event(
            oid,
            row.external_ref,
            row.status,
            row.version + 1,
            "allocate",
            reason,
            plan_id,
            document["decision"],
            released,
            allocations,
        )
        outbox.record(session, "order.allocation_changed", "order", oid, data, actor=actor.actor, reason=reason)
    await repository.bump_versions(session, list(outcome.plans), utcnow())
    return BatchResult({oid: plan for oid, (plan, _, _) in outcome.plans.items()}, unchanged)
