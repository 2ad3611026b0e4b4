"""Orders' reservations: reserve a sourcing plan all or nothing, release all or part of an order, and the same
for many orders at once (batch sourcing).

Quantities move through ``stock.ledger`` (one conditional UPDATE over levels locked in id order, so no
interleaving of any number of processes can oversell and concurrent orders cannot deadlock); this module
keeps the reservation rows in step. If some levels no longer have the stock (a concurrent order took it
between planning and reserving), nothing is reserved and the caller re-plans on fresh figures.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock import ledger
from oms_api.stock import reservations_repository as repository
from oms_api.stock.domain import (
    ActiveReservation,
    Change,
    Hold,
    LevelRef,
    PartRelease,
    StockOutOfStep,
    units_per_level,
)

RESERVATION, RELEASE = "reservation", "release"


def order_reference(order_id: uuid.UUID) -> str:
    return f"order:{order_id}"


def _row(order_id: uuid.UUID, hold: Hold, now: object) -> dict[str, object]:
    return {
        "id": uuid7(),
        "sku_id": hold.sku_id,
        "warehouse_id": hold.warehouse_id,
        "quantity": hold.quantity,
        "order_id": order_id,
        "order_line_id": hold.order_line_id,
        "status": repository.ACTIVE,
        "created_at": now,
    }


async def reserve(
    session: AsyncSession,
    holds: Sequence[Hold],
    *,
    order_id: uuid.UUID,
    actor: str,
    lock: Iterable[uuid.UUID] = (),
) -> bool:
    """Reserve every hold or none; False (nothing written) when some level fell short.

    ``lock`` names every level the caller might fall back on (all candidates of the order's SKUs): they are
    locked too, in the same id order, so that a re-plan after a shortfall needs no new lock (no deadlock) and
    reads figures no one else can change until this transaction ends.
    """
    reference = order_reference(order_id)
    changes = [
        Change(ref, RESERVATION, reserved=quantity, reference=reference, group_id=order_id)
        for ref, quantity in units_per_level((h.ref, h.quantity) for h in holds).values()
    ]
    applied = await ledger.apply(session, changes, actor=actor, lock=lock)
    if not applied.ok:
        return False
    now = utcnow()
    await repository.insert(session, [_row(order_id, h, now) for h in holds])
    return True


async def _release(
    session: AsyncSession, order_id: uuid.UUID, parts: Sequence[tuple[LevelRef, int]], actor: str, note: str | None
) -> int:
    changes = [
        Change(ref, RELEASE, reserved=-quantity, reference=order_reference(order_id), group_id=order_id, note=note)
        for ref, quantity in units_per_level(parts).values()
    ]
    if not (await ledger.apply(session, changes, actor=actor)).ok:  # the ledger and the levels disagree
        raise StockOutOfStep(f"stock levels of order {order_id} hold less than its reservations")
    return sum(quantity for _, quantity in parts)


async def release_for_order(
    session: AsyncSession, order_id: uuid.UUID, *, actor: str, reason: str | None = None
) -> int:
    """Release the order's active reservations (cancellation, re-sourcing). Returns how many units went back."""
    held = await repository.active_of_orders(session, [order_id])
    if not held:
        return 0
    released = await _release(session, order_id, [(r.ref, r.quantity) for r in held], actor, reason)
    await repository.close(session, [r.reservation_id for r in held], repository.RELEASED, utcnow())
    return released


async def release_part(
    session: AsyncSession,
    order_id: uuid.UUID,
    parts: Sequence[PartRelease],
    *,
    actor: str,
    reason: str | None = None,
) -> int:
    """Release part of an order's reservations, newest first; a partly released reservation is replaced by one
    for the rest. Raises ``ValueError`` when a line holds fewer active units at the warehouse than asked."""
    wanted: dict[tuple[uuid.UUID | None, uuid.UUID], int] = defaultdict(int)
    for part in parts:
        wanted[(part.order_line_id, part.warehouse_id)] += part.quantity
    given: list[tuple[LevelRef, int]] = []
    closed: list[uuid.UUID] = []
    rest: list[Hold] = []
    for r in await repository.active_of_orders(session, [order_id], newest_first=True):  # oldest stay
        key = (r.order_line_id, r.warehouse_id)
        take = min(wanted.get(key, 0), r.quantity)
        if take <= 0:
            continue
        wanted[key] -= take
        given.append((r.ref, take))
        closed.append(r.reservation_id)
        if take < r.quantity:
            rest.append(
                Hold(r.order_line_id, r.level_id, r.sku_id, r.sku, r.warehouse_id, r.warehouse, r.quantity - take)
            )
    if any(left > 0 for left in wanted.values()):
        raise ValueError("an order line holds fewer units at the warehouse than asked to release")
    if not given:
        return 0
    released = await _release(session, order_id, given, actor, reason)
    now = utcnow()
    await repository.close(session, closed, repository.RELEASED, now)
    await repository.insert(session, [_row(order_id, h, now) for h in rest])
    return released


# --- many orders at once (batch sourcing) -----------------------------------------------------------------------


async def active_of_orders(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[ActiveReservation]:
    return await repository.active_of_orders(session, order_ids)


async def release_reservations(
    session: AsyncSession, held: Sequence[ActiveReservation], *, actor: str, reason: str | None = None
) -> None:
    """Release these active reservations of any number of orders in a handful of statements.

    The caller holds the levels' locks (it read them with ``lock=True``): a shortfall is impossible.
    """
    per_order: dict[uuid.UUID, list[tuple[LevelRef, int]]] = defaultdict(list)
    for r in held:
        per_order[r.order_id].append((r.ref, r.quantity))
    changes = [
        Change(ref, RELEASE, reserved=-quantity, reference=order_reference(oid), group_id=oid, note=reason)
        for oid, parts in per_order.items()
        for ref, quantity in units_per_level(parts).values()
    ]
    if not (await ledger.apply(session, changes, actor=actor)).ok:
        raise StockOutOfStep("stock levels changed under a batch that held their locks")
    await repository.close(session, [r.reservation_id for r in held], repository.RELEASED, utcnow())


async def reserve_for_orders(session: AsyncSession, holds: Sequence[tuple[uuid.UUID, Hold]], *, actor: str) -> None:
    """Reserve the holds of many orders (``(order_id, hold)``) at once.

    The levels must be locked by the caller and the holds planned on those figures: a shortfall is then
    impossible, and raises rather than reserving part of the batch.
    """
    per_order: dict[uuid.UUID, list[tuple[LevelRef, int]]] = defaultdict(list)
    for oid, h in holds:
        per_order[oid].append((h.ref, h.quantity))
    changes = [
        Change(ref, RESERVATION, reserved=quantity, reference=order_reference(oid), group_id=oid)
        for oid, parts in per_order.items()
        for ref, quantity in units_per_level(parts).values()
    ]
    if not (await ledger.apply(session, changes, actor=actor)).ok:
        raise StockOutOfStep("stock levels changed under a batch that held their locks")
    now = utcnow()
    await repository.insert(session, [_row(oid, h, now) for oid, h in holds])
