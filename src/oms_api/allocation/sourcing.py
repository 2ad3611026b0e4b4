"""Sourcing: plan where an order's (or a cart's) units come from with the engine, and reserve that plan.

Every run reads the stock levels of the SKUs row-locked in id order (``stock.service.load_levels``), so the
plan is made on figures no concurrent order can change before it is reserved: the safety stock is kept, and a
reservation never falls short of its plan unless a stock level appeared in between (then the run re-plans).
An order's successful run is stored with its explanation in ``allocation_plans``; the newest one is what
``GET /v1/orders/{id}/allocation`` shows. Carts are sourced with the same engine and the same channel policy,
and hold what the plan says; their runs are not stored.

This context knows orders only as the values the orders context hands it (ids, address, lines, the channel's
sourcing policy): it never reads or writes their tables.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain, repository
from oms_api.allocation.domain import Destination, Holding, LineRequest, LineToSource, Plan, Policy, Site, Strategy
from oms_api.allocation.geo import geocoder
from oms_api.allocation.schemas import AllocationExplanation
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict
from oms_api.kit.ids import uuid7
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import Held, Hold, LevelFacts

REPLAN_ATTEMPTS = 3


@dataclass
class Sourced:
    plan: Plan
    holds: list[Hold]
    plan_id: uuid.UUID | None = None


def warm_up() -> None:
    """Build the geocoder's index now (about a second; call it from a thread at start-up)."""
    geocoder().warm_up()


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
    sourcing: Mapping[str, Any],
    settings: Settings,
    *,
    exclude: Iterable[uuid.UUID] = (),
    kept: Iterable[uuid.UUID] = (),
    pickup: uuid.UUID | None = None,
) -> Policy:
    """A channel's sourcing policy (its ``sourcing`` settings) for one run: ``max_splits`` + 1 warehouses, one
    if partial shipping is off."""
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


def picture(
    levels: Sequence[LevelFacts],
) -> tuple[list[Site], list[Holding], dict[tuple[uuid.UUID, uuid.UUID], LevelFacts]]:
    """The engine's view of some stock levels: the warehouses, what each holds, and each level by (SKU, warehouse)."""
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

Reserve = Callable[[list[Hold], list[uuid.UUID]], Awaitable[bool]]
"""Reserves planned holds all or nothing (False: a level fell short); the second argument is every level read."""


async def _source(
    session: AsyncSession,
    requests: Sequence[LineRequest],
    labels: Mapping[uuid.UUID, str],
    line_ids: Mapping[int, uuid.UUID | None],
    destination: Destination,
    policy: Policy,
    reserve: Reserve,
    locked: Sequence[LevelFacts] | None,
) -> tuple[Plan, list[Hold]]:
    """Plan the requests on levels read under lock and reserve the plan; re-plan on fresh figures when a level
    fell short (one appeared in between). An incomplete plan reserves nothing. ``labels``: SKU codes by id;
    ``line_ids``: the order line each request is for (None for a cart)."""
    plan = Plan((), ())
    for attempt in range(REPLAN_ATTEMPTS):
        if attempt == 0 and locked is not None:
            levels = list(locked)
        else:
            levels = await stock.load_levels(session, labels, lock=True)
        sites, holdings, by_place = picture(levels)
        plan = domain.source(requests, sites, holdings, destination, policy, labels=labels)
        if not plan.complete:
            return plan, []
        holds = [
            Hold(
                line_ids[a.line_no],
                by_place[(a.sku_id, a.warehouse_id)].level_id,
                a.sku_id,
                labels[a.sku_id],
                a.warehouse_id,
                by_place[(a.sku_id, a.warehouse_id)].warehouse_code,
                a.quantity,
            )
            for a in plan.allocations
        ]
        if await reserve(holds, [level.level_id for level in levels]):
            return plan, holds
    # A stock level appeared under us at every attempt: say what the last figures lacked.
    shortages = plan.shortages or tuple(domain.Shortage(r.sku_id, r.quantity, 0) for r in requests)
    return Plan((), shortages, plan.explanation), []


def _merged(lines: Sequence[LineToSource]) -> list[LineToSource]:
    """A line moved away from two warehouses is sourced as one request."""
    merged: dict[int, LineToSource] = {}
    for line in lines:
        known = merged.get(line.line_no)
        merged[line.line_no] = (
            line
            if known is None
            else LineToSource(line.order_line_id, line.line_no, line.sku, line.sku_id, known.quantity + line.quantity)
        )
    return [merged[n] for n in sorted(merged)]


async def source_and_reserve(
    session: AsyncSession,
    actor: str,
    *,
    order_id: uuid.UUID,
    address: Mapping[str, Any] | None,
    policy: Policy,
    lines: Sequence[LineToSource],
    trigger: str,
    reason: str | None = None,
    explain_lines: Sequence[LineToSource] | None = None,
    unchanged: Mapping[int, list[dict[str, Any]]] | None = None,
    locked: Sequence[LevelFacts] | None = None,
) -> Sourced:
    """Plan an order's ``lines`` with the engine and reserve the plan, all or nothing; an incomplete plan reserves
    nothing. A successful run is stored with its explanation.

    When only part of an order is sourced (re-allocation), ``explain_lines`` are all its lines and ``unchanged``
    the parts that stay, so the stored plan shows it whole. ``locked``: every level of the lines' SKUs, already
    row-locked by the caller in this transaction; the first plan is made on them instead of reading them again.
    """
    merged = _merged(lines)

    async def reserve(holds: list[Hold], every_level: list[uuid.UUID]) -> bool:
        return await stock.reserve(session, holds, order_id=order_id, actor=actor, lock=every_level)

    requests = [LineRequest(line.line_no, line.sku_id, line.quantity) for line in merged]
    labels = {line.sku_id: line.sku for line in merged}
    line_ids: dict[int, uuid.UUID | None] = {line.line_no: line.order_line_id for line in merged}
    destination = await destination_of(address)
    plan, holds = await _source(session, requests, labels, line_ids, destination, policy, reserve, locked)
    if not plan.complete:
        return Sourced(plan, [])
    prefix = domain.reallocation_prefix(plan, reason) if unchanged is not None else None
    document = domain.document(plan, explain_lines or merged, unchanged, prefix)
    plan_id = uuid7()
    await record_plans(session, actor, [(plan_id, order_id, trigger, document)], reason)
    return Sourced(plan, holds, plan_id)


async def source_and_hold(
    session: AsyncSession,
    actor: str,
    *,
    cart_id: uuid.UUID,
    lines: Sequence[tuple[uuid.UUID, str, int]],
    policy: Policy,
    expires_at: datetime,
    held: Sequence[Held],
    locked: Sequence[LevelFacts] | None = None,
) -> tuple[domain.Shortage, ...]:
    """Source more units for a cart, ``(sku_id, sku, quantity)`` each, under its channel's policy, and hold them
    all or none; returns the shortages (empty on success). The cart has no address yet: distance and the
    destination country do not apply. ``locked``: the levels of those SKUs, already row-locked by the caller."""
    requests = [LineRequest(i, sku_id, quantity) for i, (sku_id, _, quantity) in enumerate(lines)]
    labels = {sku_id: sku for sku_id, sku, _ in lines}

    async def hold(holds: list[Hold], every_level: list[uuid.UUID]) -> bool:
        return await stock.hold(
            session, holds, cart_id=cart_id, expires_at=expires_at, held=held, actor=actor, lock=every_level
        )

    plan, _ = await _source(
        session, requests, labels, dict.fromkeys(range(len(lines))), Destination(), policy, hold, locked
    )
    return plan.shortages


def out_of_stock(
    shortages: Sequence[domain.Shortage],
    codes: Mapping[uuid.UUID, str],
    *,
    summary: str | None = None,
    requested: Mapping[uuid.UUID, int] | None = None,
    held: Mapping[uuid.UUID, int] | None = None,
) -> Conflict:
    """409 ``out_of_stock`` naming each short SKU with what is available, the one refusal placement, checkout,
    carts and re-allocation share. ``requested``/``held``: a cart says the line quantity asked for and counts
    what it holds already; ``summary`` is the engine's (re-allocation shows it as ``sourcing``)."""
    short = [
        {
            "sku": codes.get(s.sku_id, str(s.sku_id)),
            "requested": (requested or {}).get(s.sku_id, s.requested),
            "available": s.available + (held or {}).get(s.sku_id, 0),
        }
        for s in shortages
    ]
    listing = ", ".join(f"{s['sku']} ({s['available']} of {s['requested']})" for s in short)
    extra: dict[str, Any] = {"sourcing": summary} if summary is not None else {}
    return Conflict(
        f"Not enough stock for: {listing}", code="out_of_stock", title="Out of stock", shortages=short, **extra
    )


# --- stored plans -----------------------------------------------------------------------------------------------


async def record_plans(
    session: AsyncSession,
    actor: str,
    plans: Sequence[tuple[uuid.UUID, uuid.UUID, str, dict[str, Any]]],
    reason: str | None,
) -> None:
    """Store sourcing runs ``(plan_id, order_id, trigger, explanation document)`` in one statement."""
    now = utcnow()
    await repository.insert_plans(
        session,
        [
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
                "created_at": now,
            }
            for plan_id, order_id, trigger, document in plans
        ],
    )


async def latest_explanation(session: AsyncSession, order_id: uuid.UUID) -> dict[str, Any] | None:
    """The explanation document of the order's newest sourcing run, if it has one."""
    row = await repository.latest_plan(session, order_id)
    return row.explanation if row is not None else None


async def get_plan(session: AsyncSession, order_id: uuid.UUID) -> AllocationExplanation | None:
    """The order's last sourcing run, or None if it never ran."""
    row = await repository.latest_plan(session, order_id)
    if row is None:
        return None
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
