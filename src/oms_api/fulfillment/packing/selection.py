"""Choosing boxes for what a shipment still has to pack: the cheapest set of the warehouse's boxes (3-D packer)."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment.models import Shipment, ShipmentLine
from oms_api.fulfillment.packing import domain, repository
from oms_api.fulfillment.packing.models import BoxType
from oms_api.fulfillment.packing.schemas import BoxSelection as BoxSelectionOut
from oms_api.fulfillment.packing.schemas import LineQuantity as LineQuantityOut
from oms_api.fulfillment.packing.schemas import (
    PlacedUnit,
    Point,
    SelectedBox,
    Size,
    UnfittedUnits,
)
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.money import Money as DomainMoney
from oms_api.kit.money import from_minor
from oms_api.kit.schemas import Money

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.catalog.models import Sku

PACKABLE_STATUSES = ("pending", "picking")


def _money(minor: int, currency: str) -> Money:
    return Money.of(DomainMoney(from_minor(minor, currency), currency))


# --- box selection ---------------------------------------------------------------------------------------------


async def shipment_of(session: AsyncSession, shipment_id: uuid.UUID) -> Shipment:
    shipment = await repository.get_shipment(session, shipment_id)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}", code="shipment_not_found")
    return shipment


def check_packable(shipment: Shipment) -> None:
    if shipment.status not in PACKABLE_STATUSES:
        raise Conflict(
            f"The shipment is {shipment.status}; it can no longer be packed",
            code="shipment_not_packable",
            shipment_status=shipment.status,
        )


async def _outstanding_plans(session: AsyncSession, shipment_id: uuid.UUID) -> Counter[uuid.UUID]:
    """Per shipment line: units planned into open packages and not scanned in yet."""
    packages = [p for p in await repository.packages_of(session, shipment_id) if p.sealed_at is None]
    ids = [p.id for p in packages]
    planned = await repository.planned_of(session, ids)
    scanned = await repository.scanned_of(session, ids)
    outstanding: Counter[uuid.UUID] = Counter()
    for package_id in ids:
        for line_id, quantity in planned.get(package_id, {}).items():
            outstanding[line_id] += max(quantity - scanned.get(package_id, {}).get(line_id, 0), 0)
    return outstanding


def to_pack(line: ShipmentLine) -> int:
    return max(line.quantity - line.short_quantity - line.packed_quantity, 0)


async def selection_for(
    session: AsyncSession, shipment: Shipment
) -> tuple[domain.Selection, dict[str, BoxType], dict[str, tuple[ShipmentLine, Sku]]]:
    lines = await repository.lines_with_skus(session, shipment.id)
    outstanding = await _outstanding_plans(session, shipment.id)
    items: list[domain.Item] = []
    by_ref: dict[str, tuple[ShipmentLine, Sku]] = {}
    for line, sku in lines:
        by_ref[str(line.id)] = (line, sku)
        for n in range(to_pack(line) - outstanding[line.id]):
            items.append(
                domain.Item(
                    f"{line.id}#{n + 1:05d}", str(line.id), sku.length_mm, sku.width_mm, sku.height_mm, sku.weight_g
                )
            )
    boxes = await repository.active_box_types(session, shipment.warehouse_id)
    if not boxes:
        raise Conflict("The shipment's warehouse has no active box types", code="no_box_types")
    specs = [
        domain.Box(str(b.id), b.inner_length_mm, b.inner_width_mm, b.inner_height_mm, b.max_weight_g, b.cost_minor)
        for b in boxes
    ]
    return domain.select_boxes(items, specs), {str(b.id): b for b in boxes}, by_ref


def _contents(placements: tuple[domain.Placement, ...], by_ref: dict[str, tuple[ShipmentLine, Sku]]) -> list[Any]:
    counts = Counter(p.item.ref for p in placements)
    return [
        LineQuantityOut(shipment_line_id=uuid.UUID(ref), sku=by_ref[ref][1].sku, quantity=quantity)
        for ref, quantity in sorted(counts.items())
    ]


def unfitted_units(selection: domain.Selection, by_ref: dict[str, tuple[ShipmentLine, Sku]]) -> list[UnfittedUnits]:
    counts = Counter((u.item.ref, u.reason) for u in selection.unfitted)
    return [
        UnfittedUnits(shipment_line_id=uuid.UUID(ref), sku=by_ref[ref][1].sku, quantity=quantity, reason=reason)
        for (ref, reason), quantity in sorted(counts.items())
    ]


async def select_boxes(session: AsyncSession, shipment_id: uuid.UUID) -> BoxSelectionOut:
    """The cheapest set of the warehouse's boxes for the units still to pack (nothing is stored)."""
    shipment = await shipment_of(session, shipment_id)
    check_packable(shipment)
    selection, boxes, by_ref = await selection_for(session, shipment)
    currency = next(iter(boxes.values())).currency
    chosen = []
    for packed in selection.boxes:
        box = boxes[packed.box.key]
        chosen.append(
            SelectedBox(
                box_type=box.code,
                box_type_id=box.id,
                cost=_money(box.cost_minor, box.currency),
                content_weight_g=packed.weight,
                gross_weight_g=packed.weight + box.tare_weight_g,
                fill_ratio=round(packed.fill_ratio, 4),
                contents=_contents(packed.placements, by_ref),
                units=[
                    PlacedUnit(
                        shipment_line_id=uuid.UUID(p.item.ref),
                        sku=by_ref[p.item.ref][1].sku,
                        position=Point(x=p.x, y=p.y, z=p.z),
                        size=Size(length=p.dx, width=p.dy, height=p.dz),
                    )
                    for p in packed.placements
                ],
            )
        )
    return BoxSelectionOut(
        shipment_id=shipment.id,
        boxes=chosen,
        total_cost=_money(selection.cost, currency) if selection.boxes else None,
        unfitted=unfitted_units(selection, by_ref),
        candidates_tried=selection.candidates_tried,
    )
