"""Intake: an order a storefront already sold becomes an order here, even when it cannot be served as sent.

``POST /v1/orders`` refuses an order it cannot serve (422 ``unknown_sku``, 409 ``out_of_stock``) and the
caller decides. A storefront webhook has no one to decide: the customer has paid, so refusing would lose
the order. Intake drafts and places the order exactly as placement does (``drafting``, ``placing.reserve``)
when it can, and otherwise creates it ``on_hold`` with the reason (``status_reason``) and an ``order.on_hold``
event, keeping every line, also one whose SKU the catalogue lacks (``sku_id`` null, the SKU text kept).

Taking in an order the channel already has never creates a second one. If that order was held at intake
(``held_from`` is null: it never was pending or confirmed) and can now be served, it is resumed: its
lines are linked to the catalogue, its stock reserved, and it becomes ``confirmed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import domain as channel_rules
from oms_api.channels import service as channels
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.money import Money
from oms_api.orders import drafting, placing, reading, repository
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.orders.views import order_view
from oms_api.settings import Settings
from oms_api.stock import service as stock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.channels.models import Channel

REASON_MAX = 500  # orders.status_reason


@dataclass(frozen=True)
class IntakeResult:
    order: Order
    created: bool  # False: the channel already had this order (nothing created; perhaps resumed)


async def take_in(
    session: AsyncSession,
    actor: Principal,
    body: OrderCreate,
    settings: Settings,
    *,
    line_names: Sequence[str] = (),
    problems: Sequence[str] = (),
    expected_total: Money | None = None,
) -> IntakeResult:
    """Create the order (confirmed with its stock reserved, or on hold with the reason), or find it.

    ``line_names`` are the names the storefront gave the lines; ``problems`` what its mapping could not
    understand (any problem holds the order); ``expected_total`` its grand total: an order whose computed total
    differs is held, since something in it (a fee, a tip, a gift card) was not understood.
    """
    channel = await _channel(session, body.channel)
    existing = await repository.find_id_by_external_ref(session, channel.id, body.external_ref)
    if existing is not None:
        order = await _resume(session, actor, existing, problems, expected_total, channel, settings)
        return IntakeResult(order, created=False)
    draft = await drafting.draft_order(session, actor, body, channel=channel, intake_names=line_names)
    grand_total = Money.from_minor(draft.order.grand_total_minor, draft.order.currency)
    why = [
        *problems,
        *_channel_problems(channel),
        *_total_problems(expected_total, grand_total),
        *drafting.sku_problems(draft.lines, draft.stock),
    ]
    try:
        if not why:
            try:
                async with outbox.savepoint(session):  # an out-of-stock refusal must not undo the customer
                    await drafting.insert_draft(session, draft)
                    holds = await placing.reserve(
                        session, actor, draft.order, draft.lines, draft.stock, channel, settings
                    )
                view = drafting.finish(session, actor, draft, holds)
                return IntakeResult(await drafting.placed(session, actor, draft, body, view), created=True)
            except Conflict as exc:
                if exc.code != "out_of_stock":
                    raise
                why.append(exc.detail)
        draft.order.status, draft.order.status_reason = OrderStatus.ON_HOLD.value, _reason(why)
        await drafting.insert_draft(session, draft)
    except Conflict as exc:  # a concurrent intake of the same order won the insert
        if exc.code != "duplicate_order":
            raise
        order_id = uuid.UUID(str(exc.extra["existing_id"]))
        order = await _resume(session, actor, order_id, problems, expected_total, channel, settings)
        return IntakeResult(order, created=False)
    view = order_view(draft.order, draft.lines, {}, channel.code)
    record_transition(session, "order.created", view, None, OrderStatus.PENDING, actor)
    record_transition(
        session, "order.on_hold", view, OrderStatus.PENDING, OrderStatus.ON_HOLD, actor, draft.order.status_reason
    )
    return IntakeResult(await drafting.placed(session, actor, draft, body, view), created=True)


async def find_order(session: AsyncSession, channel_ref: str, external_ref: str) -> uuid.UUID | None:
    """The id of the channel's order ``external_ref``, if it has one."""
    channel = await _channel(session, channel_ref)
    return await repository.find_id_by_external_ref(session, channel.id, external_ref)


async def _channel(session: AsyncSession, ref: str) -> Channel:
    """The channel (422 ``unknown_channel`` if none); one that stopped selling still takes its orders in, held."""
    return channels.check_selling(await channels.find_channel(session, ref), ref, inactive_ok=True)


async def _resume(
    session: AsyncSession,
    actor: Principal,
    order_id: uuid.UUID,
    problems: Sequence[str],
    expected_total: Money | None,
    channel: Channel,
    settings: Settings,
) -> Order:
    """Confirm an order held at intake if it can be served now; otherwise leave it exactly as it is."""
    order = await repository.get(session, order_id, for_update=True)
    if order is None:
        raise NotFound(f"No order {order_id}", code="order_not_found")
    if order.status != OrderStatus.ON_HOLD or order.held_from is not None:  # not (or no longer) an intake hold
        return await reading.view_of(session, order)
    lines = await repository.lines_of(session, order.id)
    found = await stock.load_candidates(session, [line.sku for line in lines])
    why = [
        *problems,
        *_channel_problems(channel),
        *_total_problems(expected_total, Money.from_minor(order.grand_total_minor, order.currency)),
        *drafting.sku_problems(lines, found),
    ]
    if why:
        return await reading.view_of(session, order)
    try:  # a shortfall changes nothing (reserving is all or nothing)
        await placing.reserve(session, actor, order, lines, found, channel, settings)
    except Conflict as exc:
        if exc.code != "out_of_stock":
            raise
        return await reading.view_of(session, order)
    for line in lines:
        line.sku_id, line.name = found[line.sku].sku_id, found[line.sku].name
    order.status, order.status_reason = OrderStatus.CONFIRMED.value, None
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    view = await reading.view_of(session, order)
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
    return [] if channel.active else [channel_rules.inactive_detail(channel.code)]


def _total_problems(expected: Money | None, grand_total: Money) -> list[str]:
    if expected is None or expected == grand_total:
        return []
    return [f"the storefront's total {expected} differs from the order's {grand_total} (a fee, tip or gift card?)"]


def _reason(problems: Sequence[str]) -> str:
    reason = "; ".join(problems)
    return reason if len(reason) <= REASON_MAX else reason[: REASON_MAX - 1] + "…"
