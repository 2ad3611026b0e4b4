"""Order use cases after placement: read, list, history, edit, hold, release, cancel."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.etags import check_if_match
from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams, Slice
from oms_api.orders import domain, repository
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.schemas import Order, OrderUpdate
from oms_api.orders.views import order_view
from oms_api.stock import reservations


async def _load(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> OrderRow:
    order = await repository.get(session, order_id, for_update=for_update)
    if order is None:
        raise NotFound(f"No order {order_id}", code="order_not_found")
    return order


async def view_of(session: AsyncSession, order: OrderRow) -> Order:
    lines = await repository.lines_of(session, order.id)
    allocations = await reservations.allocations_for(session, [order.id])
    channel = await channels.get_channel(session, str(order.channel_id))
    return order_view(order, lines, allocations, channel.code)


async def get_order(session: AsyncSession, order_id: uuid.UUID) -> Order:
    return await view_of(session, await _load(session, order_id))


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    channel: str | None = None,
    customer_id: uuid.UUID | None = None,
    tag: str | None = None,
    external_ref: str | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
) -> Slice[OrderRow]:
    channel_id = None
    if channel:
        try:
            channel_id = (await channels.get_channel(session, channel)).id
        except NotFound:  # filtering by a channel that does not exist finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_orders(
        session,
        page,
        status=status,
        channel_id=channel_id,
        customer_id=customer_id,
        tag=tag,
        external_ref=external_ref,
        placed_after=placed_after,
        placed_before=placed_before,
    )


async def history(session: AsyncSession, order_id: uuid.UUID) -> list[Event]:
    await _load(session, order_id)
    return await repository.events_of(session, order_id)


def _move(order: OrderRow, target: OrderStatus) -> OrderStatus:
    """Apply the state machine; an illegal move is a 409 naming the allowed ones."""
    current = OrderStatus(order.status)
    try:
        domain.transition(current, target)
    except domain.IllegalTransition as exc:
        raise Conflict(
            str(exc),
            code="illegal_transition",
            current_status=current.value,
            allowed_transitions=[s.value for s in exc.allowed],
        ) from exc
    order.status = target.value
    order.version += 1
    order.updated_at = utcnow()
    return current


async def cancel_order(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str, if_match: str | None
) -> Order:
    """Cancel and give every reserved unit back to stock."""
    order = await _load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    previous = _move(order, OrderStatus.CANCELLED)
    order.status_reason = reason
    order.held_from = None
    await reservations.release_for_order(
        session, order.id, reference=f"order:{order.id}", actor=actor.actor, reason=reason
    )
    # Imported here: fulfilment calls into this module (lock_order, advance), so a top-level import would cycle.
    import oms_api.fulfillment.shipments as shipments

    await shipments.cancel_open_shipments(session, actor, order.id, reason)
    await session.flush()
    view = await view_of(session, order)
    record_transition(session, "order.cancelled", view, previous, OrderStatus.CANCELLED, actor, reason)
    return view


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> OrderRow:
    """The order, row-locked until the transaction ends (fulfilment locks the order before its shipments)."""
    return await _load(session, order_id, for_update=True)


async def advance(
    session: AsyncSession, actor: Principal, order: OrderRow, target: OrderStatus, reason: str | None = None
) -> Order:
    """Move a locked order one step of its lifecycle and record ``order.<target>`` (fulfilment drives
    allocated, partially_shipped, shipped and delivered)."""
    previous = _move(order, target)
    await session.flush()
    view = await view_of(session, order)
    record_transition(session, f"order.{target.value}", view, previous, target, actor, reason)
    return view


async def hold_order(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str, if_match: str | None
) -> Order:
    """Stop an order (fraud check, address query…); its stock stays reserved."""
    order = await _load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    previous = _move(order, OrderStatus.ON_HOLD)
    order.held_from = previous.value
    order.status_reason = reason
    await session.flush()
    view = await view_of(session, order)
    record_transition(session, "order.on_hold", view, previous, OrderStatus.ON_HOLD, actor, reason)
    return view


async def release_hold(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str | None, if_match: str | None
) -> Order:
    """Resume an order held with ``hold_order``, in the status it had."""
    order = await _load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    if order.status != OrderStatus.ON_HOLD:
        raise Conflict(
            f"Order is {order.status}, not on hold",
            code="not_on_hold",
            current_status=order.status,
            allowed_transitions=sorted(domain.TRANSITIONS[OrderStatus(order.status)]),
        )
    target = domain.release_target(OrderStatus(order.held_from) if order.held_from else None)
    previous = _move(order, target)
    order.held_from = None
    order.status_reason = reason
    await session.flush()
    view = await view_of(session, order)
    record_transition(session, "order.hold_released", view, previous, target, actor, reason)
    return view


async def update_order(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, data: OrderUpdate, if_match: str | None
) -> Order:
    """Change addresses, tags or notes while the order has not shipped."""
    order = await _load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return await view_of(session, order)
    touches_address = {"shipping_address", "billing_address"} & changes.keys()
    if touches_address and OrderStatus(order.status) not in domain.EDITABLE:
        raise Conflict(
            f"The addresses of an order that is {order.status} cannot change",
            code="order_not_editable",
            current_status=order.status,
        )
    if "shipping_address" in changes and changes["shipping_address"] is None:
        changes.pop("shipping_address")
    for field, value in changes.items():
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if v is not None}
        setattr(order, field, sorted(set(value)) if field == "tags" else value)
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()
    view = await view_of(session, order)
    record_transition(session, "order.updated", view, None, None, actor)
    return view
