"""Warehouse use cases: the stock locations that levels, sourcing and fulfilment refer to."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.stock import repository
from oms_api.stock.domain import missing_coordinate
from oms_api.stock.models import Warehouse
from oms_api.stock.schemas import WarehouseCreate, WarehouseUpdate


def snapshot(warehouse: Warehouse) -> dict[str, Any]:
    """The event payload of a warehouse."""
    return {
        "id": str(warehouse.id),
        "code": warehouse.code,
        "name": warehouse.name,
        "address": warehouse.address,
        "latitude": warehouse.latitude,
        "longitude": warehouse.longitude,
        "active": warehouse.active,
        "priority": warehouse.priority,
        "serves_countries": warehouse.serves_countries or [],
        "version": warehouse.version,
    }


async def get_warehouse(session: AsyncSession, ref: str) -> Warehouse:
    """A warehouse by code or id (404 ``warehouse_not_found``)."""
    warehouse = await repository.get_warehouse(session, ref)
    if warehouse is None:
        raise NotFound(f"No warehouse {ref!r}", code="warehouse_not_found")
    return warehouse


async def active_warehouses(session: AsyncSession) -> list[Warehouse]:
    """Every active warehouse, best-preferred first (priority descending, then code)."""
    return await repository.active_warehouses(session)


def _check_coordinates(latitude: float | None, longitude: float | None) -> None:
    missing = missing_coordinate(latitude, longitude)
    if missing is not None:
        raise field_error(f"/body/{missing}", "Give latitude and longitude together, or neither", code="missing")


def _duplicate(existing: Warehouse) -> Conflict:
    return Conflict(
        f"A warehouse with code {existing.code!r} exists", code="duplicate_warehouse", existing_id=str(existing.id)
    )


async def create_warehouse(session: AsyncSession, actor: Principal, data: WarehouseCreate) -> Warehouse:
    _check_coordinates(data.latitude, data.longitude)
    existing = await repository.find_warehouse_by_code(session, data.code)
    if existing is not None:
        raise _duplicate(existing)
    values = data.model_dump(exclude={"address"})
    address = data.address.model_dump(mode="json", exclude_none=True) if data.address else None
    warehouse = Warehouse(**values, address=address)
    if not await repository.add_warehouse(session, warehouse):  # lost a race with a concurrent create
        winner = await repository.find_warehouse_by_code(session, data.code)
        if winner is None:
            raise Conflict("The warehouse could not be created; retry", code="duplicate_warehouse")
        raise _duplicate(winner)
    outbox.record(session, "warehouse.created", "warehouse", warehouse.id, snapshot(warehouse), actor=actor.actor)
    return warehouse


async def update_warehouse(
    session: AsyncSession, actor: Principal, ref: str, data: WarehouseUpdate, if_match: str | None
) -> Warehouse:
    warehouse = await repository.get_warehouse(session, ref, for_update=True)
    if warehouse is None:
        raise NotFound(f"No warehouse {ref!r}", code="warehouse_not_found")
    check_if_match(if_match, warehouse.version)
    changes = data.model_dump(exclude_unset=True, exclude={"address"})
    if "address" in data.model_fields_set:
        changes["address"] = data.address.model_dump(mode="json", exclude_none=True) if data.address else None
    _check_coordinates(changes.get("latitude", warehouse.latitude), changes.get("longitude", warehouse.longitude))
    changes = {field: value for field, value in changes.items() if getattr(warehouse, field) != value}
    if not changes:
        return warehouse
    for field, value in changes.items():
        setattr(warehouse, field, value)
    warehouse.version += 1
    await session.flush()
    outbox.record(session, "warehouse.updated", "warehouse", warehouse.id, snapshot(warehouse), actor=actor.actor)
    return warehouse


async def list_warehouses(session: AsyncSession, page: PageParams, *, active: bool | None = None) -> Slice[Warehouse]:
    return await repository.list_warehouses(session, page, active=active)
