"""Shipment use cases: create from an order's reservations, read, and move through the lifecycle.

Locking: every change locks the ORDER row first, then the order's shipment rows (id order), then stock
levels (id order, inside ``stock.dispatch``). Order cancellation takes the same order lock first, so
shipping and cancelling one order serialise and neither can see the other half-done.

Stock: ``shipped`` (delivery) and ``picked_up`` (click-and-collect) take the units out of the warehouse
(on_hand and reserved both drop, reservations become fulfilled); cancelling before that releases them.
After every change that dispatches or delivers units the order's status rolls up from its shipments.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import domain, repository
from oms_api.fulfillment.domain import BEFORE_DISPATCH, OrderProgress, ShipmentPart, ShipmentStatus
from oms_api.fulfillment.events import ShipmentShipped
from oms_api.fulfillment.models import Shipment as ShipmentRow
from oms_api.fulfillment.models import ShipmentLine as LineRow
from oms_api.fulfillment.schemas import Shipment, ShipmentsCreated
from oms_api.fulfillment.views import record, view, views
from oms_api.kit import bus
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.orders import service as orders
from oms_api.orders.domain import SHIPMENTS_CAN_BE_MADE, WORKABLE, OrderStatus
from oms_api.stock import service as stock
from oms_api.stock.service import LineUnits, ReservationShortfall

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.orders.models import Order as OrderRow

S = ShipmentStatus


# --- reading ---------------------------------------------------------------------------------------------------


async def _get(session: AsyncSession, shipment_id: uuid.UUID) -> ShipmentRow:
    shipment = await repository.get(session, shipment_id)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}", code="shipment_not_found")
    return shipment


async def get_shipment(session: AsyncSession, shipment_id: uuid.UUID) -> Shipment:
    return await view(session, await _get(session, shipment_id))


async def shipment_of_package(session: AsyncSession, package_id: uuid.UUID) -> Shipment:
    """The shipment a package belongs to, packages included (404 ``package_not_found``)."""
    package = await repository.get_package(session, package_id)
    if package is None:
        raise NotFound(f"No package {package_id}", code="package_not_found")
    return await get_shipment(session, package.shipment_id)


async def get_row(session: AsyncSession, shipment_id: uuid.UUID) -> ShipmentRow:
    """The shipment row (404 ``shipment_not_found``), for other fulfilment use cases."""
    return await _get(session, shipment_id)


async def list_shipments(
    session: AsyncSession,
    page: PageParams,
    *,
    order_id: uuid.UUID | None = None,
    warehouse: str | None = None,
    status: str | None = None,
    tracking_number: str | None = None,
) -> Slice[Shipment]:
    warehouse_id = None
    if warehouse is not None:
        try:
            warehouse_id = (await stock.get_warehouse(session, warehouse)).id
        except NotFound:  # filtering by a warehouse that does not exist finds nothing, as other filters do
            return Slice(items=[], has_more=False, next_after=None)
    rows = await repository.list_shipments(
        session, page, order_id=order_id, warehouse_id=warehouse_id, status=status, tracking_number=tracking_number
    )
    return Slice(items=await views(session, rows.items), has_more=rows.has_more, next_after=rows.next_after)


# --- locking and moving ----------------------------------------------------------------------------------------


async def lock(session: AsyncSession, shipment_id: uuid.UUID) -> tuple[OrderRow, ShipmentRow]:
    """The shipment and its order, row-locked in the one order every writer uses: order, then shipment.

    The shipment is re-read under its lock (fresh figures); pending changes are flushed first so none is lost.
    """
    await session.flush()
    order_id = await repository.order_id_of(session, shipment_id)
    if order_id is None:
        raise NotFound(f"No shipment {shipment_id}", code="shipment_not_found")
    order = await orders.lock_order(session, order_id)
    shipment = await repository.get(session, shipment_id, for_update=True)
    assert shipment is not None  # shipments are never deleted
    return order, shipment


def check_workable(order: OrderRow) -> None:
    """The warehouse may only work on shipments of an order that is allocated and not held or cancelled."""
    status = OrderStatus(order.status)
    if status in WORKABLE:
        return
    if status == OrderStatus.ON_HOLD:
        raise Conflict(
            f"Order {order.id} is on hold ({order.status_reason}): release it first",
            code="order_on_hold",
            order_status=status.value,
        )
    raise Conflict(f"Order {order.id} is {status.value}", code="order_not_workable", order_status=status.value)


def move(shipment: ShipmentRow, target: ShipmentStatus, reason: str | None = None) -> ShipmentStatus:
    """Apply the shipment state machine (409 ``illegal_transition`` naming the allowed moves)."""
    current = S(shipment.status)
    try:
        domain.transition(current, target, pickup=shipment.pickup)
    except domain.IllegalShipmentTransition as exc:
        raise Conflict(
            str(exc),
            code="illegal_transition",
            current_status=current.value,
            allowed_transitions=[s.value for s in exc.allowed],
        ) from exc
    now = utcnow()
    shipment.status = target.value
    shipment.status_reason = reason
    shipment.version += 1
    shipment.updated_at = now
    if target in domain.DISPATCHING:
        shipment.shipped_at = now
    if target in domain.RECEIVED:
        shipment.delivered_at = now
    return current


async def units(session: AsyncSession, shipment: ShipmentRow) -> list[LineUnits]:
    """What leaves (or goes back) with the shipment: each line's quantity less what was short at pick time."""
    lines = (await repository.lines_of(session, [shipment.id])).get(shipment.id, [])
    return [
        LineUnits(
            row.ShipmentLine.order_line_id,
            row.ShipmentLine.sku_id,
            domain.to_dispatch(row.ShipmentLine.quantity, row.ShipmentLine.short_quantity),
        )
        for row in lines
    ]


async def dispatch_stock(session: AsyncSession, actor: Principal, shipment: ShipmentRow) -> None:
    """Take the shipment's units out of stock (409 ``reservation_missing`` if the order no longer holds them), and
    publish ``ShipmentShipped``: every path that ships or hands over a shipment comes through here."""
    leaving = await units(session, shipment)
    try:
        moved = await stock.dispatch(
            session,
            order_id=shipment.order_id,
            warehouse_id=shipment.warehouse_id,
            lines=leaving,
            reference=f"shipment:{shipment.id}",
            actor=actor.actor,
        )
    except ReservationShortfall as exc:
        raise Conflict(
            f"The order no longer holds the stock this shipment needs: {exc}",
            code="reservation_missing",
            order_line_id=str(exc.order_line_id),
            needed=exc.needed,
            held=exc.held,
        ) from exc
    if moved == 0:
        raise Conflict("Every unit of this shipment was short at pick time: nothing ships", code="nothing_to_ship")
    shipped = tuple((u.order_line_id, u.quantity) for u in leaving if u.quantity > 0)
    await bus.publish(session, ShipmentShipped(shipment.order_id, shipment.id, shipped, actor))


async def release_stock(session: AsyncSession, actor: Principal, shipment: ShipmentRow, reason: str | None) -> int:
    return await stock.release_shipment(
        session,
        order_id=shipment.order_id,
        warehouse_id=shipment.warehouse_id,
        lines=await units(session, shipment),
        reference=f"shipment:{shipment.id}",
        actor=actor.actor,
        reason=reason,
    )


async def roll_up(session: AsyncSession, actor: Principal, order: OrderRow) -> None:
    """Move the (locked) order as far as its shipments have got: partially_shipped, shipped, delivered."""
    try:
        current = OrderProgress(order.status)
    except ValueError:  # held, cancelled, completed…: shipments do not drive it from there
        return
    shipments = await repository.of_order(session, order.id)
    lines = await repository.lines_of(session, [s.id for s in shipments])
    parts = []
    for shipment in shipments:
        carried: dict[uuid.UUID, int] = defaultdict(int)
        for row in lines.get(shipment.id, []):
            carried[row.ShipmentLine.order_line_id] += domain.to_dispatch(
                row.ShipmentLine.quantity, row.ShipmentLine.short_quantity
            )
        parts.append(ShipmentPart(S(shipment.status), carried))
    order_view = await orders.view_of(session, order)
    ordered = {line.id: line.quantity - line.cancelled_quantity for line in order_view.lines}
    target = domain.rollup(ordered, parts)
    for step in domain.progress_steps(current, target):
        await orders.advance(session, actor, order, OrderStatus(step.value), reason="rolled up from its shipments")


# --- creating --------------------------------------------------------------------------------------------------


async def create_shipments(session: AsyncSession, actor: Principal, order_id: uuid.UUID) -> ShipmentsCreated:
    """One shipment per warehouse for the order's reserved units that no open shipment carries yet.

    The order becomes ``allocated`` (``order.allocated``); each shipment records ``shipment.created``.
    Called again after a re-allocation, it makes shipments for the moved units only.
    """
    order = await orders.lock_order(session, order_id)
    status = OrderStatus(order.status)
    if status not in SHIPMENTS_CAN_BE_MADE:
        code = "order_on_hold" if status == OrderStatus.ON_HOLD else "order_not_allocatable"
        raise Conflict(f"Order {order.id} is {status.value}: no shipments can be made", code=code, order_status=status)
    existing = await repository.of_order(session, order.id, for_update=True)
    existing_lines = await repository.lines_of(session, [s.id for s in existing])
    covered = [
        domain.Covered(
            s.warehouse_id,
            row.ShipmentLine.order_line_id,
            domain.to_dispatch(row.ShipmentLine.quantity, row.ShipmentLine.short_quantity),
        )
        for s in existing
        if S(s.status) in BEFORE_DISPATCH
        for row in existing_lines.get(s.id, [])
    ]
    by_line = await stock.allocations_for(session, [order.id])
    held = [
        domain.Held(a.warehouse_id, line_id, a.quantity)
        for line_id, allocations in by_line.items()
        for a in allocations
        if a.status == "active"
    ]
    todo = domain.uncovered(held, covered)
    if not todo:
        raise Conflict(
            "Every reserved unit of the order already has a shipment", code="nothing_to_allocate", order_status=status
        )
    order_view = await orders.view_of(session, order)
    sku_of = {line.id: line.sku_id for line in order_view.lines}
    now = utcnow()
    made: list[ShipmentRow] = []
    for warehouse_id, quantities in todo.items():
        shipment = ShipmentRow(
            id=uuid7(),
            order_id=order.id,
            warehouse_id=warehouse_id,
            status=S.PENDING.value,
            pickup=warehouse_id == order.pickup_warehouse_id,
            version=1,
            created_at=now,
            updated_at=now,
        )
        lines = [
            LineRow(
                id=uuid7(),
                shipment_id=shipment.id,
                order_line_id=line_id,
                sku_id=sku_of[line_id],
                quantity=quantity,
                picked_quantity=0,
                short_quantity=0,
                packed_quantity=0,
            )
            for line_id, quantity in quantities.items()
        ]
        await repository.add_lines(session, shipment, lines)
        made.append(shipment)
    if status == OrderStatus.CONFIRMED:
        await orders.advance(session, actor, order, OrderStatus.ALLOCATED, reason=f"{len(made)} shipment(s) created")
    created = await views(session, made)
    for shipment_view in created:
        record(session, actor, shipment_view, None, type_="shipment.created")
    return ShipmentsCreated(order_id=order.id, order_status=order.status, data=created)


# --- warehouse steps -------------------------------------------------------------------------------------------


async def _warehouse_step(
    session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, target: ShipmentStatus
) -> Shipment:
    order, shipment = await lock(session, shipment_id)
    check_workable(order)
    previous = move(shipment, target)
    if target in domain.DISPATCHING:
        await dispatch_stock(session, actor, shipment)
    await session.flush()
    if target in domain.DISPATCHING:
        await roll_up(session, actor, order)
    result = await view(session, shipment)
    record(session, actor, result, previous)
    return result


async def start_picking(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID) -> Shipment:
    return await _warehouse_step(session, actor, shipment_id, S.PICKING)


async def pack(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID) -> Shipment:
    return await _warehouse_step(session, actor, shipment_id, S.PACKED)


async def ready_for_pickup(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID) -> Shipment:
    return await _warehouse_step(session, actor, shipment_id, S.READY_FOR_PICKUP)


async def picked_up(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID) -> Shipment:
    """The customer collected it: the units leave the warehouse and count as delivered."""
    return await _warehouse_step(session, actor, shipment_id, S.PICKED_UP)


async def cancel(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, reason: str) -> Shipment:
    """Cancel a shipment that has not left: its reserved units go back to available stock."""
    _, shipment = await lock(session, shipment_id)
    previous = move(shipment, S.CANCELLED, reason)
    await release_stock(session, actor, shipment, reason)
    await session.flush()
    result = await view(session, shipment)
    record(session, actor, result, previous, reason=reason)
    return result


async def cancel_open_shipments(session: AsyncSession, actor: Principal, order_id: uuid.UUID, reason: str) -> None:
    """The order was cancelled (its reservations already released): its shipments still open end too."""
    for shipment in await repository.of_order(session, order_id, for_update=True):
        if S(shipment.status) not in BEFORE_DISPATCH:
            continue
        previous = move(shipment, S.CANCELLED, reason)
        await session.flush()
        record(session, actor, await view(session, shipment), previous, reason=reason)


# --- the carrier leg -------------------------------------------------------------------------------------------


async def carrier_step(
    session: AsyncSession,
    actor: Principal,
    shipment_id: uuid.UUID,
    target: ShipmentStatus,
    reason: str | None = None,
    estimated_delivery_date: date | None = None,
) -> Shipment:
    """A by-hand step after shipping (delivered, exception, returned to sender)."""
    order, shipment = await lock(session, shipment_id)
    previous = move(shipment, target, reason)
    if estimated_delivery_date is not None:
        shipment.estimated_delivery_date = estimated_delivery_date
    await session.flush()
    await roll_up(session, actor, order)
    result = await view(session, shipment)
    record(session, actor, result, previous, reason=reason)
    return result
