"""What payments may do to an order: keep its derived payment status, and hold it until its money is secured.

Payments own the money (``payments`` context); the order carries two consequences of it, because orders own the
order's row: ``payment_status`` (derived by payments from the order's transactions, stored here so that lists
can filter on it) and the ``payment`` hold, which keeps an order whose authorisation failed or is pending from
being shipped. Payments call these functions; orders never call payments (the contexts stay acyclic).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.orders import domain, reading
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.lifecycle import move

PAYMENT_HOLD = "payment"


async def set_payment_status(session: AsyncSession, order_id: uuid.UUID, status: str) -> None:
    """Store the order's payment status as payments derived it (a new version when it changed)."""
    order = await reading.load(session, order_id, for_update=True)
    if order.payment_status == status:
        return
    order.payment_status = status
    order.version += 1
    order.updated_at = utcnow()
    await session.flush()


async def hold_for_payment(session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str) -> bool:
    """Put the order on a ``payment`` hold (its stock stays reserved); False when it cannot be held now (already
    on hold, shipped or cancelled), in which case nothing changes."""
    return await hold_for(session, actor, order_id, PAYMENT_HOLD, reason)


async def hold_for(session: AsyncSession, actor: Principal, order_id: uuid.UUID, hold_type: str, reason: str) -> bool:
    """Put the order on a hold of ``hold_type`` (``payment``, ``credit``: another context's reason to stop it; its
    stock stays reserved); False when it cannot be held now (already on hold, shipped or cancelled), in which case
    nothing changes. The release endpoint resumes it."""
    order = await reading.load(session, order_id, for_update=True)
    if OrderStatus(order.status) not in domain.HOLDABLE:
        return False
    previous = move(order, OrderStatus.ON_HOLD)
    order.held_from, order.hold_type, order.status_reason = previous.value, hold_type, reason
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.on_hold", view, previous, OrderStatus.ON_HOLD, actor, reason)
    return True


async def release_payment_hold(session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str) -> bool:
    """Resume an order held for payment, in the status it had; False (nothing changes) when it is not so held."""
    order = await reading.load(session, order_id, for_update=True)
    if order.status != OrderStatus.ON_HOLD or order.hold_type != PAYMENT_HOLD:
        return False
    target = domain.release_target(OrderStatus(order.held_from) if order.held_from else None)
    previous = move(order, target)
    order.held_from, order.hold_type, order.status_reason = None, None, reason
    await session.flush()
    view = await reading.view_of(session, order)
    record_transition(session, "order.hold_released", view, previous, target, actor, reason)
    return True
