"""The seam between the warehouse floor (picking, packing) and the shipment and allocation contexts.

Picking and packing change quantities on shipment lines; the shipment's status moves only through
the shipments service (its state machine, its ``shipment.<status>`` events, its lock order: the
order, then the shipment), and a short pick is re-sourced only through the allocation service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
from oms_api.fulfillment import shipments
from oms_api.fulfillment.domain import ShipmentStatus
from oms_api.fulfillment.models import Shipment
from oms_api.kit.auth import Principal
from oms_api.kit.errors import OmsError
from oms_api.orders import service as orders

#: Orders whose shipments the warehouse may work on (the shipments context's rule).
WORKABLE_ORDER_STATUSES = tuple(s.value for s in shipments.WORKABLE)


async def lock_workable(session: AsyncSession, shipment_id: uuid.UUID) -> Shipment:
    """The shipment, locked after its order (the lock order every fulfilment writer follows); 409
    ``order_on_hold`` / ``order_not_workable`` when the warehouse may not work on it (404 if unknown)."""
    order, shipment = await shipments.lock(session, shipment_id)
    shipments.check_workable(order)
    return shipment


async def start_picking(session: AsyncSession, actor: Principal, shipment: Shipment) -> None:
    """``pending → picking`` when a pick list first takes the shipment (no change if already picking)."""
    if shipment.status == ShipmentStatus.PENDING:
        await shipments.start_picking(session, actor, shipment.id)


async def mark_packed(session: AsyncSession, actor: Principal, shipment: Shipment) -> None:
    """``→ packed`` once every unit to send is scanned into a package (through ``picking`` if need be)."""
    if shipment.status == ShipmentStatus.PENDING:  # packed straight from the shelf, without a pick list
        await shipments.start_picking(session, actor, shipment.id)
    await shipments.pack(session, actor, shipment.id)


@dataclass(frozen=True, slots=True)
class Reallocation:
    done: bool
    shipment_ids: list[str]
    reason: str | None = None  # why not, when not done (the problem code)


async def reallocate_short(
    session: AsyncSession,
    actor: Principal,
    shipment: Shipment,
    order_line_id: uuid.UUID,
    quantity: int,
) -> Reallocation:
    """Move ``quantity`` short-picked units of an order line away from the shipment's warehouse and make the
    shipment that will carry them. All or nothing, in a savepoint: when no other warehouse has the stock
    (or the order cannot be re-sourced now), nothing changes and the shortfall stays recorded for a person.
    """
    order = await orders.get_order(session, shipment.order_id)
    line_no = next(line.line_no for line in order.lines if line.id == order_line_id)
    pending = {key: list(value) for key, value in session.info.items() if isinstance(value, list)}
    try:
        async with session.begin_nested():
            await allocation.reallocate(
                session,
                actor,
                shipment.order_id,
                [allocation.Move(line_no=line_no, warehouse=shipment.warehouse_id, quantity=quantity)],
                "short pick",
            )
            created = await shipments.create_shipments(session, actor, shipment.order_id)
    except OmsError as exc:
        for key in [k for k, v in session.info.items() if isinstance(v, list) and k not in pending]:
            del session.info[key]
        session.info.update(pending)  # forget the events of the rolled-back attempt
        await session.refresh(shipment)
        return Reallocation(False, [], exc.code)
    return Reallocation(True, [str(s.id) for s in created.data])
