"""A quote after drafting: send, accept, decline, expire.

Every step first locks the quote row, so one quote's status and held stock only ever change in one transaction
at a time (an acceptance, a decline or the expiry job).

Holding stock: a quote that asks to reserve its stock holds it from sending with the same mechanism as carts, a
hold (a reservation with a holder id and an expiry) planned by the allocation context under the channel's
sourcing policy (``allocation.service.source_and_hold``), whose holder id is the quote's id. It expires with the
quote, at the end of its ``valid_until`` day: carts themselves cannot carry that (a cart lives at most a week
and the cart expiry job would release it first). At acceptance the holds become the order's reservations in
place, as at a cart's checkout (``orders.service.place_from_cart``), so ``reserved`` never moves in between; a
decline or the expiry job gives them back (``stock.service.release_holds``). The stock ledger names these rows
``cart:<quote id>``, the reference stock gives every hold.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
from oms_api.catalog import service as catalog
from oms_api.channels import service as channels
from oms_api.customers.schemas import CustomerRef
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict
from oms_api.kit.etags import check_if_match
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.quotes import domain, reading, repository
from oms_api.quotes.domain import QuoteStatus
from oms_api.quotes.models import Quote as QuoteRow
from oms_api.quotes.models import QuoteLine as LineRow
from oms_api.quotes.schemas import Quote
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import Held

EXPIRY_ACTOR = "system:quote-expiry"
ORDER_TAG = "quote"


async def _locked(
    session: AsyncSession, quote_id: uuid.UUID, target: QuoteStatus, if_match: str | None, now: datetime
) -> QuoteRow:
    """The quote, locked, if it may move to ``target`` now (412 on a stale If-Match, 409 otherwise)."""
    quote = await reading.load(session, quote_id, for_update=True)
    check_if_match(if_match, quote.version)
    try:
        domain.check_action(quote.status, target, quote.valid_until, now.date())
    except domain.QuoteRefused as exc:
        extra: dict[str, Any] = {"current_status": quote.status, "valid_until": quote.valid_until.isoformat()}
        if quote.order_id is not None:
            extra["order_id"] = str(quote.order_id)
        raise Conflict(str(exc), code=exc.code, **extra) from exc
    return quote


def _moved(quote: QuoteRow, status: QuoteStatus, now: datetime) -> None:
    quote.status = status.value
    quote.version += 1
    quote.updated_at = now


async def _hold(session: AsyncSession, actor: Principal, quote: QuoteRow, settings: Settings) -> None:
    """Hold every unit of the quote's lines until the end of its validity, or nothing (409 ``out_of_stock``)."""
    lines = (await repository.lines_of(session, [quote.id]))[quote.id]
    found = await stock.load_candidates(session, [line.sku for line in lines])
    active = {sku: s.active for sku, s in found.items()}
    catalog.check_sellable(((f"/lines/{i}/sku", line.sku) for i, line in enumerate(lines)), active)
    channel = await channels.channel_by_id(session, quote.channel_id)
    shortages = await allocation.source_and_hold(
        session,
        actor.actor,
        cart_id=quote.id,
        lines=[(found[line.sku].sku_id, line.sku, line.quantity) for line in lines],
        policy=allocation.policy_of(channel.sourcing, settings),
        expires_at=domain.hold_expiry(quote.valid_until),
        held=[],
    )
    if shortages:
        raise allocation.out_of_stock(shortages, {s.sku_id: s.sku for s in found.values()})


async def _release(session: AsyncSession, quote: QuoteRow, actor: str, reason: str) -> None:
    held = await stock.holds_of(session, [quote.id])
    await stock.release_holds(session, quote.id, [(h, h.quantity) for h in held], actor=actor, reason=reason)


async def send_quote(
    session: AsyncSession, actor: Principal, quote_id: uuid.UUID, if_match: str | None, settings: Settings
) -> Quote:
    """Draft -> sent: the content is frozen; a quote that reserves stock holds it from now until the end of its
    validity (409 ``out_of_stock`` and nothing changes when it cannot)."""
    now = utcnow()
    quote = await _locked(session, quote_id, QuoteStatus.SENT, if_match, now)
    if quote.reserve_stock:
        await _hold(session, actor, quote, settings)
    _moved(quote, QuoteStatus.SENT, now)
    quote.sent_at = now
    await session.flush()
    view = await reading.view_of(session, quote)
    reading.record(session, "quote.sent", view, actor.actor)
    return view


def _order_body(quote: QuoteRow, lines: list[LineRow]) -> OrderCreate:
    """The placement the quote stands for: its lines at their negotiated prices, its customer, addresses and
    shipping charge, with the quote's number as external_ref. No payment is given: a customer on payment terms is
    invoiced (payments' placement rule), others pay by the channel's policy."""
    cur = quote.currency

    def money(minor: int) -> dict[str, str]:
        return MoneyIn.of(Money.from_minor(minor, cur)).model_dump()

    shipping = quote.shipping_price_minor is not None or quote.shipping_minor != 0
    return OrderCreate.model_validate(
        {
            "channel": str(quote.channel_id),
            "external_ref": quote.number,
            "currency": cur,
            "customer": CustomerRef(id=quote.customer_id),
            "shipping_address": quote.shipping_address,
            "billing_address": quote.billing_address,
            "lines": [
                {
                    "sku": line.sku,
                    "quantity": line.quantity,
                    "unit_price": money(line.unit_price_minor),
                    **({"discount": money(line.discount_minor)} if line.discount_minor else {}),
                }
                for line in lines
            ],
            "shipping_price": money(quote.shipping_minor) if shipping else None,
            "prices_include_tax": quote.prices_include_tax,
            "tags": [ORDER_TAG],
            "notes": quote.notes,
        }
    )


async def accept_quote(
    session: AsyncSession, actor: Principal, quote_id: uuid.UUID, if_match: str | None, settings: Settings
) -> tuple[Quote, Order]:
    """Sent and still valid -> accepted: the order is placed through orders, with stock reserved now (or the
    quote's held stock handed over in place). When the order cannot be placed (out of stock, a SKU no longer sold,
    a duplicate external_ref), its problem is the answer and the quote stays sent."""
    now = utcnow()
    quote = await _locked(session, quote_id, QuoteStatus.ACCEPTED, if_match, now)
    lines = (await repository.lines_of(session, [quote.id]))[quote.id]
    body = _order_body(quote, lines)
    if quote.reserve_stock:
        held = await stock.holds_of(session, [quote.id])
        _check_held(quote, lines, held)
        order = await orders.place_from_cart(session, actor, body, cart_id=quote.id, held=held)
    else:
        order = await orders.place_order(session, actor, body, settings)
    _moved(quote, QuoteStatus.ACCEPTED, now)
    quote.accepted_at = now
    quote.order_id = order.id
    await session.flush()
    view = await reading.view_of(session, quote)
    reading.record(session, "quote.accepted", view, actor.actor)
    return view, order


def _check_held(quote: QuoteRow, lines: list[LineRow], held: list[Held]) -> None:
    units: dict[uuid.UUID, int] = defaultdict(int)
    for h in held:
        units[h.sku_id] += h.quantity
    if units != {line.sku_id: line.quantity for line in lines}:  # the holds were made from these lines
        raise RuntimeError(f"the holds of quote {quote.id} do not match its lines")


async def decline_quote(
    session: AsyncSession, actor: Principal, quote_id: uuid.UUID, reason: str, if_match: str | None
) -> Quote:
    """Sent -> declined, for a reason; held stock goes back at once."""
    now = utcnow()
    quote = await _locked(session, quote_id, QuoteStatus.DECLINED, if_match, now)
    if quote.reserve_stock:
        await _release(session, quote, actor.actor, f"quote {quote.number} declined")
    _moved(quote, QuoteStatus.DECLINED, now)
    quote.declined_at = now
    quote.decline_reason = reason
    await session.flush()
    view = await reading.view_of(session, quote)
    reading.record(session, "quote.declined", view, actor.actor, reason=reason)
    return view


async def expire_due(session: AsyncSession, *, now: datetime, limit: int) -> int:
    """Expire up to ``limit`` sent quotes whose validity ended before ``now``'s day: release their held stock and
    emit ``quote.expired``. Returns how many expired (``limit``: more may be due).

    The quotes are claimed with ``SKIP LOCKED`` (PostgreSQL) and all their stock levels locked in id order before
    any is changed, so concurrent runs, acceptances and placements neither block on each other nor deadlock."""
    quotes = await repository.claim_expired(session, now.date(), limit)
    if not quotes:
        return 0
    held = await stock.holds_of(session, [q.id for q in quotes])
    await stock.lock_levels(session, [h.level_id for h in held])
    by_quote: dict[uuid.UUID, list[Held]] = defaultdict(list)
    for h in held:
        by_quote[h.cart_id].append(h)
    for quote in quotes:
        parts = [(h, h.quantity) for h in by_quote[quote.id]]
        await stock.release_holds(session, quote.id, parts, actor=EXPIRY_ACTOR, reason=f"quote {quote.number} expired")
        _moved(quote, QuoteStatus.EXPIRED, now)
        quote.expired_at = now
    await session.flush()
    for quote in quotes:
        reading.record(session, "quote.expired", await reading.view_of(session, quote), EXPIRY_ACTOR)
    return len(quotes)
