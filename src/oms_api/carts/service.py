"""Cart use cases: create (holding the stock at once), read, list, change lines, extend, abandon, expire,
and the cart's side of checkout (``orders.checkout`` makes the order).

Every change first locks the cart row, so one cart's holds are only ever changed by one transaction
at a time (a change, a checkout or the expiry job), then moves stock with ``stock.holds``, which
raises and lowers ``reserved`` with the same oversell-proof statements as order placement.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation.domain import Shortage
from oms_api.carts import domain, repository
from oms_api.carts.domain import MAX_LINES, CartStatus, HeldPart
from oms_api.carts.models import Cart as CartRow
from oms_api.carts.models import CartLine as LineRow
from oms_api.carts.schemas import (
    Cart,
    CartCreate,
    CartExtend,
    CartHold,
    CartLine,
    CartLinesReplace,
    CartLinesUpdate,
)
from oms_api.channels import service as channels
from oms_api.channels.models import Channel
from oms_api.customers import service as customers
from oms_api.customers.schemas import CustomerCreate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders.schemas import CustomerRef
from oms_api.settings import Settings
from oms_api.stock import holds, reservations
from oms_api.stock.holds import Held, HoldRequest
from oms_api.stock.reservations import SkuStock

EXPIRY_ACTOR = "system:cart-expiry"


# --- reading ----------------------------------------------------------------------------------------------------


async def _load(session: AsyncSession, cart_id: uuid.UUID, *, for_update: bool = False) -> CartRow:
    cart = await repository.get(session, cart_id, for_update=for_update)
    if cart is None:
        raise NotFound(f"No cart {cart_id}", code="cart_not_found")
    return cart


def _money(minor: int | None, currency: str) -> MoneyIn | None:
    return None if minor is None else MoneyIn.of(Money.from_minor(minor, currency))


async def views_of(session: AsyncSession, carts: Sequence[CartRow]) -> list[Cart]:
    """The wire form of carts (lines and the holds of the active ones), in a few queries for any number."""
    ids = [c.id for c in carts]
    lines = await repository.lines_of(session, ids)
    held: dict[tuple[uuid.UUID, uuid.UUID], list[CartHold]] = defaultdict(list)
    for h in await holds.holds_of(session, [c.id for c in carts if c.status == CartStatus.ACTIVE]):
        held[(h.cart_id, h.sku_id)].append(
            CartHold(warehouse=h.warehouse, warehouse_id=h.warehouse_id, quantity=h.quantity)
        )
    codes = {cid: (await channels.get_channel(session, str(cid))).code for cid in {c.channel_id for c in carts}}
    result = []
    for cart in carts:
        cur = cart.currency
        priced = [line.unit_price_minor for line in lines[cart.id]]
        subtotal = (
            sum((p or 0) * line.quantity for p, line in zip(priced, lines[cart.id], strict=True))
            if priced and None not in priced
            else None
        )
        result.append(
            Cart(
                id=cart.id,
                channel=codes[cart.channel_id],
                channel_id=cart.channel_id,
                customer_id=cart.customer_id,
                currency=cur,
                status=cart.status,
                status_reason=cart.status_reason,
                expires_at=cart.expires_at,
                order_id=cart.order_id,
                lines=[
                    CartLine(
                        id=line.id,
                        line_no=line.line_no,
                        sku=line.sku,
                        sku_id=line.sku_id,
                        name=line.name,
                        quantity=line.quantity,
                        unit_price=_money(line.unit_price_minor, cur),
                        holds=held.get((cart.id, line.sku_id), []),
                    )
                    for line in lines[cart.id]
                ],
                subtotal=_money(subtotal, cur),
                created_at=cart.created_at,
                updated_at=cart.updated_at,
                closed_at=cart.closed_at,
                version=cart.version,
            )
        )
    return result


async def view_of(session: AsyncSession, cart: CartRow) -> Cart:
    return (await views_of(session, [cart]))[0]


async def get_cart(session: AsyncSession, cart_id: uuid.UUID) -> Cart:
    return await view_of(session, await _load(session, cart_id))


async def list_carts(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer_id: uuid.UUID | None = None,
) -> Slice[CartRow]:
    channel_id = None
    if channel:
        try:
            channel_id = (await channels.get_channel(session, channel)).id
        except NotFound:  # an unknown channel finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_carts(session, page, status=status, channel_id=channel_id, customer_id=customer_id)


# --- shared checks ----------------------------------------------------------------------------------------------


def _record(session: AsyncSession, type_: str, view: Cart, actor: str, reason: str | None = None) -> None:
    outbox.record(session, type_, "cart", view.id, view.model_dump(mode="json"), actor=actor, reason=reason)


async def _channel(session: AsyncSession, ref: str) -> Channel:
    try:
        channel = await channels.get_channel(session, ref)
    except NotFound as exc:
        raise field_error("/body/channel", f"no channel {ref!r}", "unknown_channel") from exc
    if not channel.active:
        raise field_error("/body/channel", f"channel {channel.code!r} is not active", "channel_inactive")
    return channel


async def _customer_id(
    session: AsyncSession, actor: Principal, customer: CustomerRef | CustomerCreate | None
) -> uuid.UUID | None:
    if customer is None:
        return None
    if isinstance(customer, CustomerRef):
        try:
            return (await customers.get_customer(session, customer.id)).id
        except NotFound as exc:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer") from exc
    return (await customers.resolve_for_order(session, actor, customer)).id


def _price_minor(value: MoneyIn | None, currency: str, pointer: str) -> int | None:
    if value is None:
        return None
    if value.currency != currency:
        raise field_error(pointer + "/currency", f"must be the cart currency {currency}", "currency_mismatch")
    return value.to_money().minor


def _no_duplicates(skus: Sequence[str]) -> None:
    seen: set[str] = set()
    problems = []
    for i, sku in enumerate(skus):
        if sku in seen:
            problems.append(
                ProblemError(pointer=f"/body/lines/{i}/sku", detail=f"SKU {sku!r} is given twice", code="duplicate_sku")
            )
        seen.add(sku)
    if problems:
        raise ValidationFailed(problems)


def _check_skus(wanted: Sequence[tuple[int, str]], stock: dict[str, SkuStock]) -> None:
    """Unknown and no longer sold SKUs are refused (only where more units would be held)."""
    problems = []
    for i, sku in wanted:
        found = stock.get(sku)
        if found is None:
            problems.append(
                ProblemError(pointer=f"/body/lines/{i}/sku", detail=f"unknown SKU {sku!r}", code="unknown_sku")
            )
        elif not found.active:
            problems.append(
                ProblemError(pointer=f"/body/lines/{i}/sku", detail=f"SKU {sku!r} is not sold", code="sku_inactive")
            )
    if problems:
        raise ValidationFailed(problems)


def _out_of_stock(
    shortages: Sequence[Shortage],
    stock: dict[str, SkuStock],
    requested: dict[uuid.UUID, int],
    held: dict[uuid.UUID, int],
) -> Conflict:
    """409 naming each short SKU: the line quantity asked for and the most the cart could hold."""
    codes = {s.sku_id: s.sku for s in stock.values()}
    short = [
        {
            "sku": codes[s.sku_id],
            "requested": requested.get(s.sku_id, s.requested),
            "available": s.available + held.get(s.sku_id, 0),
        }
        for s in shortages
    ]
    listing = ", ".join(f"{s['sku']} ({s['available']} of {s['requested']})" for s in short)
    return Conflict(f"Not enough stock for: {listing}", code="out_of_stock", title="Out of stock", shortages=short)


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


async def _active(session: AsyncSession, cart_id: uuid.UUID, if_match: str | None) -> CartRow:
    """The cart, locked, if it may still change (412 on a stale If-Match, 409 once closed or expired)."""
    cart = await _load(session, cart_id, for_update=True)
    check_if_match(if_match, cart.version)
    code = domain.refusal(cart.status, cart.expires_at, utcnow())
    if code is not None:
        raise _refused(cart, code)
    return cart


def _touch(cart: CartRow, now: datetime) -> None:
    cart.version += 1
    cart.updated_at = now


def _close(cart: CartRow, status: CartStatus, reason: str | None, now: datetime) -> None:
    cart.status = status.value
    cart.status_reason = reason
    cart.closed_at = now
    _touch(cart, now)


# --- changes ----------------------------------------------------------------------------------------------------


async def create_cart(session: AsyncSession, actor: Principal, body: CartCreate, settings: Settings) -> Cart:
    """Create the cart and hold every unit of its lines, or change nothing and say what is short."""
    channel = await _channel(session, body.channel)
    currency = body.currency or channel.default_currency
    _no_duplicates([line.sku for line in body.lines])
    prices = [
        _price_minor(line.unit_price, currency, f"/body/lines/{i}/unit_price") for i, line in enumerate(body.lines)
    ]
    customer_id = await _customer_id(session, actor, body.customer)
    stock = await reservations.load_candidates(session, [line.sku for line in body.lines]) if body.lines else {}
    _check_skus([(i, line.sku) for i, line in enumerate(body.lines)], stock)
    now = utcnow()
    cart = CartRow(
        id=uuid7(),
        channel_id=channel.id,
        customer_id=customer_id,
        currency=currency,
        status=CartStatus.ACTIVE.value,
        status_reason=None,
        expires_at=domain.expiry(now, channel.cart_ttl_minutes),
        order_id=None,
        closed_at=None,
        created_at=now,
        updated_at=now,
        version=1,
    )
    requests = [HoldRequest(stock[line.sku].sku_id, line.sku, line.quantity) for line in body.lines]
    shortages = await holds.hold(
        session,
        requests,
        stock,
        cart_id=cart.id,
        expires_at=cart.expires_at,
        held=[],
        actor=actor.actor,
        max_split_warehouses=settings.max_split_warehouses,
    )
    if shortages:
        raise _out_of_stock(shortages, stock, {r.sku_id: r.quantity for r in requests}, {})
    lines = [
        LineRow(
            id=uuid7(),
            cart_id=cart.id,
            line_no=i + 1,
            sku_id=stock[line.sku].sku_id,
            sku=line.sku,
            name=stock[line.sku].name,
            quantity=line.quantity,
            unit_price_minor=prices[i],
        )
        for i, line in enumerate(body.lines)
    ]
    await repository.add(session, cart, lines)
    view = await view_of(session, cart)
    _record(session, "cart.created", view, actor.actor)
    return view


@dataclass(frozen=True, slots=True)
class _Given:
    """One line of a lines change, with where it sits in the body (for error pointers)."""

    index: int
    sku: str
    quantity: int
    price: MoneyIn | None
    sets_price: bool


async def replace_lines(
    session: AsyncSession,
    actor: Principal,
    cart_id: uuid.UUID,
    body: CartLinesReplace,
    if_match: str | None,
    settings: Settings,
) -> Cart:
    given = [_Given(i, line.sku, line.quantity, line.unit_price, True) for i, line in enumerate(body.lines)]
    return await _change_lines(session, actor, cart_id, given, True, if_match, settings)


async def update_lines(
    session: AsyncSession,
    actor: Principal,
    cart_id: uuid.UUID,
    body: CartLinesUpdate,
    if_match: str | None,
    settings: Settings,
) -> Cart:
    given = [
        _Given(i, line.sku, line.quantity, line.unit_price, "unit_price" in line.model_fields_set)
        for i, line in enumerate(body.lines)
    ]
    return await _change_lines(session, actor, cart_id, given, False, if_match, settings)


async def _change_lines(
    session: AsyncSession,
    actor: Principal,
    cart_id: uuid.UUID,
    given: list[_Given],
    replace: bool,
    if_match: str | None,
    settings: Settings,
) -> Cart:
    """Set the lines and make the holds follow: more held where a line grows (all or nothing), the
    difference released where it shrinks, everything released for a removed line."""
    cart = await _active(session, cart_id, if_match)
    _no_duplicates([g.sku for g in given])
    prices = {
        g.sku: _price_minor(g.price, cart.currency, f"/body/lines/{g.index}/unit_price") for g in given if g.sets_price
    }
    lines = (await repository.lines_of(session, [cart.id]))[cart.id]
    current = {line.sku: line.quantity for line in lines}
    asked = {g.sku: g.quantity for g in given}
    wanted = domain.replaced(asked) if replace else domain.merged(current, asked)
    if len(wanted) > MAX_LINES:
        raise field_error("/body/lines", f"a cart has at most {MAX_LINES} lines", "too_many_lines")
    changes = domain.deltas(current, wanted)
    index_of = {g.sku: g.index for g in given}
    growing = [sku for sku, delta in changes.items() if delta > 0]
    stock = await reservations.load_candidates(session, growing) if growing else {}
    _check_skus([(index_of[sku], sku) for sku in growing], stock)
    held = await holds.holds_of(session, [cart.id])
    held_units: dict[uuid.UUID, int] = defaultdict(int)
    for h in held:
        held_units[h.sku_id] += h.quantity
    # Holding more and releasing are two statements: lock every level either may touch at once, in id
    # order, so that two carts changing lines in opposite directions cannot deadlock.
    shrinking = {line.sku_id for line in lines if changes.get(line.sku, 0) < 0}
    await holds.lock_levels(
        session,
        [c.level_id for s in stock.values() for c in s.candidates]
        + [h.level_id for h in held if h.sku_id in shrinking],
    )
    requests = [HoldRequest(stock[sku].sku_id, sku, changes[sku]) for sku in growing]
    shortages = await holds.hold(
        session,
        requests,
        stock,
        cart_id=cart.id,
        expires_at=cart.expires_at,
        held=held,
        actor=actor.actor,
        max_split_warehouses=settings.max_split_warehouses,
    )
    if shortages:
        raise _out_of_stock(shortages, stock, {stock[sku].sku_id: wanted[sku] for sku in growing}, held_units)
    by_sku = {line.sku: line for line in lines}
    parts: list[tuple[Held, int]] = []
    for sku, delta in changes.items():
        if delta < 0:
            mine = [HeldPart(h, h.quantity, h.priority, h.warehouse) for h in held if h.sku_id == by_sku[sku].sku_id]
            parts += domain.pick_releases(mine, -delta)
    await holds.release(session, cart.id, parts, actor=actor.actor, reason="cart line reduced or removed")

    repriced = False
    for line in lines:
        if line.sku in wanted:
            line.quantity = wanted[line.sku]
            if line.sku in prices and line.unit_price_minor != prices[line.sku]:
                line.unit_price_minor = prices[line.sku]
                repriced = True
    next_no = max((line.line_no for line in lines), default=0) + 1
    added: list[LineRow] = []
    for g in given:
        if g.sku in wanted and g.sku not in current:
            added.append(
                LineRow(
                    id=uuid7(),
                    cart_id=cart.id,
                    line_no=next_no + len(added),
                    sku_id=stock[g.sku].sku_id,
                    sku=g.sku,
                    name=stock[g.sku].name,
                    quantity=g.quantity,
                    unit_price_minor=prices.get(g.sku),
                )
            )
    if not changes and not repriced:
        return await view_of(session, cart)
    await repository.remove_lines(session, [line.id for line in lines if line.sku not in wanted])
    session.add_all(added)
    _touch(cart, utcnow())
    await session.flush()
    view = await view_of(session, cart)
    _record(session, "cart.updated", view, actor.actor)
    return view


async def extend_cart(
    session: AsyncSession, actor: Principal, cart_id: uuid.UUID, body: CartExtend, if_match: str | None
) -> Cart:
    """Hold the cart's stock longer: until now + minutes (default: the channel's TTL), never shorter."""
    cart = await _active(session, cart_id, if_match)
    minutes = body.minutes or (await channels.get_channel(session, str(cart.channel_id))).cart_ttl_minutes
    now = utcnow()
    expires_at = domain.extended(cart.expires_at, now, minutes)
    if expires_at == cart.expires_at:
        return await view_of(session, cart)
    cart.expires_at = expires_at
    await holds.extend(session, cart.id, expires_at)
    _touch(cart, now)
    await session.flush()
    view = await view_of(session, cart)
    _record(session, "cart.updated", view, actor.actor, reason="extended")
    return view


async def abandon_cart(
    session: AsyncSession, actor: Principal, cart_id: uuid.UUID, reason: str | None, if_match: str | None
) -> Cart:
    """Give the cart up: every held unit goes back to stock at once."""
    cart = await _active(session, cart_id, if_match)
    held = await holds.holds_of(session, [cart.id])
    why = reason or "cart abandoned"
    await holds.release(session, cart.id, [(h, h.quantity) for h in held], actor=actor.actor, reason=why)
    _close(cart, CartStatus.ABANDONED, reason, utcnow())
    await session.flush()
    view = await view_of(session, cart)
    _record(session, "cart.abandoned", view, actor.actor, reason=reason)
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
    held = await holds.holds_of(session, [c.id for c in carts])
    await holds.lock_levels(session, [h.level_id for h in held])
    by_cart: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for h in held:
        by_cart[h.cart_id].append(h)
    for cart in carts:
        parts = [(h, h.quantity) for h in by_cart[cart.id]]
        await holds.release(session, cart.id, parts, actor=EXPIRY_ACTOR, reason="cart expired")
        _close(cart, CartStatus.EXPIRED, "expired without checkout", now)
    await session.flush()
    for view in await views_of(session, carts):
        _record(session, "cart.expired", view, EXPIRY_ACTOR)
    return len(carts)


# --- checkout (the order side is orders.checkout) ---------------------------------------------------------------


async def begin_checkout(
    session: AsyncSession, cart_id: uuid.UUID, if_match: str | None
) -> tuple[CartRow, list[LineRow], list[Held]]:
    """The cart (locked), its lines and its holds, if it can be checked out (409 ``cart_empty`` if no lines)."""
    cart = await _active(session, cart_id, if_match)
    lines = (await repository.lines_of(session, [cart.id]))[cart.id]
    if not lines:
        raise Conflict(f"Cart {cart.id} has no lines to check out", code="cart_empty")
    held = await holds.holds_of(session, [cart.id])
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
    view = await view_of(session, cart)
    _record(session, "cart.converted", view, actor.actor)
    return view
