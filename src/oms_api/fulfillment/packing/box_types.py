"""A warehouse's standard boxes (three to five active, costed in one currency)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fulfillment.packing import repository
from oms_api.fulfillment.packing.models import BoxType
from oms_api.fulfillment.packing.schemas import (
    MAX_BOX_TYPES,
    BoxTypeCreate,
    BoxTypeUpdate,
)
from oms_api.fulfillment.packing.schemas import BoxType as BoxTypeOut
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.etags import check_if_match
from oms_api.kit.money import Money as DomainMoney
from oms_api.kit.money import from_minor, to_minor
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Money
from oms_api.stock import service as warehouses

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
