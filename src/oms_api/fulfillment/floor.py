"""The warehouse floor's steps on shipments: what picking and packing may do to a shipment and its lines.

Picking and packing record counts on shipment lines through ``record_pick`` and ``record_packed``; the
shipment's status moves only through ``shipments`` (its state machine, its ``shipment.<status>`` events, its
lock order: the order, then the shipment), and a short pick is re-sourced only through the orders service.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import shipments
from oms_api.fulfillment.domain import ShipmentStatus
from oms_api.fulfillment.models import Shipment, ShipmentLine
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import OmsError
from oms_api.orders import service as orders
from oms_api.orders.domain import WORKABLE
from oms_api.settings import Settings

WORKABLE_ORDER_STATUSES = tuple(s.value for s in WORKABLE)
"""Orders whose shipments the warehouse may work on."""


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
    settings: Settings,
) -> Reallocation:
    """Move ``quantity`` short-picked units of an order line away from the shipment's warehouse and make the
    shipment that will carry them. All or nothing, in a savepoint: when no other warehouse has the stock
    (or the order cannot be re-sourced now), nothing changes and the shortfall stays recorded for a person.
    """
    order = await orders.get_order(session, shipment.order_id)
    line_no = next(line.line_no for line in order.lines if line.id == order_line_id)
    try:
        async with outbox.savepoint(session):  # a failed attempt leaves nothing, not even its events
            await orders.reallocate(
                session,
                actor,
                shipment.order_id,
                [orders.Move(line_no=line_no, warehouse=shipment.warehouse_id, quantity=quantity)],
                "short pick",
                settings,
            )
            created = await shipments.create_shipments(session, actor, shipment.order_id)
    except OmsError as exc:
        await session.refresh(shipment)
        return Reallocation(False, [], exc.code)
    return Reallocation(True, [str(s.id) for s in created.data])


def record_pick(line: ShipmentLine, picked: int, short: int) -> None:
    """Count units picked, and units not found, on a (locked) shipment line."""
    line.picked_quantity += picked
    line.short_quantity += short


def record_packed(line: ShipmentLine, quantity: int) -> None:
    """Count units scanned into a package on a (locked) shipment line."""
    line.packed_quantity += quantity
