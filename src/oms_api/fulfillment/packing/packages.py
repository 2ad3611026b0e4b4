"""Packages of a shipment and pack verification.

Pack verification: every unit is scanned into its package. A scan that is not a SKU of the shipment
is ``wrong_item``; one more unit than the shipment (or the package's plan) holds is ``extra_item``; a
unit the box selection planned for another package is ``wrong_package`` — all 422, nothing recorded.
A planned package seals itself when its plan is scanned in; when every unit of the shipment is packed
the remaining open packages seal and the shipment becomes ``packed``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment.floor import lock_workable, mark_packed, record_packed
from oms_api.fulfillment.models import Package, PackageItem, Shipment, ShipmentLine
from oms_api.fulfillment.packing import repository
from oms_api.fulfillment.packing import selection as choosing
from oms_api.fulfillment.packing.models import PlannedItem
from oms_api.fulfillment.packing.schemas import LineQuantity as LineQuantityOut
from oms_api.fulfillment.packing.schemas import Package as PackageOut
from oms_api.fulfillment.packing.schemas import (
    PackagesCreate,
    ScanBody,
    UnfittedUnits,
)
from oms_api.fulfillment.packing.schemas import PackagesCreated as PackagesCreatedOut
from oms_api.fulfillment.packing.schemas import ScanResult as ScanResultOut
from oms_api.fulfillment.picking.domain import barcode_matches
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.catalog.models import Sku

PACKABLE_STATUSES = ("pending", "picking")


# --- packages --------------------------------------------------------------------------------------------------


async def _package_views(session: AsyncSession, packages: list[Package]) -> list[PackageOut]:
    ids = [p.id for p in packages]
    planned = await repository.planned_of(session, ids)
    scanned = await repository.scanned_of(session, ids)
    line_ids = {line for per in (*planned.values(), *scanned.values()) for line in per}
    skus = await repository.sku_codes_of_lines(session, list(line_ids))
    boxes = await repository.get_box_types(session, [p.box_type_id for p in packages if p.box_type_id])

    def quantities(per_line: dict[uuid.UUID, int]) -> list[LineQuantityOut]:
        return [
            LineQuantityOut(shipment_line_id=line_id, sku=skus[line_id], quantity=quantity)
            for line_id, quantity in sorted(per_line.items())
        ]

    return [
        PackageOut(
            id=p.id,
            shipment_id=p.shipment_id,
            box_type=boxes[p.box_type_id].code if p.box_type_id in boxes else None,
            box_type_id=p.box_type_id,
            weight_g=p.weight_g,
            tracking_number=p.tracking_number,
            planned=quantities(planned.get(p.id, {})),
            items=quantities(scanned.get(p.id, {})),
            sealed_at=p.sealed_at,
            created_at=p.created_at,
        )
        for p in packages
    ]


def _package_snapshot(view: PackageOut) -> dict[str, Any]:
    return {
        "id": str(view.id),
        "shipment_id": str(view.shipment_id),
        "box_type_id": str(view.box_type_id) if view.box_type_id else None,
        "weight_g": view.weight_g,
        "sealed": view.sealed_at is not None,
        "planned": {str(q.shipment_line_id): q.quantity for q in view.planned},
        "scanned": {str(q.shipment_line_id): q.quantity for q in view.items},
    }


async def create_packages(
    session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, data: PackagesCreate
) -> PackagesCreatedOut:
    """Open packages for a shipment: planned from the box selection, or empty boxes of the given types."""
    shipment = await lock_workable(session, shipment_id)
    choosing.check_packable(shipment)
    created: list[tuple[Package, dict[uuid.UUID, int]]] = []
    unfitted: list[UnfittedUnits] = []
    if data.from_selection:
        selection, boxes, by_ref = await choosing.selection_for(session, shipment)
        unfitted = choosing.unfitted_units(selection, by_ref)
        if not selection.boxes:
            raise Conflict(
                "Nothing left to pack that fits a box",
                code="nothing_to_pack",
                unfitted=[u.model_dump(mode="json") for u in unfitted],
            )
        for packed in selection.boxes:
            box = boxes[packed.box.key]
            plan = Counter(uuid.UUID(p.item.ref) for p in packed.placements)
            created.append((Package(shipment_id=shipment.id, box_type_id=box.id, weight_g=box.tare_weight_g), plan))
    else:
        for ref in data.box_types or []:
            found = await repository.get_box_type(session, ref, shipment.warehouse_id)
            if found is None:
                raise NotFound(f"No box type {ref!r} in the shipment's warehouse", code="box_type_not_found")
            if not found.active:
                raise Conflict(f"Box type {found.code!r} is retired", code="box_type_inactive")
            created.append((Package(shipment_id=shipment.id, box_type_id=found.id, weight_g=found.tare_weight_g), {}))
    session.add_all(package for package, _ in created)
    await session.flush()
    session.add_all(
        PlannedItem(package_id=package.id, shipment_line_id=line_id, quantity=quantity)
        for package, plan in created
        for line_id, quantity in plan.items()
    )
    await session.flush()
    views = await _package_views(session, [package for package, _ in created])
    for view in views:
        outbox.record(session, "package.created", "package", view.id, _package_snapshot(view), actor=actor.actor)
    return PackagesCreatedOut(shipment_id=shipment.id, data=views, unfitted=unfitted)


async def list_packages(session: AsyncSession, shipment_id: uuid.UUID) -> list[PackageOut]:
    shipment = await choosing.shipment_of(session, shipment_id)
    return await _package_views(session, await repository.packages_of(session, shipment.id))


async def _package(session: AsyncSession, package_id: uuid.UUID, *, for_update: bool = False) -> Package:
    package = await repository.get_package(session, package_id, for_update=for_update)
    if package is None:
        raise NotFound(f"No package {package_id}", code="package_not_found")
    return package


async def get_package(session: AsyncSession, package_id: uuid.UUID) -> PackageOut:
    return (await _package_views(session, [await _package(session, package_id)]))[0]


def _choose_line(
    candidates: list[tuple[ShipmentLine, Sku]],
    quantity: int,
    plan: dict[uuid.UUID, int],
    in_package: dict[uuid.UUID, int],
) -> tuple[ShipmentLine, Sku]:
    """The shipment line a scan fills, or the 422 that explains why none can take it."""
    if not any(choosing.to_pack(line) >= quantity for line, _ in candidates):
        code = candidates[0][1].sku
        raise Unprocessable(
            f"No more units of {code!r} remain to pack in this shipment", code="extra_item", sku=code, quantity=quantity
        )
    open_lines = [(line, sku) for line, sku in candidates if choosing.to_pack(line) >= quantity]
    if not plan:
        return open_lines[0]
    for line, sku in open_lines:
        if plan.get(line.id, 0) - in_package.get(line.id, 0) >= quantity:
            return line, sku
    code = candidates[0][1].sku
    if any(line.id in plan for line, _ in candidates):
        raise Unprocessable(
            f"This package already holds every unit of {code!r} planned for it", code="extra_item", sku=code
        )
    raise Unprocessable(f"{code!r} is planned for another package of this shipment", code="wrong_package", sku=code)


async def scan(session: AsyncSession, actor: Principal, package_id: uuid.UUID, data: ScanBody) -> ScanResultOut:
    """Scan units into a package (pack verification); see the module docstring for the rules."""
    shipment = await lock_workable(session, (await _package(session, package_id)).shipment_id)
    package = await _package(session, package_id, for_update=True)
    if package.sealed_at is not None:
        raise Conflict("The package is sealed", code="package_sealed")
    choosing.check_packable(shipment)
    lines = await repository.lines_with_skus(session, shipment.id, for_update=True)
    candidates = [(line, sku) for line, sku in lines if barcode_matches(data.barcode, sku.barcode, sku.sku)]
    if not candidates:
        raise Unprocessable("The scanned item is not part of this shipment", code="wrong_item", barcode=data.barcode)
    plan = (await repository.planned_of(session, [package.id])).get(package.id, {})
    in_package = (await repository.scanned_of(session, [package.id])).get(package.id, {})
    line, sku = _choose_line(candidates, data.quantity, plan, in_package)
    record_packed(line, data.quantity)
    package.weight_g += sku.weight_g * data.quantity
    session.add(PackageItem(package_id=package.id, shipment_line_id=line.id, quantity=data.quantity))
    await session.flush()
    outbox.record(
        session,
        "package.item_scanned",
        "package",
        package.id,
        {
            "package_id": str(package.id),
            "shipment_id": str(shipment.id),
            "shipment_line_id": str(line.id),
            "sku": sku.sku,
            "quantity": data.quantity,
            "packed_quantity": line.packed_quantity,
        },
        actor=actor.actor,
    )
    in_package[line.id] = in_package.get(line.id, 0) + data.quantity
    if plan and all(in_package.get(line_id, 0) >= quantity for line_id, quantity in plan.items()):
        await _seal(session, actor, package)
    shipment_packed = all(choosing.to_pack(each) == 0 for each, _ in lines)
    if shipment_packed:
        await _finish(session, actor, shipment)
    view = (await _package_views(session, [package]))[0]
    return ScanResultOut(
        package=view,
        shipment_line_id=line.id,
        sku=sku.sku,
        sealed=package.sealed_at is not None,  # it was open when the scan began
        shipment_status=shipment.status,
        shipment_packed=shipment_packed,
    )


async def _seal(session: AsyncSession, actor: Principal, package: Package) -> None:
    package.sealed_at = utcnow()
    await session.flush()
    view = (await _package_views(session, [package]))[0]
    outbox.record(session, "package.sealed", "package", package.id, _package_snapshot(view), actor=actor.actor)


async def _finish(session: AsyncSession, actor: Principal, shipment: Shipment) -> None:
    """Every unit is packed: seal the open packages that hold something, and the shipment is packed."""
    packages = await repository.packages_of(session, shipment.id)
    scanned = await repository.scanned_of(session, [p.id for p in packages])
    for package in packages:
        if package.sealed_at is None and scanned.get(package.id):
            await _seal(session, actor, package)
    await mark_packed(session, actor, shipment)


async def seal(session: AsyncSession, actor: Principal, package_id: uuid.UUID) -> PackageOut:
    """Close a package by hand (an unplanned box that is full): refused while empty or short of its plan."""
    shipment = await lock_workable(session, (await _package(session, package_id)).shipment_id)
    package = await _package(session, package_id, for_update=True)
    if package.sealed_at is not None:
        raise Conflict("The package is sealed", code="package_sealed")
    choosing.check_packable(shipment)
    plan = (await repository.planned_of(session, [package.id])).get(package.id, {})
    in_package = (await repository.scanned_of(session, [package.id])).get(package.id, {})
    if not in_package:
        raise Conflict("An empty package cannot be sealed", code="package_empty")
    missing = {str(k): v - in_package.get(k, 0) for k, v in plan.items() if in_package.get(k, 0) < v}
    if missing:
        raise Conflict(
            "Units planned for this package are not scanned in yet", code="package_incomplete", missing=missing
        )
    await _seal(session, actor, package)
    lines = await repository.lines_with_skus(session, shipment.id)
    if all(choosing.to_pack(line) == 0 for line, _ in lines):
        await _finish(session, actor, shipment)
    return (await _package_views(session, [package]))[0]
