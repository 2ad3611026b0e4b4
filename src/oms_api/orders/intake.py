"""Intake: an order a storefront already sold becomes an order here, even when it cannot be served as sent.

``POST /v1/orders`` refuses an order it cannot serve (422 ``unknown_sku``, 409 ``out_of_stock``) and the
caller decides. A storefront webhook has no one to decide: the customer has paid, so refusing would lose
the order. Intake places the order exactly as placement does when it can, and otherwise creates it
``on_hold`` with the reason (``status_reason``) and an ``order.on_hold`` event, keeping every line, also
one whose SKU the catalogue lacks (``sku_id`` null, the SKU text kept). It reuses placement's pieces:
pricing, customer resolution, ``insert_draft``, ``_reserve`` and ``finish``.

Taking in an order the channel already has never creates a second one. If that order was held at intake
(``held_from`` is null: it never was pending or confirmed) and can now be served, it is resumed: its
lines are linked to the catalogue, its stock reserved, and it becomes ``confirmed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.channels.models import Channel
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.orders import domain, placing, repository, service
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine as LineRow
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.orders.views import order_view
from oms_api.settings import Settings
from oms_api.stock import reservations
from oms_api.stock.reservations import SkuStock

REASON_MAX = 500  # orders.status_reason


@dataclass(frozen=True)
class IntakeOrder:
    """An order as a storefront sent it, mapped as far as it could be.

    ``order.lines[i].sku`` is the storefront's SKU text, which may be empty or outside the catalogue's code
    alphabet (it then names no SKU and holds the order). ``problems`` are what the mapping could not
    understand; any problem holds the order. ``expected_total`` is the storefront's grand total: an order
    whose computed total differs is held, since something in it (a fee, a tip, a gift card) was not understood.
    """

    order: OrderCreate
    line_names: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    expected_total: Money | None = None


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    created: bool  # False: the channel already had this order (nothing created; perhaps resumed)


async def take_in(session: AsyncSession, actor: Principal, intake: IntakeOrder, settings: Settings) -> IntakeResult:
    """Create the order (confirmed with its stock reserved, or on hold with the reason), or find it."""
    body = intake.order
    channel = await _channel(session, body.channel)
    existing = await repository.find_id_by_external_ref(session, channel.id, body.external_ref)
    if existing is not None:
        return IntakeResult(await _resume(session, actor, existing, intake, channel, settings), created=False)
    amounts, totals = placing._price(body)
    customer_id = await placing._customer_id(session, actor, body)
    stock = await reservations.load_candidates(session, [line.sku for line in body.lines])
    draft = _draft(channel, body, intake.line_names, amounts, totals, customer_id, stock)
    problems = [
        *intake.problems,
        *_channel_problems(channel),
        *_total_problems(intake, totals.grand_total),
        *_sku_problems([(line.line_no, line.sku, line.name) for line in draft.lines], stock),
    ]
    try:
        if not problems:
            try:
                async with session.begin_nested():  # an out-of-stock refusal must not undo the customer
                    await placing.insert_draft(session, draft)
                    holds = await placing._reserve(
                        session, actor, body, draft.order, draft.lines, draft.stock, settings
                    )
                return IntakeResult(placing.finish(session, actor, draft, holds), created=True)
            except Conflict as exc:
                if exc.code != "out_of_stock":
                    raise
                problems.append(exc.detail)
        reason = _reason(problems)
        draft.order.status, draft.order.status_reason = OrderStatus.ON_HOLD.value, reason
        await placing.insert_draft(session, draft)
    except Conflict as exc:  # a concurrent intake of the same order won the insert
        if exc.code != "duplicate_order":
            raise
        order_id = uuid.UUID(str(exc.extra["existing_id"]))
        return IntakeResult(await _resume(session, actor, order_id, intake, channel, settings), created=False)
    view = order_view(draft.order, draft.lines, {}, channel.code)
    record_transition(session, "order.created", view, None, OrderStatus.PENDING, actor)
    record_transition(session, "order.on_hold", view, OrderStatus.PENDING, OrderStatus.ON_HOLD, actor, reason)
    return IntakeResult(view, created=True)


async def find_order(session: AsyncSession, channel_ref: str, external_ref: str) -> uuid.UUID | None:
    """The id of the channel's order ``external_ref``, if it has one."""
    channel = await _channel(session, channel_ref)
    return await repository.find_id_by_external_ref(session, channel.id, external_ref)


async def _channel(session: AsyncSession, ref: str) -> Channel:
    try:
        return await channels.get_channel(session, ref)
    except NotFound as exc:
        raise field_error("/body/channel", f"no channel {ref!r}", "unknown_channel") from exc


async def _resume(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    intake: IntakeOrder,
    channel: Channel,
    settings: Settings,
) -> Order:
    """Confirm an order held at intake if it can be served now; otherwise leave it exactly as it is."""
    order = await repository.get(session, order_id, for_update=True)
    if order is None:
        raise NotFound(f"No order {order_id}", code="order_not_found")
    if order.status != OrderStatus.ON_HOLD or order.held_from is not None:  # not (or no longer) an intake hold
        return await service.view_of(session, order)
    lines = await repository.lines_of(session, order.id)
    stock = await reservations.load_candidates(session, [line.sku for line in lines])
    problems = [
        *intake.problems,
        *_channel_problems(channel),
        *_total_problems(intake, Money.from_minor(order.grand_total_minor, order.currency)),
        *_sku_problems([(line.line_no, line.sku, line.name) for line in lines], stock),
    ]
    if problems:
        return await service.view_of(session, order)
    try:  # a shortfall changes nothing (reservations.reserve is all or nothing)
        await placing._reserve(session, actor, intake.order, order, lines, stock, settings)
    except Conflict as exc:
        if exc.code != "out_of_stock":
            raise
        return await service.view_of(session, order)
    for line in lines:
        line.sku_id, line.name = stock[line.sku].sku_id, stock[line.sku].name
    order.status, order.status_reason = OrderStatus.CONFIRMED.value, None
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    view = await service.view_of(session, order)
    record_transition(
        session,
        "order.confirmed",
        view,
        OrderStatus.ON_HOLD,
        OrderStatus.CONFIRMED,
        actor,
        reason="held at intake; now every line is known and its stock reserved",
    )
    return view


def _channel_problems(channel: Channel) -> list[str]:
    return [] if channel.active else [f"channel {channel.code!r} is not active"]


def _total_problems(intake: IntakeOrder, grand_total: Money) -> list[str]:
    expected = intake.expected_total
    if expected is None or expected == grand_total:
        return []
    return [f"the storefront's total {expected} differs from the order's {grand_total} (a fee, tip or gift card?)"]


def _sku_problems(lines: Sequence[tuple[int, str, str]], stock: dict[str, SkuStock]) -> list[str]:
    """What keeps lines ``(line_no, sku text, name)`` from being served: no SKU, an unknown one, one not sold."""
    problems = []
    for line_no, sku, name in lines:
        found = stock.get(sku)
        if not sku:
            problems.append(f"line {line_no} ({name!r}) has no SKU")
        elif found is None:
            problems.append(f"unknown SKU {sku!r} (line {line_no})")
        elif not found.active:
            problems.append(f"SKU {sku!r} is not sold (line {line_no})")
    return problems


def _reason(problems: Sequence[str]) -> str:
    reason = "; ".join(problems)
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"


def _draft(
    channel: Channel,
    body: OrderCreate,
    names: Sequence[str],
    amounts: Sequence[domain.LineAmounts],
    totals: domain.Totals,
    customer_id: uuid.UUID | None,
    stock: dict[str, SkuStock],
) -> placing.Draft:
    """The rows of a new order (status ``confirmed``), like ``placing.draft_order`` but keeping unknown SKUs."""
    now = utcnow()
    order = OrderRow(
        id=uuid7(),
        channel_id=channel.id,
        external_ref=body.external_ref,
        customer_id=customer_id,
        currency=body.currency,
        status=OrderStatus.CONFIRMED.value,
        status_reason=None,
        held_from=None,
        shipping_address=body.shipping_address.model_dump(mode="json", exclude_none=True),
        billing_address=(
            body.billing_address.model_dump(mode="json", exclude_none=True) if body.billing_address else None
        ),
        tags=sorted(set(body.tags)),
        notes=body.notes,
        subtotal_minor=totals.subtotal.minor,
        discount_total_minor=totals.discount_total.minor,
        shipping_total_minor=totals.shipping_total.minor,
        tax_total_minor=totals.tax_total.minor,
        grand_total_minor=totals.grand_total.minor,
        placed_at=now,
        created_at=now,
        updated_at=now,
        version=1,
    )
    lines = []
    for i, line in enumerate(body.lines):
        known = stock.get(line.sku)
        sent_name = names[i] if i < len(names) and names[i] else line.sku or "(no name)"
        lines.append(
            LineRow(
                id=uuid7(),
                order_id=order.id,
                line_no=i + 1,
                sku_id=known.sku_id if known else None,
                sku=line.sku,
                name=known.name if known else sent_name[:200],
                quantity=line.quantity,
                unit_price_minor=line.unit_price.to_money().minor,
                discount_minor=amounts[i].discount.minor,
                tax_rate=str(line.tax_rate) if line.tax_rate is not None else "",
                tax_minor=amounts[i].tax.minor,
                total_minor=amounts[i].total.minor,
            )
        )
    return placing.Draft(channel, order, lines, stock)
