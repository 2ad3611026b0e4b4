"""Confirming picks by scanning: a wrong barcode records nothing; fewer units than asked is a short pick, which
is re-sourced elsewhere when it can be."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.fulfillment import floor
from oms_api.fulfillment.models import Shipment
from oms_api.fulfillment.picking import domain, pick_lists, repository
from oms_api.fulfillment.picking.domain import ListStatus
from oms_api.fulfillment.picking.models import PickListLine
from oms_api.fulfillment.picking.schemas import (
    PickConfirm,
)
from oms_api.fulfillment.picking.schemas import PickList as PickListOut
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable
from oms_api.settings import Settings

DEFAULT_CONSOLIDATION_POINT = "CONSOLIDATION"


# --- pick lists: confirming ------------------------------------------------------------------------------------


async def confirm_line(
    session: AsyncSession,
    actor: Principal,
    pick_list_id: uuid.UUID,
    line_id: uuid.UUID,
    data: PickConfirm,
    settings: Settings,
) -> PickListOut:
    """Confirm a line by scanning: a wrong barcode is refused (422) and records nothing; fewer units than
    asked is a short pick, recorded on the shipment line and handed to re-allocation."""
    pick_list = await pick_lists.pick_list(session, pick_list_id, for_update=True)
    line = await repository.get_line(session, pick_list_id, line_id, for_update=True)
    if line is None:
        raise NotFound(f"No line {line_id} on pick list {pick_list_id}", code="pick_list_line_not_found")
    if line.status != domain.LineStatus.OPEN:
        raise Conflict("This line is already confirmed", code="pick_line_already_confirmed", line_status=line.status)
    sku = await catalog.get_sku(session, str(line.sku_id))
    if not domain.barcode_matches(data.barcode, sku.barcode, sku.sku):
        raise Unprocessable(
            f"The scanned barcode is not SKU {sku.sku!r}; nothing was recorded", code="wrong_barcode", sku=sku.sku
        )
    try:
        confirmation = domain.confirm(line.quantity, data.quantity)
    except domain.OverPick as exc:
        raise Unprocessable(str(exc), code="over_pick", requested=line.quantity) from exc
    shipment = await floor.lock_workable(session, line.shipment_id)
    if shipment.status not in repository.PICKABLE_STATUSES:
        raise Conflict(
            f"The shipment is {shipment.status}; its picks can no longer be confirmed",
            code="shipment_not_pickable",
            shipment_status=shipment.status,
        )
    shipment_line = await repository.get_shipment_line(session, line.shipment_line_id, for_update=True)
    assert shipment_line is not None  # foreign key
    floor.record_pick(shipment_line, confirmation.picked, confirmation.short)
    line.picked_quantity = confirmation.picked
    line.short_quantity = confirmation.short
    line.status = confirmation.status.value
    line.confirmed_at = utcnow()
    await session.flush()
    new_status = domain.list_status(await repository.statuses_of(session, pick_list.id))
    completed = new_status is ListStatus.COMPLETED and pick_list.status != ListStatus.COMPLETED
    pick_list.status = new_status.value
    pick_list.version += 1
    if completed:
        pick_list.completed_at = utcnow()
    await session.flush()
    outbox.record(
        session,
        "pick_list.line_confirmed",
        "pick_list",
        pick_list.id,
        {
            "pick_list_id": str(pick_list.id),
            "line_id": str(line.id),
            "shipment_id": str(line.shipment_id),
            "shipment_line_id": str(line.shipment_line_id),
            "sku": sku.sku,
            "quantity": line.quantity,
            "picked_quantity": line.picked_quantity,
            "short_quantity": line.short_quantity,
            "status": line.status,
        },
        actor=actor.actor,
    )
    if confirmation.short:
        await _short_picked(session, actor, shipment, shipment_line.order_line_id, line, sku.sku, settings)
    await _maybe_picked(session, actor, shipment)
    view = (await pick_lists.views(session, [pick_list]))[0]
    if completed:
        snapshot = pick_lists.list_snapshot(view)
        outbox.record(session, "pick_list.completed", "pick_list", view.id, snapshot, actor=actor.actor)
    return view


async def _short_picked(
    session: AsyncSession,
    actor: Principal,
    shipment: Shipment,
    order_line_id: uuid.UUID,
    line: PickListLine,
    sku: str,
    settings: Settings,
) -> None:
    """Re-allocate the missing units to another warehouse (with the shipment that carries them), and
    record ``shipment.short_picked`` saying whether that worked; if not, the shortfall waits for a person."""
    outcome = await floor.reallocate_short(session, actor, shipment, order_line_id, line.short_quantity, settings)
    outbox.record(
        session,
        "shipment.short_picked",
        "shipment",
        shipment.id,
        {
            "shipment_id": str(shipment.id),
            "order_id": str(shipment.order_id),
            "warehouse_id": str(shipment.warehouse_id),
            "shipment_line_id": str(line.shipment_line_id),
            "order_line_id": str(order_line_id),
            "sku_id": str(line.sku_id),
            "sku": sku,
            "short_quantity": line.short_quantity,
            "pick_list_id": str(line.pick_list_id),
            "reallocated": outcome.done,
            "new_shipment_ids": outcome.shipment_ids,
            "not_reallocated_because": outcome.reason,
        },
        actor=actor.actor,
        reason="short_pick",
    )


async def _maybe_picked(session: AsyncSession, actor: Principal, shipment: Shipment) -> None:
    lines = await repository.shipment_lines(session, shipment.id)
    if not lines or any(sl.picked_quantity + sl.short_quantity < sl.quantity for sl in lines):
        return
    outbox.record(
        session,
        "shipment.picked",
        "shipment",
        shipment.id,
        {
            "shipment_id": str(shipment.id),
            "order_id": str(shipment.order_id),
            "warehouse_id": str(shipment.warehouse_id),
            "picked_units": sum(sl.picked_quantity for sl in lines),
            "short_units": sum(sl.short_quantity for sl in lines),
        },
        actor=actor.actor,
    )
