"""Cart holds: stock reserved for a cart until checkout, expiry or abandonment.

A hold is a reservation with ``cart_id`` and ``expires_at`` set. It raises ``reserved`` through the ledger
exactly as an order's reservation does, so holds count against availability everywhere without any reader
knowing about carts. Where the units are held is planned by the allocation context, with the channel's
sourcing policy, as for orders. A cart holds each SKU at a warehouse in one reservation row, which grows and
shrinks with the cart. At checkout the rows are handed to the order (``convert``): the stock never goes back
to the pool in between, so no other buyer can take it.

Ledger rows: ``hold`` (more units held) and ``hold_release`` (units given back), both with ``reference``
``cart:<id>`` and the cart id as ``group_id``; each emits ``stock.changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.stock import ledger
from oms_api.stock import reservations_repository as repository
from oms_api.stock.domain import Change, Held, Hold, StockOutOfStep, units_per_level

HOLD = "hold"
HOLD_RELEASE = "hold_release"


def reference(cart_id: uuid.UUID) -> str:
    return f"cart:{cart_id}"


async def holds_of(session: AsyncSession, cart_ids: Sequence[uuid.UUID]) -> list[Held]:
    """The active holds of the given carts, oldest first."""
    return await repository.holds_of(session, cart_ids)


async def hold(
    session: AsyncSession,
    holds: Sequence[Hold],
    *,
    cart_id: uuid.UUID,
    expires_at: datetime,
    held: Sequence[Held],
    actor: str,
    lock: Iterable[uuid.UUID] = (),
) -> bool:
    """Hold every planned unit or none; False (nothing written) when a level fell short (re-plan).

    ``held`` are the cart's current holds, which grow in place when the plan picks a warehouse the cart already
    holds the SKU at; ``lock`` names the other levels the caller may fall back on (see ``ledger.apply``).
    """
    per_level = units_per_level((h.ref, h.quantity) for h in holds).values()
    changes = [
        Change(ref, HOLD, reserved=quantity, reference=reference(cart_id), group_id=cart_id)
        for ref, quantity in per_level
    ]
    if not (await ledger.apply(session, changes, actor=actor, lock=lock)).ok:
        return False
    existing = {(h.sku_id, h.warehouse_id): h.reservation_id for h in held}
    grow: dict[uuid.UUID, int] = {}
    new: list[dict[str, object]] = []
    now = utcnow()
    for ref, quantity in per_level:
        found = existing.get((ref.sku_id, ref.warehouse_id))
        if found is not None:
            grow[found] = grow.get(found, 0) + quantity
            continue
        new.append(
            {
                "id": uuid7(),
                "sku_id": ref.sku_id,
                "warehouse_id": ref.warehouse_id,
                "quantity": quantity,
                "order_id": None,
                "order_line_id": None,
                "cart_id": cart_id,
                "status": repository.ACTIVE,
                "expires_at": expires_at,
                "created_at": now,
            }
        )
    await repository.resize(session, grow)
    await repository.insert(session, new)
    return True


async def release(
    session: AsyncSession,
    cart_id: uuid.UUID,
    parts: Sequence[tuple[Held, int]],
    *,
    actor: str,
    reason: str,
) -> int:
    """Give back ``quantity`` units of each (hold, quantity) of one cart. Returns the units released.

    A hold given back whole becomes ``released``; a partly released one shrinks.
    """
    parts = [(h, qty) for h, qty in parts if qty > 0]
    if not parts:
        return 0
    for h, qty in parts:
        if h.cart_id != cart_id or qty > h.quantity:
            raise ValueError(f"cannot release {qty} of hold {h.reservation_id} for cart {cart_id}")
    changes = [
        Change(ref, HOLD_RELEASE, reserved=-qty, reference=reference(cart_id), group_id=cart_id, note=reason)
        for ref, qty in units_per_level((h.ref, qty) for h, qty in parts).values()
    ]
    if not (await ledger.apply(session, changes, actor=actor)).ok:  # the ledger and the levels disagree
        raise StockOutOfStep(f"stock levels of cart {cart_id} hold less than its holds")
    await repository.close(
        session, [h.reservation_id for h, qty in parts if qty == h.quantity], repository.RELEASED, utcnow()
    )
    await repository.resize(session, {h.reservation_id: -qty for h, qty in parts if qty < h.quantity})
    return sum(qty for _, qty in parts)


async def extend(session: AsyncSession, cart_id: uuid.UUID, expires_at: datetime) -> None:
    """Move the expiry of the cart's active holds (they always expire with their cart)."""
    await repository.extend_holds(session, cart_id, expires_at)


async def convert(
    session: AsyncSession,
    cart_id: uuid.UUID,
    held: Sequence[Held],
    *,
    order_id: uuid.UUID,
    line_of_sku: dict[uuid.UUID, uuid.UUID],
) -> list[Hold]:
    """Hand the cart's holds to an order, in place: ``reserved`` never moves, so no one can take the stock.

    ``held`` are the cart's active holds (read under the cart's lock); ``line_of_sku`` maps each SKU to the order
    line that takes its holds. Returns the order's reservations, as placement's would be.
    """
    if not held:
        return []
    moved = await repository.hand_to_order(session, cart_id, [h.reservation_id for h in held], order_id, line_of_sku)
    if moved != len(held):
        raise StockOutOfStep(f"the holds of cart {cart_id} changed while it was checked out")
    return [
        Hold(line_of_sku[h.sku_id], h.level_id, h.sku_id, h.sku, h.warehouse_id, h.warehouse, h.quantity) for h in held
    ]
