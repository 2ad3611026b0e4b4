"""Order events: one snapshot of the order per transition, written to the outbox."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.orders.domain import TRANSITIONS, OrderStatus
from oms_api.orders.schemas import Order
from oms_api.orders.views import snapshot


def record_transition(
    session: AsyncSession,
    type_: str,
    view: Order,
    from_status: OrderStatus | None,
    to_status: OrderStatus | None,
    actor: Principal,
    reason: str | None = None,
) -> None:
    """Record ``type_`` with the order as it stands after this step (``previous_status`` says where it was)."""
    data = snapshot(view)
    if to_status is not None:
        data["status"] = to_status.value
        data["allowed_transitions"] = sorted(TRANSITIONS[to_status])
    data["previous_status"] = from_status.value if from_status else None
    outbox.record(session, type_, "order", view.id, data, actor=actor.actor, reason=reason)
