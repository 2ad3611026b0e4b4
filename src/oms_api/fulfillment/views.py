"""Shipments as the API and their events show them: lines, packages and warehouse codes, read in a few queries
however many shipments; and ``record``, which writes a ``shipment.*`` event with that view."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment import domain, repository
from oms_api.fulfillment.domain import ShipmentStatus
from oms_api.fulfillment.models import Package as PackageRow
from oms_api.fulfillment.models import Shipment as ShipmentRow
from oms_api.fulfillment.schemas import Shipment, ShipmentLine, ShipmentPackage
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.stock import service as stock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    pass

S = ShipmentStatus


# --- views -----------------------------------------------------------------------------------------------------


async def views(session: AsyncSession, shipments: Sequence[ShipmentRow]) -> list[Shipment]:
    """The wire form of shipments (lines, packages, warehouse codes) in four queries however many."""
    ids = [s.id for s in shipments]
    lines = await repository.lines_of(session, ids)
    packages = await repository.packages_of(session, ids)
    codes: dict[uuid.UUID, str] = {}
    for warehouse_id in {s.warehouse_id for s in shipments}:
        codes[warehouse_id] = (await stock.get_warehouse(session, str(warehouse_id))).code
    return [_view(s, codes[s.warehouse_id], lines.get(s.id, []), packages.get(s.id, [])) for s in shipments]


async def view(session: AsyncSession, shipment: ShipmentRow) -> Shipment:
    return (await views(session, [shipment]))[0]


def _view(shipment: ShipmentRow, warehouse: str, lines: Sequence[Any], packages: Sequence[PackageRow]) -> Shipment:
    price = None
    if shipment.shipping_price_minor is not None and shipment.shipping_currency:
        price = MoneyOut.of(Money.from_minor(shipment.shipping_price_minor, shipment.shipping_currency))
    return Shipment(
        id=shipment.id,
        order_id=shipment.order_id,
        warehouse=warehouse,
        warehouse_id=shipment.warehouse_id,
        status=shipment.status,
        status_reason=shipment.status_reason,
        allowed_transitions=[s.value for s in domain.allowed(S(shipment.status), shipment.pickup)],
        pickup=shipment.pickup,
        carrier=shipment.carrier_code,
        service=shipment.service_code,
        shipping_price=price,
        shipping_choice=shipment.shipping_choice,
        promised_ship_date=shipment.promised_ship_date,
        promised_delivery_date=shipment.promised_delivery_date,
        estimated_delivery_date=shipment.estimated_delivery_date,
        tracking_numbers=[p.tracking_number for p in packages if p.tracking_number],
        lines=[
            ShipmentLine(
                id=row.ShipmentLine.id,
                order_line_id=row.ShipmentLine.order_line_id,
                sku=row.sku,
                sku_id=row.ShipmentLine.sku_id,
                name=row.name,
                quantity=row.ShipmentLine.quantity,
                picked_quantity=row.ShipmentLine.picked_quantity,
                short_quantity=row.ShipmentLine.short_quantity,
                packed_quantity=row.ShipmentLine.packed_quantity,
            )
            for row in lines
        ],
        packages=[ShipmentPackage.model_validate(p) for p in packages],
        shipped_at=shipment.shipped_at,
        delivered_at=shipment.delivered_at,
        created_at=shipment.created_at,
        updated_at=shipment.updated_at,
        version=shipment.version,
    )


def record(
    session: AsyncSession,
    actor: Principal,
    shipment_view: Shipment,
    previous: ShipmentStatus | None,
    *,
    type_: str | None = None,
    reason: str | None = None,
) -> None:
    """Record ``shipment.<status>`` (or ``type_``) with the whole shipment as it now stands."""
    data = shipment_view.model_dump(mode="json")
    data["previous_status"] = previous.value if previous else None
    name = type_ or f"shipment.{shipment_view.status}"
    outbox.record(session, name, "shipment", shipment_view.id, data, actor=actor.actor, reason=reason)
