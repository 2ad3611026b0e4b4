"""Sourcing use cases: plan and reserve an order's stock, (re)allocate it, explain the plan.

Every run reads the stock levels of the order's SKUs row-locked in id order (``stock.sourcing``),
so the plan is made on figures no concurrent order can change before it is reserved: the safety
stock is kept and a reservation never falls short of its plan unless a stock level appeared in
between (then the run re-plans, as placement always did). Each successful run stores its
explanation in ``allocation_plans``; the newest one is what ``GET …/allocation`` shows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain, repository
from oms_api.allocation.domain import Destination, Holding, LineRequest, Plan, Policy, Site, Strategy
from oms_api.allocation.geo import geocoder
from oms_api.allocation.schemas import AllocationExplanation
from oms_api.channels import service as channels
from oms_api.channels.models import Channel
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed
from oms_api.kit.ids import uuid7
from oms_api.orders import service as orders
from oms_api.orders.domain import OrderStatus
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.schemas import Order
from oms_api.settings import Settings, get_settings
from oms_api.stock import reservations, warehouses
from oms_api.stock import sourcing as stock_sourcing
from oms_api.stock.reservations import Hold

REPLAN_ATTEMPTS = 3
ALLOCATABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.ON_HOLD})
"""Orders whose whole allocation may be re-run (nothing is being picked yet)."""
REALLOCATABLE = frozenset({OrderStatus.CONFIRMED, OrderStatus.ON_HOLD, OrderStatus.ALLOCATED})
"""Orders a part of which may move to another warehouse (short pick, closed warehouse)."""


@dataclass(frozen=True, slots=True)
class LineToSource:
    """Units of an order line to source."""

    order_line_id: uuid.UUID
    line_no: int
    sku: str
    sku_id: uuid.UUID
    quantity: int


@dataclass
class Sourced:
    plan: Plan
    holds: list[Hold]
    plan_id: uuid.UUID | None = None


# --- inputs of the engine ---------------------------------------------------------------------------------------


async def destination_of(address: Mapping[str, Any] | None) -> Destination:
    """The address's coordinates when given, else the offline geocoder's (town, then country centre)."""
    if not address:
        return Destination()
    country, city = address.get("country"), address.get("city")
    place = ", ".join(str(p) for p in (city, country) if p)
    latitude, longitude = address.get("latitude"), address.get("longitude")
    if latitude is not None and longitude is not None:
        return Destination(country, float(latitude), float(longitude), "address", place or None)
    finder = geocoder()
    if not finder.loaded:
        await asyncio.to_thread(finder.warm_up)  # about a second, once per process: not on the event loop
    found = finder.locate(country, city)
    if found is None:
        return Destination(country, place=place or None)
    return Destination(country, found.latitude, found.longitude, found.precision, found.place)


def policy_of(
    channel: Channel,
    settings: Settings,
    *,
    exclude: Iterable[uuid.UUID] = (),
    kept: Iterable[uuid.UUID] = (),
    pickup: uuid.UUID | None = None,
) -> Policy:
    """The channel's sourcing policy for one run (``max_splits`` + 1 warehouses; one if partial shipping is off)."""
    sourcing = channel.sourcing
    splits = sourcing.get("max_splits")
    most = settings.max_split_warehouses if splits is None else int(splits) + 1
    if not sourcing.get("allow_partial_shipment", True):
        most = 1
    return Policy(
        strategy=Strategy(sourcing.get("strategy") or Strategy.NEAREST),
        allowed_warehouses=frozenset(sourcing.get("allowed_warehouses") or ()),
        max_warehouses=most,
        excluded=frozenset(exclude),
        kept=frozenset(kept),
        pickup=pickup,
    )


def _picture(
    levels: Sequence[stock_sourcing.SourcingLevel],
) -> tuple[list[Site], list[Holding], dict[tuple[uuid.UUID, uuid.UUID], stock_sourcing.SourcingLevel]]:
    sites: dict[uuid.UUID, Site] = {}
    holdings = []
    by_place = {}
    for level in levels:
        if level.warehouse_id not in sites:
            sites[level.warehouse_id] = Site(
                level.warehouse_id,
                level.warehouse_code,
                level.priority,
                level.active,
                level.latitude,
                level.longitude,
                frozenset(level.serves_countries),
            )
        holdings.append(Holding(level.sku_id, level.warehouse_id, level.available, level.safety_stock))
        by_place[(level.sku_id, level.warehouse_id)] = level
    return list(sites.values()), holdings, by_place


# --- sourcing and reserving -------------------------------------------------------------------------------------


async def source_and_reserve(
    session: AsyncSession,
    actor: str,
    order: OrderRow,
    lines: Sequence[LineToSource],
    *,
    channel: Channel,
    settings: Settings,
    trigger: str,
    exclude: Iterable[uuid.UUID] = (),
    kept: Iterable[uuid.UUID] = (),
    reason: str | None = None,
    explain_lines: Sequence[LineToSource] | None = None,
    unchanged: Mapping[int, list[dict[str, Any]]] | None = None,
    locked: Sequence[stock_sourcing.SourcingLevel] | None = None,
) -> Sourced:
    """Plan ``lines`` with the engine and reserve the plan, all or nothing; an incomplete plan reserves nothing.

    A successful run is stored with its explanation. When only part of an order is sourced (re-allocation),
    ``explain_lines`` are all its lines and ``unchanged`` the parts that stay, so the stored plan shows it whole.
    ``locked``: every level of the lines' SKUs, already row-locked by the caller in this transaction
    (``stock.sourcing.lock_levels_by_code``); the first plan is made on them instead of reading them again.
    """
    merged: dict[int, LineToSource] = {}
    for line in lines:  # a line moved away from two warehouses is sourced as one request
        known = merged.get(line.line_no)
        merged[line.line_no] = (
            line
            if known is None
            else LineToSource(line.order_line_id, line.line_no, line.sku, line.sku_id, known.quantity + line.quantity)
        )
    requests = [LineRequest(n, line.sku_id, line.quantity) for n, line in sorted(merged.items())]
    labels = {line.sku_id: line.sku for line in merged.values()}
    destination = await destination_of(order.shipping_address)
    policy = policy_of(channel, settings, exclude=exclude, kept=kept, pickup=order.pickup_warehouse_id)
    plan = Plan((), ())
    for attempt in range(REPLAN_ATTEMPTS):
        if attempt == 0 and locked is not None:
            levels = list(locked)
        else:
            levels = await stock_sourcing.load_levels(session, labels, lock=True)
        sites, holdings, by_place = _picture(levels)
        plan = domain.source(requests, sites, holdings, destination, policy, labels=labels)
        if not plan.complete:
            return Sourced(plan, [])
        holds = [
            Hold(
                order_line_id=merged[a.line_no].order_line_id,
                level_id=by_place[(a.sku_id, a.warehouse_id)].level_id,
                sku_id=a.sku_id,
                sku=labels[a.sku_id],
                warehouse_id=a.warehouse_id,
                warehouse=by_place[(a.sku_id, a.warehouse_id)].warehouse_code,
                quantity=a.quantity,
            )
            for a in plan.allocations
        ]
        short = await reservations.reserve(
            session,
            holds,
            order_id=order.id,
            reference=f"order:{order.id}",
            actor=actor,
            lock=[level.level_id for level in levels],
        )
        if not short:
            every_line = explain_lines or list(merged.values())
            plan_id = await _record(session, order.id, trigger, plan, every_line, actor, reason, unchanged)
            return Sourced(plan, holds, plan_id)
    # A stock level appeared under us at every attempt: say what the last figures lacked.
    shortages = plan.shortages or tuple(domain.Shortage(r.sku_id, r.quantity, 0) for r in requests)
    return Sourced(Plan((), shortages, plan.explanation), [])


def out_of_stock(plan: Plan, codes: Mapping[uuid.UUID, str]) -> Conflict:
    """409 ``out_of_stock`` naming each short SKU (the placement refusal's shape), with the engine's summary."""
    short = [
        {"sku": codes.get(s.sku_id, str(s.sku_id)), "requested": s.requested, "available": s.available}
        for s in plan.shortages
    ]
    listing = ", ".join(f"{s['sku']} ({s['available']} of {s['requested']})" for s in short)
    summary = plan.explanation.summary if plan.explanation else None
    return Conflict(
        f"Not enough stock for: {listing}", code="out_of_stock", title="Out of stock", shortages=short, sourcing=summary
    )


# --- explanations -----------------------------------------------------------------------------------------------


def _distance(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _document(
    plan: Plan,
    lines: Sequence[LineToSource],
    unchanged: Mapping[int, list[dict[str, Any]]] | None = None,
    prefix: str | None = None,
) -> dict[str, Any]:
    """The stored (JSON) explanation: the engine's with SKU codes, every line of the order and, for a
    re-allocation, the parts that did not move (rule ``unchanged``)."""
    explanation = plan.explanation
    assert explanation is not None
    sourced: dict[int, list[dict[str, Any]]] = {}
    for line in explanation.lines:
        sourced[line.line_no] = [
            {
                "warehouse": p.code,
                "warehouse_id": str(p.warehouse_id),
                "quantity": p.quantity,
                "distance_km": _distance(p.distance_km),
                "rule": p.rule,
            }
            for p in line.parts
        ]
    out_lines: list[dict[str, Any]] = [
        {
            "line_no": line.line_no,
            "sku": line.sku,
            "quantity": line.quantity,
            "allocations": [*(unchanged or {}).get(line.line_no, []), *sourced.get(line.line_no, [])],
        }
        for line in sorted(lines, key=lambda item: item.line_no)
    ]
    shipments = len({p["warehouse_id"] for line in out_lines for p in line["allocations"]})
    dest = explanation.destination
    return {
        "strategy": explanation.strategy,
        "rules": list(explanation.rules),
        "decision": explanation.decision,
        "summary": f"{prefix}; {explanation.summary.replace(' every line', ' them', 1)}"
        if prefix
        else explanation.summary,
        "shipments": shipments,
        "destination": {
            "country": dest.country,
            "latitude": dest.latitude,
            "longitude": dest.longitude,
            "precision": dest.precision,
            "place": dest.place,
        },
        "lines": out_lines,
        "warehouses": [
            {
                "warehouse": v.code,
                "warehouse_id": str(v.warehouse_id),
                "status": v.status,
                "reason": v.reason,
                "detail": v.detail,
                "priority": v.priority,
                "distance_km": _distance(v.distance_km),
            }
            for v in explanation.warehouses
        ],
        "notes": list(explanation.notes),
    }


def _unchanged(
    previous: Mapping[str, Any] | None,
    left: Mapping[tuple[int, uuid.UUID], int],
    codes: Mapping[uuid.UUID, str],
) -> dict[int, list[dict[str, Any]]]:
    """The parts a re-allocation leaves in place, with the distance the plan before them knew."""
    distances: dict[tuple[int, str], float | None] = {}
    before: list[dict[str, Any]] = list((previous or {}).get("lines") or [])
    for line in before:
        for part in line.get("allocations", []):
            distances[(line["line_no"], part["warehouse_id"])] = part.get("distance_km")
    parts: dict[int, list[dict[str, Any]]] = {}
    for (line_no, wid), quantity in sorted(left.items(), key=lambda item: (item[0][0], codes.get(item[0][1], ""))):
        if quantity > 0:
            parts.setdefault(line_no, []).append(
                {
                    "warehouse": codes.get(wid, str(wid)),
                    "warehouse_id": str(wid),
                    "quantity": quantity,
                    "distance_km": distances.get((line_no, str(wid))),
                    "rule": "unchanged",
                }
            )
    return parts


async def _record(
    session: AsyncSession,
    order_id: uuid.UUID,
    trigger: str,
    plan: Plan,
    lines: Sequence[LineToSource],
    actor: str,
    reason: str | None,
    unchanged: Mapping[int, list[dict[str, Any]]] | None = None,
) -> uuid.UUID:
    prefix = None
    if unchanged is not None and plan.explanation is not None:  # a re-allocation: say what moved first
        away = ", ".join(v.code for v in plan.explanation.warehouses if v.reason == "excluded")
        moved = sum(a.quantity for a in plan.allocations)
        prefix = f"{moved} unit(s) moved away from {away}" + (f" ({reason})" if reason else "")
    document = _document(plan, lines, unchanged, prefix)
    plan_id = uuid7()
    await repository.insert_plan(
        session,
        {
            "id": plan_id,
            "order_id": order_id,
            "trigger": trigger,
            "strategy": document["strategy"],
            "decision": document["decision"],
            "shipments": document["shipments"],
            "explanation": document,
            "reason": reason,
            "actor": actor,
            "created_at": utcnow(),
        },
    )
    return plan_id


async def get_allocation(session: AsyncSession, order_id: uuid.UUID) -> AllocationExplanation:
    """The order's last sourcing run (404 ``order_not_found``, or ``allocation_not_found`` if it never ran)."""
    row = await repository.latest_plan(session, order_id)
    if row is None:
        await orders.get_order(session, order_id)  # 404 order_not_found if there is no such order
        raise NotFound(f"Order {order_id} has no sourcing plan (it was never allocated)", code="allocation_not_found")
    return AllocationExplanation.model_validate(
        {
            **row.explanation,
            "id": row.id,
            "order_id": row.order_id,
            "trigger": row.trigger,
            "reason": row.reason,
            "actor": row.actor,
            "created_at": row.created_at,
        }
    )


# --- allocate and reallocate ------------------------------------------------------------------------------------


def _lines_of(view: Order) -> list[LineToSource]:
    missing = [line.line_no for line in view.lines if line.sku_id is None]
    if missing:
        raise Conflict(
            f"Lines {missing} name SKUs the catalogue does not know: the order cannot be sourced",
            code="order_not_allocatable",
            current_status=view.status,
        )
    return [
        LineToSource(line.id, line.line_no, line.sku, line.sku_id, line.quantity)
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
            warehouse = await warehouses.get_warehouse(session, str(ref))
        except NotFound:
            problems.append(
                ProblemError(pointer=f"{pointer}/{i}", detail=f"no warehouse {ref!r}", code="unknown_warehouse")
            )
            continue
        found[warehouse.id] = warehouse.code
    if problems:
        raise ValidationFailed(problems)
    return found


def _check_status(order: OrderRow, allowed: frozenset[OrderStatus], action: str) -> None:
    if OrderStatus(order.status) not in allowed:
        raise Conflict(
            f"An order that is {order.status} cannot be {action}",
            code="order_not_allocatable",
            current_status=order.status,
            allowed_statuses=sorted(s.value for s in allowed),
        )


async def _changed(
    session: AsyncSession,
    actor: Principal,
    order: OrderRow,
    sourced: Sourced,
    trigger: str,
    reason: str | None,
    released: list[dict[str, Any]],
) -> None:
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    view = await orders.view_of(session, order)
    assert sourced.plan_id is not None
    assert sourced.plan.explanation is not None
    outbox.record(
        session,
        "order.allocation_changed",
        "order",
        order.id,
        {
            "order_id": str(order.id),
            "external_ref": order.external_ref,
            "order_status": order.status,
            "trigger": trigger,
            "reason": reason,
            "plan_id": str(sourced.plan_id),
            "decision": sourced.plan.explanation.decision,
            "shipments": len({a["warehouse_id"] for a in _active(view)}),
            "released": released,
            "allocations": _active(view),
            "version": order.version,
        },
        actor=actor.actor,
        reason=reason,
    )


async def allocate_order(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    *,
    exclude_warehouses: Iterable[uuid.UUID | str] = (),
    reason: str | None = None,
    settings: Settings | None = None,
) -> Plan:
    """Re-run sourcing for a confirmed or held order: release its stock and reserve the new plan, all or nothing.

    409 ``order_not_allocatable`` for other statuses, 409 ``out_of_stock`` (nothing changed) when the new plan
    cannot cover every line; 422 ``unknown_warehouse`` for an unknown excluded warehouse.
    """
    settings = settings or get_settings()
    order = await orders.lock_order(session, order_id)
    _check_status(order, ALLOCATABLE, "allocated")
    excluded = await _warehouse_ids(session, exclude_warehouses, "/body/exclude_warehouses")
    before = await orders.view_of(session, order)
    lines = _lines_of(before)
    channel = await channels.get_channel(session, str(order.channel_id))
    # Lock every level the run may touch before releasing (id order, like every other stock writer).
    await stock_sourcing.load_levels(session, {line.sku_id for line in lines}, lock=True)
    await reservations.release_for_order(
        session, order.id, reference=f"order:{order.id}", actor=actor.actor, reason=reason or "re-allocation"
    )
    sourced = await source_and_reserve(
        session,
        actor.actor,
        order,
        lines,
        channel=channel,
        settings=settings,
        trigger="allocate",
        exclude=excluded,
        reason=reason,
    )
    if not sourced.plan.complete:
        raise out_of_stock(sourced.plan, {line.sku_id: line.sku for line in lines})
    await _changed(session, actor, order, sourced, "allocate", reason, _active(before))
    return sourced.plan


@dataclass(frozen=True, slots=True)
class Move:
    """Units of an order line to move away from a warehouse."""

    line_no: int
    warehouse: uuid.UUID | str
    quantity: int


async def reallocate(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    moves: Sequence[Move],
    reason: str,
    *,
    settings: Settings | None = None,
) -> Plan:
    """Move part of an order to other warehouses: release it where it cannot ship, source it elsewhere.

    The warehouses moved away from are excluded; warehouses already shipping the rest of the order come
    first (no new shipment). All or nothing: 409 ``out_of_stock`` changes nothing.
    """
    settings = settings or get_settings()
    order = await orders.lock_order(session, order_id)
    _check_status(order, REALLOCATABLE, "re-allocated")
    before = await orders.view_of(session, order)
    lines = {line.line_no: line for line in _lines_of(before)}
    held: dict[tuple[int, uuid.UUID], int] = {}
    for order_line in before.lines:
        for a in order_line.allocations:
            if a.status == "active":
                key = (order_line.line_no, a.warehouse_id)
                held[key] = held.get(key, 0) + a.quantity
    problems: list[ProblemError] = []
    parts: list[stock_sourcing.PartRelease] = []
    moved: list[LineToSource] = []
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
            warehouse = await warehouses.get_warehouse(session, str(move.warehouse))
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
        parts.append(stock_sourcing.PartRelease(source.order_line_id, wid, move.quantity))
        moved.append(LineToSource(source.order_line_id, source.line_no, source.sku, source.sku_id, move.quantity))
    if problems:
        raise ValidationFailed(problems)
    excluded = {part.warehouse_id for part in parts}
    left = dict(held)
    for key, quantity in asked.items():
        left[key] -= quantity
    kept = {wid for (_, wid), quantity in left.items() if quantity > 0}
    channel = await channels.get_channel(session, str(order.channel_id))
    await stock_sourcing.load_levels(session, {line.sku_id for line in moved}, lock=True)
    await stock_sourcing.release_part(
        session, order.id, parts, reference=f"order:{order.id}", actor=actor.actor, reason=reason
    )
    codes = {a.warehouse_id: a.warehouse for line in before.lines for a in line.allocations}
    previous = await repository.latest_plan(session, order.id)
    sourced = await source_and_reserve(
        session,
        actor.actor,
        order,
        moved,
        channel=channel,
        settings=settings,
        trigger="reallocate",
        exclude=excluded,
        kept=kept,
        reason=reason,
        explain_lines=list(lines.values()),
        unchanged=_unchanged(previous.explanation if previous else None, left, codes),
    )
    if not sourced.plan.complete:
        raise out_of_stock(sourced.plan, {line.sku_id: line.sku for line in moved})
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


async def allocate_batch(
    session: AsyncSession,
    actor: Principal,
    order_ids: Sequence[uuid.UUID],
    *,
    reason: str | None = None,
    settings: Settings | None = None,
) -> BatchResult:
    """Source many confirmed or held orders against one stock picture: VIP-tagged orders first, then by
    placement time, each consuming what it takes (their current reservations count as free for the batch).

    An order the batch cannot source keeps its current reservations and is reported in ``unchanged``
    (so are orders whose new plan is what they already hold, and orders in other statuses or with unknown
    SKUs); the others are released and reserved anew.
    A dozen statements whatever the batch size: orders, lines, levels and reservations are read in bulk,
    levels row-locked in id order, and the changes written in bulk.
    """
    settings = settings or get_settings()
    rows = await repository.orders_to_source(session, order_ids)
    unchanged: dict[uuid.UUID, str] = dict.fromkeys(set(order_ids) - {r.id for r in rows}, "order_not_found")
    todo = []
    for row in rows:
        if OrderStatus(row.status) not in ALLOCATABLE:
            unchanged[row.id] = "order_not_allocatable"
        elif any(line.sku_id is None for line in row.lines) or not row.lines:
            unchanged[row.id] = "unknown_sku"
        else:
            todo.append(row)
    channel_of = {cid: await channels.channel_by_id(session, cid) for cid in {r.channel_id for r in todo}}
    places: dict[tuple[Any, ...], Destination] = {}
    batch: list[domain.BatchOrder] = []
    labels: dict[uuid.UUID, str] = {}
    for row in todo:
        address = row.shipping_address or {}
        key = tuple(address.get(k) for k in ("country", "city", "latitude", "longitude"))
        if key not in places:
            places[key] = await destination_of(address)
        for line in row.lines:
            labels[line.sku_id] = line.sku
        batch.append(
            domain.BatchOrder(
                key=row.id,
                lines=[LineRequest(line.line_no, line.sku_id, line.quantity) for line in row.lines],
                destination=places[key],
                policy=policy_of(channel_of[row.channel_id], settings, pickup=row.pickup_warehouse_id),
                vip="vip" in row.tags,
                placed_at=row.placed_at,
                labels=labels,
            )
        )
    levels = await stock_sourcing.load_levels(session, labels, lock=True)
    held = await stock_sourcing.active_reservations(session, [row.id for row in todo])
    sites, holdings, by_place = _picture(levels)
    freed: dict[uuid.UUID, dict[tuple[uuid.UUID, uuid.UUID], int]] = {}
    for r in held:
        per = freed.setdefault(r.order_id, {})
        per[(r.sku_id, r.warehouse_id)] = per.get((r.sku_id, r.warehouse_id), 0) + r.quantity
    failed: set[uuid.UUID] = set()
    while True:  # an order that fails keeps its stock, which may fail others: repeat until stable
        back: dict[tuple[uuid.UUID, uuid.UUID], int] = {}
        for oid, per in freed.items():
            if oid not in failed:
                for place, quantity in per.items():
                    back[place] = back.get(place, 0) + quantity
        picture = [
            Holding(h.sku_id, h.warehouse_id, h.available + back.get((h.sku_id, h.warehouse_id), 0), h.safety_stock)
            for h in holdings
        ]
        plans = domain.plan_batch([o for o in batch if o.key not in failed], sites, picture)
        newly = {uuid.UUID(str(k)) for k, p in plans.items() if not p.complete}
        if not newly:
            break
        failed |= newly
    for oid in failed:
        unchanged[oid] = "out_of_stock"
    done = {uuid.UUID(str(k)): p for k, p in plans.items()}
    lines_of = {row.id: {line.line_no: line for line in row.lines} for row in todo}
    current: dict[uuid.UUID, dict[tuple[uuid.UUID | None, uuid.UUID], int]] = {}
    for r in held:
        per_line = current.setdefault(r.order_id, {})
        per_line[(r.order_line_id, r.warehouse_id)] = per_line.get((r.order_line_id, r.warehouse_id), 0) + r.quantity
    for oid, plan in list(done.items()):
        planned: dict[tuple[uuid.UUID | None, uuid.UUID], int] = {}
        for a in plan.allocations:
            key = (lines_of[oid][a.line_no].id, a.warehouse_id)
            planned[key] = planned.get(key, 0) + a.quantity
        if planned == current.get(oid):  # the order already holds exactly this: nothing to write
            del done[oid]
            unchanged[oid] = "same_allocation"
    new_holds = [
        (
            oid,
            Hold(
                order_line_id=lines_of[oid][a.line_no].id,
                level_id=by_place[(a.sku_id, a.warehouse_id)].level_id,
                sku_id=a.sku_id,
                sku=labels[a.sku_id],
                warehouse_id=a.warehouse_id,
                warehouse=by_place[(a.sku_id, a.warehouse_id)].warehouse_code,
                quantity=a.quantity,
            ),
        )
        for oid, plan in done.items()
        for a in plan.allocations
    ]
    events = await stock_sourcing.release_reservations(
        session, [r for r in held if r.order_id in done], actor=actor.actor, reason=reason or "batch re-allocation"
    )
    events += await stock_sourcing.reserve_for_orders(session, new_holds, actor=actor.actor)
    now = utcnow()
    plan_rows = []
    by_order = {row.id: row for row in todo}
    for oid, plan in done.items():
        row = by_order[oid]
        every = [LineToSource(line.id, line.line_no, line.sku, line.sku_id, line.quantity) for line in row.lines]
        document = _document(plan, every)
        plan_id = uuid7()
        plan_rows.append(
            {
                "id": plan_id,
                "order_id": oid,
                "trigger": "allocate",
                "strategy": document["strategy"],
                "decision": document["decision"],
                "shipments": document["shipments"],
                "explanation": document,
                "reason": reason,
                "actor": actor.actor,
                "created_at": now,
            }
        )
        line_nos = {line.id: line.line_no for line in row.lines}
        released = [
            {
                "line_no": line_nos.get(r.order_line_id) if r.order_line_id else None,
                "sku": r.sku,
                "warehouse": r.warehouse,
                "warehouse_id": str(r.warehouse_id),
                "quantity": r.quantity,
            }
            for r in held
            if r.order_id == oid
        ]
        events.append(
            {
                "id": uuid7(),
                "type": "order.allocation_changed",
                "aggregate_type": "order",
                "aggregate_id": oid,
                "actor": actor.actor,
                "reason": reason,
                "occurred_at": now,
                "data": {
                    "order_id": str(oid),
                    "external_ref": row.external_ref,
                    "order_status": row.status,
                    "trigger": "allocate",
                    "reason": reason,
                    "plan_id": str(plan_id),
                    "decision": document["decision"],
                    "shipments": document["shipments"],
                    "released": released,
                    "allocations": [
                        {
                            "line_no": line["line_no"],
                            "sku": line["sku"],
                            "warehouse": part["warehouse"],
                            "warehouse_id": part["warehouse_id"],
                            "quantity": part["quantity"],
                        }
                        for line in document["lines"]
                        for part in line["allocations"]
                    ],
                    "version": row.version + 1,
                },
            }
        )
    await repository.insert_plans(session, plan_rows)
    await repository.insert_events(session, events)
    await repository.bump_versions(session, list(done), now)
    return BatchResult(done, unchanged)
