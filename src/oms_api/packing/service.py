"""Packing use cases: standard boxes, choosing boxes for a shipment, packages and pack verification.

Pack verification: every unit is scanned into its package. A scan that is not a SKU of the shipment
is ``wrong_item``; one more unit than the shipment (or the package's plan) holds is ``extra_item``; a
unit the box selection planned for another package is ``wrong_package`` — all 422, nothing recorded.
A planned package seals itself when its plan is scanned in; when every unit of the shipment is packed
the remaining open packages seal and the shipment becomes ``packed``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.fulfillment.models import Package, PackageItem, Shipment, ShipmentLine
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable
from oms_api.kit.etags import check_if_match
from oms_api.kit.money import Money as DomainMoney
from oms_api.kit.money import from_minor, to_minor
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Money
from oms_api.packing import domain, repository
from oms_api.packing.models import BoxType, PlannedItem
from oms_api.packing.schemas import (
    MAX_BOX_TYPES,
    BoxTypeCreate,
    BoxTypeUpdate,
    PackagesCreate,
    PlacedUnit,
    Point,
    ScanBody,
    SelectedBox,
    Size,
    UnfittedUnits,
)
from oms_api.packing.schemas import BoxSelection as BoxSelectionOut
from oms_api.packing.schemas import BoxType as BoxTypeOut
from oms_api.packing.schemas import LineQuantity as LineQuantityOut
from oms_api.packing.schemas import Package as PackageOut
from oms_api.packing.schemas import PackagesCreated as PackagesCreatedOut
from oms_api.packing.schemas import ScanResult as ScanResultOut
from oms_api.picking.domain import barcode_matches
from oms_api.picking.shipment_steps import lock_workable, mark_packed
from oms_api.stock import warehouses

PACKABLE_STATUSES = ("pending", "picking")


def _money(minor: int, currency: str) -> Money:
    return Money.of(DomainMoney(from_minor(minor, currency), currency))


# --- box types -------------------------------------------------------------------------------------------------


def _box_view(box: BoxType, warehouse_code: str) -> BoxTypeOut:
    return BoxTypeOut(
        id=box.id,
        warehouse=warehouse_code,
        warehouse_id=box.warehouse_id,
        code=box.code,
        name=box.name,
        inner_length_mm=box.inner_length_mm,
        inner_width_mm=box.inner_width_mm,
        inner_height_mm=box.inner_height_mm,
        max_weight_g=box.max_weight_g,
        tare_weight_g=box.tare_weight_g,
        cost=_money(box.cost_minor, box.currency),
        active=box.active,
        version=box.version,
        created_at=box.created_at,
        updated_at=box.updated_at,
    )


def _box_snapshot(box: BoxType) -> dict[str, Any]:
    return {
        "id": str(box.id),
        "warehouse_id": str(box.warehouse_id),
        "code": box.code,
        "name": box.name,
        "inner_length_mm": box.inner_length_mm,
        "inner_width_mm": box.inner_width_mm,
        "inner_height_mm": box.inner_height_mm,
        "max_weight_g": box.max_weight_g,
        "tare_weight_g": box.tare_weight_g,
        "cost_minor": box.cost_minor,
        "currency": box.currency,
        "active": box.active,
        "version": box.version,
    }


async def _check_warehouse_rules(
    session: AsyncSession, warehouse_id: uuid.UUID, currency: str, *, active: bool, exclude: uuid.UUID | None = None
) -> None:
    """At most five active standard boxes per warehouse, all costed in one currency (costs are compared)."""
    await repository.lock_warehouse(session, warehouse_id)
    others = await repository.active_box_types(session, warehouse_id, exclude=exclude)
    if active and len(others) >= MAX_BOX_TYPES:
        raise Conflict(
            f"A warehouse has at most {MAX_BOX_TYPES} active standard boxes; retire one first",
            code="too_many_box_types",
        )
    currencies = {b.currency for b in others}
    if currencies and currency not in currencies:
        raise Conflict(f"This warehouse's boxes are costed in {sorted(currencies)[0]}", code="box_currency_mismatch")


async def create_box_type(session: AsyncSession, actor: Principal, data: BoxTypeCreate) -> BoxTypeOut:
    warehouse = await warehouses.get_warehouse(session, data.warehouse)
    await _check_warehouse_rules(session, warehouse.id, data.cost.currency, active=data.active)
    if await repository.get_box_type(session, data.code, warehouse.id) is not None:
        raise Conflict(f"Warehouse {warehouse.code!r} already has a box {data.code!r}", code="duplicate_box_type")
    values = data.model_dump(exclude={"warehouse", "cost"})
    box = BoxType(
        warehouse_id=warehouse.id,
        cost_minor=to_minor(data.cost.to_money().amount, data.cost.currency),
        currency=data.cost.currency,
        **values,
    )
    if not await repository.add_unique(session, box):
        raise Conflict(f"Warehouse {warehouse.code!r} already has a box {data.code!r}", code="duplicate_box_type")
    outbox.record(session, "box_type.created", "box_type", box.id, _box_snapshot(box), actor=actor.actor)
    return _box_view(box, warehouse.code)


async def _box_type(session: AsyncSession, box_type_id: uuid.UUID, *, for_update: bool = False) -> BoxType:
    box = await repository.get_box_type(session, str(box_type_id), for_update=for_update)
    if box is None:
        raise NotFound(f"No box type {box_type_id}", code="box_type_not_found")
    return box


async def get_box_type(session: AsyncSession, box_type_id: uuid.UUID) -> BoxTypeOut:
    box = await _box_type(session, box_type_id)
    codes = await repository.warehouse_codes(session, [box.warehouse_id])
    return _box_view(box, codes[box.warehouse_id])


async def update_box_type(
    session: AsyncSession, actor: Principal, box_type_id: uuid.UUID, data: BoxTypeUpdate, if_match: str | None
) -> BoxTypeOut:
    box = await _box_type(session, box_type_id, for_update=True)
    check_if_match(if_match, box.version)
    changes = data.model_dump(exclude_unset=True, exclude={"cost"})
    if data.cost is not None:
        changes["cost_minor"] = to_minor(data.cost.to_money().amount, data.cost.currency)
        changes["currency"] = data.cost.currency
    changes = {k: v for k, v in changes.items() if getattr(box, k) != v}
    if changes:
        becomes_active = changes.get("active", False) is True
        if becomes_active or "currency" in changes:
            await _check_warehouse_rules(
                session, box.warehouse_id, changes.get("currency", box.currency), active=becomes_active, exclude=box.id
            )
        for field, value in changes.items():
            setattr(box, field, value)
        box.version += 1
        await session.flush()
        outbox.record(session, "box_type.updated", "box_type", box.id, _box_snapshot(box), actor=actor.actor)
    codes = await repository.warehouse_codes(session, [box.warehouse_id])
    return _box_view(box, codes[box.warehouse_id])


async def list_box_types(
    session: AsyncSession, page: PageParams, *, warehouse: str | None = None, active: bool | None = None
) -> Slice[BoxTypeOut]:
    warehouse_id = None
    if warehouse is not None:
        try:
            warehouse_id = (await warehouses.get_warehouse(session, warehouse)).id
        except NotFound:  # an unknown filter value finds nothing
            return Slice(items=[], has_more=False, next_after=None)
    result = await repository.list_box_types(session, page, warehouse_id=warehouse_id, active=active)
    codes = await repository.warehouse_codes(session, [b.warehouse_id for b in result.items])
    return Slice(
        items=[_box_view(b, codes[b.warehouse_id]) for b in result.items],
        has_more=result.has_more,
        next_after=result.next_after,
    )


# --- box selection ---------------------------------------------------------------------------------------------


async def _shipment(session: AsyncSession, shipment_id: uuid.UUID) -> Shipment:
    shipment = await repository.get_shipment(session, shipment_id)
    if shipment is None:
        raise NotFound(f"No shipment {shipment_id}", code="shipment_not_found")
    return shipment


def _packable(shipment: Shipment) -> None:
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


def _to_pack(line: ShipmentLine) -> int:
    return max(line.quantity - line.short_quantity - line.packed_quantity, 0)


async def _selection(
    session: AsyncSession, shipment: Shipment
) -> tuple[domain.Selection, dict[str, BoxType], dict[str, tuple[ShipmentLine, Sku]]]:
    lines = await repository.lines_with_skus(session, shipment.id)
    outstanding = await _outstanding_plans(session, shipment.id)
    items: list[domain.Item] = []
    by_ref: dict[str, tuple[ShipmentLine, Sku]] = {}
    for line, sku in lines:
        by_ref[str(line.id)] = (line, sku)
        for n in range(_to_pack(line) - outstanding[line.id]):
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


def _unfitted(selection: domain.Selection, by_ref: dict[str, tuple[ShipmentLine, Sku]]) -> list[UnfittedUnits]:
    counts = Counter((u.item.ref, u.reason) for u in selection.unfitted)
    return [
        UnfittedUnits(shipment_line_id=uuid.UUID(ref), sku=by_ref[ref][1].sku, quantity=quantity, reason=reason)
        for (ref, reason), quantity in sorted(counts.items())
    ]


async def select_boxes(session: AsyncSession, shipment_id: uuid.UUID) -> BoxSelectionOut:
    """The cheapest set of the warehouse's boxes for the units still to pack (nothing is stored)."""
    shipment = await _shipment(session, shipment_id)
    _packable(shipment)
    selection, boxes, by_ref = await _selection(session, shipment)
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
        unfitted=_unfitted(selection, by_ref),
        candidates_tried=selection.candidates_tried,
    )


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
    _packable(shipment)
    created: list[tuple[Package, dict[uuid.UUID, int]]] = []
    unfitted: list[UnfittedUnits] = []
    if data.from_selection:
        selection, boxes, by_ref = await _selection(session, shipment)
        unfitted = _unfitted(selection, by_ref)
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
    shipment = await _shipment(session, shipment_id)
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
    if not any(_to_pack(line) >= quantity for line, _ in candidates):
        code = candidates[0][1].sku
        raise Unprocessable(
            f"No more units of {code!r} remain to pack in this shipment", code="extra_item", sku=code, quantity=quantity
        )
    open_lines = [(line, sku) for line, sku in candidates if _to_pack(line) >= quantity]
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
    _packable(shipment)
    lines = await repository.lines_with_skus(session, shipment.id, for_update=True)
    candidates = [(line, sku) for line, sku in lines if barcode_matches(data.barcode, sku.barcode, sku.sku)]
    if not candidates:
        raise Unprocessable("The scanned item is not part of this shipment", code="wrong_item", barcode=data.barcode)
    plan = (await repository.planned_of(session, [package.id])).get(package.id, {})
    in_package = (await repository.scanned_of(session, [package.id])).get(package.id, {})
    line, sku = _choose_line(candidates, data.quantity, plan, in_package)
    line.packed_quantity += data.quantity
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
    shipment_packed = all(_to_pack(each) == 0 for each, _ in lines)
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
    _packable(shipment)
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
    if all(_to_pack(line) == 0 for line, _ in lines):
        await _finish(session, actor, shipment)
    return (await _package_views(session, [package]))[0]
