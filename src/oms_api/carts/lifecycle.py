"""A cart after it was made: extend, abandon, expire, and the cart's side of checkout (``checkout`` makes the order).

Every change first locks the cart row, so one cart's holds are only ever changed by one transaction at a time
(a change, a checkout or the expiry job).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carts import domain, reading, repository
from oms_api.carts.domain import CartStatus
from oms_api.carts.models import Cart as CartRow
from oms_api.carts.models import CartLine as LineRow
from oms_api.carts.schemas import Cart, CartExtend
from oms_api.channels import service as channels
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict
from oms_api.kit.etags import check_if_match
from oms_api.stock import service as stock
from oms_api.stock.service import Held

EXPIRY_ACTOR = "system:cart-expiry"


def record(session: AsyncSession, type_: str, view: Cart, actor: str, reason: str | None = None) -> None:
    outbox.record(session, type_, "cart", view.id, view.model_dump(mode="json"), actor=actor, reason=reason)


def _refused(cart: CartRow, code: str) -> Conflict:
    if code == "cart_converted":
        return Conflict(
            f"Cart {cart.id} was checked out as order {cart.order_id}",
            code=code,
            order_id=str(cart.order_id),
            headers={"Location": f"/v1/orders/{cart.order_id}"},
        )
    if code == "cart_expired":
        return Conflict(
            f"Cart {cart.id} expired at {cart.expires_at.isoformat()}: its stock is no longer held",
            code=code,
            expires_at=cart.expires_at.isoformat(),
        )
    return Conflict(f"Cart {cart.id} is {cart.status}", code=code, current_status=cart.status)


async def active(session: AsyncSession, cart_id: uuid.UUID, if_match: str | None) -> CartRow:
    """The cart, locked, if it may still change (412 on a stale If-Match, 409 once closed or expired)."""
    cart = await reading.load(session, cart_id, for_update=True)
    check_if_match(if_match, cart.version)
    code = domain.refusal(cart.status, cart.expires_at, utcnow())
    if code is not None:
        raise _refused(cart, code)
    return cart


def touch(cart: CartRow, now: datetime) -> None:
    cart.version += 1
    cart.updated_at = now


def _close(cart: CartRow, status: CartStatus, reason: str | None, now: datetime) -> None:
    cart.status = status.value
    cart.status_reason = reason
    cart.closed_at = now
    touch(cart, now)


async def extend_cart(
    session: AsyncSession, actor: Principal, cart_id: uuid.UUID, body: CartExtend, if_match: str | None
) -> Cart:
    """Hold the cart's stock longer: until now + minutes (default: the channel's TTL), never shorter."""
    cart = await active(session, cart_id, if_match)
    minutes = body.minutes or (await channels.get_channel(session, str(cart.channel_id))).cart_ttl_minutes
    now = utcnow()
    expires_at = domain.extended(cart.expires_at, now, minutes)
    if expires_at == cart.expires_at:
        return await reading.view_of(session, cart)
    cart.expires_at = expires_at
    await stock.extend_holds(session, cart.id, expires_at)
    touch(cart, now)
    await session.flush()
    view = await reading.view_of(session, cart)
    record(session, "cart.updated", view, actor.actor, reason="extended")
    return view


async def abandon_cart(
    session: AsyncSession, actor: Principal, cart_id: uuid.UUID, reason: str | None, if_match: str | None
) -> Cart:
    """Give the cart up: every held unit goes back to stock at once."""
    cart = await active(session, cart_id, if_match)
    held = await stock.holds_of(session, [cart.id])
    why = reason or "cart abandoned"
    await stock.release_holds(session, cart.id, [(h, h.quantity) for h in held], actor=actor.actor, reason=why)
    _close(cart, CartStatus.ABANDONED, reason, utcnow())
    await session.flush()
    view = await reading.view_of(session, cart)
    record(session, "cart.abandoned", view, actor.actor, reason=reason)
    return view


async def expire_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Expire up to ``limit`` active carts past their expiry: release their holds, emit ``cart.expired``.

    The carts are claimed with ``SKIP LOCKED`` (PostgreSQL) and all their stock levels locked in id
    order before any is changed, so concurrent runs, checkouts and placements neither block on each
    other's carts nor deadlock.
    """
    carts = await repository.claim_expired(session, now, limit)
    if not carts:
        return 0
    held = await stock.holds_of(session, [c.id for c in carts])
    await stock.lock_levels(session, [h.level_id for h in held])
    by_cart: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for h in held:
        by_cart[h.cart_id].append(h)
    for cart in carts:
        parts = [(h, h.quantity) for h in by_cart[cart.id]]
        await stock.release_holds(session, cart.id, parts, actor=EXPIRY_ACTOR, reason="cart expired")
        _close(cart, CartStatus.EXPIRED, "expired without checkout", now)
    await session.flush()
    for view in await reading.views_of(session, carts):
        record(session, "cart.expired", view, EXPIRY_ACTOR)
    return len(carts)


async def begin_checkout(
    session: AsyncSession, cart_id: uuid.UUID, if_match: str | None
) -> tuple[CartRow, list[LineRow], list[Held]]:
    """The cart (locked), its lines and its holds, if it can be checked out (409 ``cart_empty`` if no lines)."""
    cart = await active(session, cart_id, if_match)
    lines = (await repository.lines_of(session, [cart.id]))[cart.id]
    if not lines:
        raise Conflict(f"Cart {cart.id} has no lines to check out", code="cart_empty")
    held = await stock.holds_of(session, [cart.id])
    units: dict[uuid.UUID, int] = defaultdict(int)
    for h in held:
        units[h.sku_id] += h.quantity
    if units != {line.sku_id: line.quantity for line in lines}:  # the holds always follow the lines
        raise RuntimeError(f"the holds of cart {cart.id} do not match its lines")
    return cart, lines, held


async def complete_checkout(session: AsyncSession, actor: Principal, cart: CartRow, order_id: uuid.UUID) -> Cart:
    """Close the cart as converted into ``order_id`` (its holds already belong to the order)."""
    cart.order_id = order_id
    _close(cart, CartStatus.CONVERTED, None, utcnow())
    await session.flush()
    view = await reading.view_of(session, cart)
    record(session, "cart.converted", view, actor.actor)
    return view
