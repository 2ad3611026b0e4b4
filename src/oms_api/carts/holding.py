"""Making a cart and changing its lines: the stock is held at once, where the channel's sourcing policy allows.

Holding more units is planned by the allocation context with the same engine and channel policy as an order's
placement (allowed warehouses, safety stock, split limit), then held all or nothing; giving units back releases
the holds least worth keeping first. Both move ``reserved`` through the stock ledger.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
from oms_api.carts import domain, lifecycle, reading, repository
from oms_api.carts.domain import MAX_LINES, CartStatus, HeldPart
from oms_api.carts.models import Cart as CartRow
from oms_api.carts.models import CartLine as LineRow
from oms_api.carts.schemas import Cart, CartCreate, CartLinesReplace, CartLinesUpdate
from oms_api.catalog import service as catalog
from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import ProblemError, ValidationFailed, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import Held, LevelFacts, SkuStock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.channels.models import Channel


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


async def _hold_more(
    session: AsyncSession,
    actor: Principal,
    cart: CartRow,
    channel: Channel,
    found: dict[str, SkuStock],
    more: dict[str, int],
    settings: Settings,
    *,
    held: Sequence[Held] = (),
    requested: dict[uuid.UUID, int],
    locked: Sequence[LevelFacts] | None = None,
) -> None:
    """Hold ``more`` units by SKU code where the channel's policy allows, or nothing: 409 ``out_of_stock`` naming
    each short SKU with the line quantity asked for and the most the cart could hold."""
    shortages = await allocation.source_and_hold(
        session,
        actor.actor,
        cart_id=cart.id,
        lines=[(found[sku].sku_id, sku, quantity) for sku, quantity in more.items()],
        policy=allocation.policy_of(channel.sourcing, settings),
        expires_at=cart.expires_at,
        held=held,
        locked=locked,
    )
    if shortages:
        held_units: dict[uuid.UUID, int] = defaultdict(int)
        for h in held:
            held_units[h.sku_id] += h.quantity
        codes = {s.sku_id: s.sku for s in found.values()}
        raise allocation.out_of_stock(shortages, codes, requested=requested, held=held_units)


def _check_sellable(lines: Sequence[tuple[int, str]], found: dict[str, SkuStock]) -> None:
    """Unknown and no longer sold SKUs are refused (only where more units would be held)."""
    active = {sku: s.active for sku, s in found.items()}
    catalog.check_sellable(((f"/body/lines/{i}/sku", sku) for i, sku in lines), active)


async def create_cart(session: AsyncSession, actor: Principal, body: CartCreate, settings: Settings) -> Cart:
    """Create the cart and hold every unit of its lines, or change nothing and say what is short."""
    channel = await channels.selling_channel(session, body.channel)
    currency = body.currency or channel.default_currency
    _no_duplicates([line.sku for line in body.lines])
    prices = [
        _price_minor(line.unit_price, currency, f"/body/lines/{i}/unit_price") for i, line in enumerate(body.lines)
    ]
    customer_id = await customers.customer_for(session, actor, body.customer)
    found = await stock.load_candidates(session, [line.sku for line in body.lines]) if body.lines else {}
    _check_sellable([(i, line.sku) for i, line in enumerate(body.lines)], found)
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
    more = {line.sku: line.quantity for line in body.lines}
    requested = {found[line.sku].sku_id: line.quantity for line in body.lines}
    if more:
        await _hold_more(session, actor, cart, channel, found, more, settings, requested=requested)
    lines = [
        LineRow(
            id=uuid7(),
            cart_id=cart.id,
            line_no=i + 1,
            sku_id=found[line.sku].sku_id,
            sku=line.sku,
            name=found[line.sku].name,
            quantity=line.quantity,
            unit_price_minor=prices[i],
        )
        for i, line in enumerate(body.lines)
    ]
    await repository.add(session, cart, lines)
    view = await reading.view_of(session, cart)
    lifecycle.record(session, "cart.created", view, actor.actor)
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
    cart = await lifecycle.active(session, cart_id, if_match)
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
    found = await stock.load_candidates(session, growing) if growing else {}
    _check_sellable([(index_of[sku], sku) for sku in growing], found)
    held = await stock.holds_of(session, [cart.id])
    # Holding more and releasing are two statements: lock every level either may touch at once, in id
    # order, so that two carts changing lines in opposite directions cannot deadlock.
    shrinking = {line.sku_id for line in lines if changes.get(line.sku, 0) < 0}
    sku_ids = {found[sku].sku_id for sku in growing}
    levels = await stock.load_levels(
        session, sku_ids, lock=True, also=[h.level_id for h in held if h.sku_id in shrinking]
    )
    if growing:
        channel = await channels.channel_by_id(session, cart.channel_id)
        requested = {found[sku].sku_id: wanted[sku] for sku in growing}
        locked = [level for level in levels if level.sku_id in sku_ids]
        more = {sku: changes[sku] for sku in growing}
        await _hold_more(
            session, actor, cart, channel, found, more, settings, held=held, requested=requested, locked=locked
        )
    by_sku = {line.sku: line for line in lines}
    parts: list[tuple[Held, int]] = []
    for sku, delta in changes.items():
        if delta < 0:
            mine = [HeldPart(h, h.quantity, h.priority, h.warehouse) for h in held if h.sku_id == by_sku[sku].sku_id]
            parts += domain.pick_releases(mine, -delta)
    await stock.release_holds(session, cart.id, parts, actor=actor.actor, reason="cart line reduced or removed")

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
                    sku_id=found[g.sku].sku_id,
                    sku=g.sku,
                    name=found[g.sku].name,
                    quantity=g.quantity,
                    unit_price_minor=prices.get(g.sku),
                )
            )
    if not changes and not repriced:
        return await reading.view_of(session, cart)
    await repository.remove_lines(session, [line.id for line in lines if line.sku not in wanted])
    session.add_all(added)
    lifecycle.touch(cart, utcnow())
    await session.flush()
    view = await reading.view_of(session, cart)
    lifecycle.record(session, "cart.updated", view, actor.actor)
    return view
