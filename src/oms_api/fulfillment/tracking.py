"""Tracking: what carriers (webhooks) and people (manual updates) report about shipments on their way.

Every report is kept as a tracking event. A report moves the shipment only when the lifecycle allows it:
carriers resend and reorder updates, so a stale one (``in_transit`` after ``delivered``) is history only.
A person's update is held to the lifecycle strictly (an impossible move is a 409). Reports never ship a
shipment: stock leaves the warehouse only when the warehouse says so.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import domain, repository, shipments, views
from oms_api.fulfillment.domain import BEFORE_DISPATCH, Report, ShipmentStatus
from oms_api.fulfillment.models import Shipment as ShipmentRow
from oms_api.fulfillment.models import TrackingEvent as EventRow
from oms_api.fulfillment.schemas import (
    CarrierWebhookReceipt,
    ManualStatus,
    TrackingEvent,
    TrackingEventCreate,
    TrackingEventList,
    TrackingEventResult,
)
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.ids import uuid7

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.orders.models import Order as OrderRow

S = ShipmentStatus
#: Statuses whose report explains itself in ``status_reason``.
EXPLAINED = frozenset({S.EXCEPTION, S.RETURNED_TO_SENDER})


async def apply(
    session: AsyncSession, actor: Principal, order: OrderRow, shipment: ShipmentRow, report: Report, *, strict: bool
) -> tuple[EventRow, bool]:
    """Keep the report and move the (locked) shipment if it may; returns the event and whether it moved."""
    current = S(shipment.status)
    target: ShipmentStatus | None = None
    if report.status is not None and report.status != current:
        if current in BEFORE_DISPATCH:
            if strict:
                raise Conflict(
                    f"The shipment is {current.value}: ship it before reporting its journey",
                    code="shipment_not_dispatched",
                    current_status=current.value,
                )
        elif strict:
            target = report.status
        else:
            target = domain.carrier_update_target(current, report.status, pickup=shipment.pickup)
    previous = None
    if target is not None:
        reason = report.description if target in EXPLAINED else None
        previous = shipments.move(shipment, target, reason)
    eta_changed = (
        report.estimated_delivery_date is not None
        and report.estimated_delivery_date != shipment.estimated_delivery_date
    )
    if eta_changed:
        shipment.estimated_delivery_date = report.estimated_delivery_date
        if target is None:
            shipment.version += 1
            shipment.updated_at = utcnow()
    event = EventRow(
        id=uuid7(),
        shipment_id=shipment.id,
        package_id=report.package_id,
        tracking_number=report.tracking_number,
        source=report.source,
        carrier_status=report.carrier_status,
        status=report.status.value if report.status else None,
        applied=target is not None,
        description=report.description,
        location=report.location,
        estimated_delivery_date=report.estimated_delivery_date,
        occurred_at=report.occurred_at,
        actor=actor.actor,
        created_at=utcnow(),
    )
    await repository.add_tracking_event(session, event)
    if target is not None:
        await shipments.roll_up(session, actor, order)
        views.record(session, actor, await views.view(session, shipment), previous, reason=report.description)
    elif eta_changed:
        view = await views.view(session, shipment)
        views.record(session, actor, view, None, type_="shipment.updated", reason="estimated delivery date changed")
    return event, target is not None


async def add_manual(
    session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, body: TrackingEventCreate
) -> TrackingEventResult:
    """A person's tracking update (a phone call with the carrier, a scan the carrier does not report)."""
    order, shipment = await shipments.lock(session, shipment_id)
    package_id = None
    if body.tracking_number is not None:
        package = await repository.package_by_tracking_number(session, body.tracking_number)
        if package is None or package.shipment_id != shipment.id:
            raise field_error(
                "/body/tracking_number", "no package of this shipment has this number", "unknown_tracking_number"
            )
        package_id = package.id
    report = Report(
        source="manual",
        carrier_status=body.status.value,
        status=None if body.status == ManualStatus.INFO else S(body.status.value),
        occurred_at=body.occurred_at or utcnow(),
        description=body.description,
        location=body.location,
        estimated_delivery_date=body.estimated_delivery_date,
        tracking_number=body.tracking_number,
        package_id=package_id,
    )
    event, _ = await apply(session, actor, order, shipment, report, strict=True)
    return TrackingEventResult(event=TrackingEvent.model_validate(event), shipment=await views.view(session, shipment))


async def list_events(session: AsyncSession, shipment_id: uuid.UUID) -> TrackingEventList:
    await shipments.get_row(session, shipment_id)
    events = await repository.tracking_events_of(session, shipment_id)
    return TrackingEventList(data=[TrackingEvent.model_validate(e) for e in events])


async def apply_carrier_report(session: AsyncSession, actor: Principal, report: Report) -> tuple[str, str | None]:
    """A carrier's report about a tracking number: ``(outcome, detail)`` with outcome applied, recorded or
    ignored (a number no package has: another system's parcel, or a recycled number)."""
    if report.tracking_number is None:
        return "ignored", "no tracking code"
    package = await repository.package_by_tracking_number(session, report.tracking_number)
    if package is None:
        return "ignored", f"no package has tracking number {report.tracking_number}"
    order, shipment = await shipments.lock(session, package.shipment_id)
    stamped = replace(report, package_id=package.id)
    _, applied = await apply(session, actor, order, shipment, stamped, strict=False)
    if applied:
        return "applied", f"shipment {shipment.id} is {shipment.status}"
    return "recorded", f"shipment {shipment.id} stays {shipment.status}"


async def receive(
    session: AsyncSession,
    actor: Principal,
    *,
    source: str,
    external_id: str,
    type_: str,
    body: str,
    report: Report | None,
) -> CarrierWebhookReceipt:
    """Store a carrier webhook delivery raw (deduplicated by its event id), then apply it in the same transaction."""
    inbound_id = uuid7()
    stored = await repository.store_inbound(
        session,
        {
            "id": inbound_id,
            "source": source,
            "external_id": external_id,
            "type": type_[:64] or None,
            "body": body,
            "received_at": utcnow(),
            "outcome": None,
            "detail": None,
        },
    )
    if not stored:
        return CarrierWebhookReceipt(id=None, duplicate=True, outcome="duplicate", detail=None)
    detail: str | None
    if report is None:
        outcome, detail = "ignored", f"{type_ or 'untyped'} events carry no tracking update"
    else:
        outcome, detail = await apply_carrier_report(session, actor, report)
    inbound = await repository.get_inbound(session, inbound_id)
    assert inbound is not None
    inbound.outcome = outcome
    inbound.detail = detail[:500] if detail else None
    inbound.processed_at = utcnow()
    await session.flush()
    return CarrierWebhookReceipt(id=inbound_id, duplicate=False, outcome=outcome, detail=detail)
