"""An order's lifecycle after placement: cancel, hold, release, edit, and the steps fulfilment drives.

Cancelling gives every reserved unit back to stock and publishes ``OrderCancelled`` on the event bus; the
contexts that care (fulfilment closes the order's open shipments) react in the same transaction.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import bus
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.etags import check_if_match
from oms_api.orders import domain, reading, repository
from oms_api.orders.domain import CREDIT_HOLD, OrderStatus
from oms_api.orders.events import OrderCancelled
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.schemas import Order, OrderUpdate
from oms_api.stock import service as stock


def move(order: OrderRow, target: OrderStatus) -> OrderStatus:
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
    """Cancel and give every reserved unit back to stock; of a partly shipped order, cancel what has not shipped."""
    order = await reading.load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    if order.status == OrderStatus.PARTIALLY_SHIPPED:
        return await _cancel_remainder(session, actor, order, reason)
    previous = move(order, OrderStatus.CANCELLED)
    order.status_reason = reason
    order.held_from = None
    order.hold_type = None
    await stock.release_for_order(session, order.id, actor=actor.actor, reason=reason)
    await bus.publish(session, OrderCancelled(order.id, reason, actor))
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.cancelled", view, previous, OrderStatus.CANCELLED, actor, reason)
    return view


async def _cancel_remainder(session: AsyncSession, actor: Principal, order: OrderRow, reason: str) -> Order:
    """A partly shipped order keeps what left; every unit that has not is cancelled (``cancelled_quantity``), its
    stock given back, and the order becomes ``shipped``. ``OrderCancelled(remainder=True)`` lets fulfilment close
    the open shipments and payments void what remains authorised."""
    allocations = await stock.allocations_for(session, [order.id])
    for line in await repository.lines_of(session, order.id):
        dispatched = sum(a.quantity for a in allocations.get(line.id, []) if a.status == "fulfilled")
        line.cancelled_quantity = max(line.quantity - dispatched, 0)
    previous = move(order, OrderStatus.SHIPPED)
    order.status_reason = f"remainder cancelled: {reason}"[:500]
    await stock.release_for_order(session, order.id, actor=actor.actor, reason=reason)
    await bus.publish(session, OrderCancelled(order.id, reason, actor, remainder=True))
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.remainder_cancelled", view, previous, OrderStatus.SHIPPED, actor, reason)
    return view


async def lock_order(session: AsyncSession, order_id: uuid.UUID) -> OrderRow:
    """The order, row-locked until the transaction ends (fulfilment locks the order before its shipments)."""
    return await reading.load(session, order_id, for_update=True)


async def advance(
    session: AsyncSession, actor: Principal, order: OrderRow, target: OrderStatus, reason: str | None = None
) -> Order:
    """Move a locked order one step of its lifecycle and record ``order.<target>`` (fulfilment drives
    allocated, partially_shipped, shipped and delivered)."""
    previous = move(order, target)
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, f"order.{target.value}", view, previous, target, actor, reason)
    return view


async def hold_order(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str, if_match: str | None
) -> Order:
    """Stop an order (fraud check, address query…); its stock stays reserved."""
    order = await reading.load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    previous = move(order, OrderStatus.ON_HOLD)
    order.held_from = previous.value
    order.hold_type = "manual"
    order.status_reason = reason
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.on_hold", view, previous, OrderStatus.ON_HOLD, actor, reason)
    return view


async def release_hold(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str | None, if_match: str | None
) -> Order:
    """Resume a held order in the status it had. A ``credit`` hold (over the customer's credit limit) needs a
    reason: it is a decision to extend credit."""
    order = await reading.load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    if order.status != OrderStatus.ON_HOLD:
        raise Conflict(
            f"Order is {order.status}, not on hold",
            code="not_on_hold",
            current_status=order.status,
            allowed_transitions=sorted(domain.TRANSITIONS[OrderStatus(order.status)]),
        )
    if order.hold_type == CREDIT_HOLD and not (reason and reason.strip()):
        raise field_error(
            "/body/reason",
            "releasing a credit hold takes a reason (who approved the credit, and why)",
            "reason_required",
        )
    target = domain.release_target(OrderStatus(order.held_from) if order.held_from else None)
    previous = move(order, target)
    order.held_from = None
    order.hold_type = None
    order.status_reason = reason
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.hold_released", view, previous, target, actor, reason)
    return view


async def update_order(
    session: AsyncSession, actor: Principal, order_id: uuid.UUID, data: OrderUpdate, if_match: str | None
) -> Order:
    """Change addresses, tags or notes while the order has not shipped."""
    order = await reading.load(session, order_id, for_update=True)
    check_if_match(if_match, order.version)
    changes = data.model_dump(exclude_unset=True, mode="json")
    if not changes:
        return await reading.view_of(session, order)
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
    view = await reading.view_of(session, order)
    record_transition(session, "order.updated", view, None, None, actor)
    return view
