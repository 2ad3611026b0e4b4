"""Every query of shipments, their lines, packages and tracking events.

Shipment lines show the SKU code and name of their order line: the read joins ``order_lines`` (a
read model, like the order view joins reservations) instead of copying them onto every line.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.fulfillment.models import CarrierInboundEvent, Package, Shipment, ShipmentLine, TrackingEvent
from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import upsert_insert
from oms_api.orders.models import OrderLine


async def get(session: AsyncSession, shipment_id: uuid.UUID, *, for_update: bool = False) -> Shipment | None:
    stmt = select(Shipment).where(Shipment.id == shipment_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def order_id_of(session: AsyncSession, shipment_id: uuid.UUID) -> uuid.UUID | None:
    return (await session.execute(select(Shipment.order_id).where(Shipment.id == shipment_id))).scalar_one_or_none()


async def of_order(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> list[Shipment]:
    """The order's shipments in id order (the order in which they are locked)."""
    stmt = select(Shipment).where(Shipment.order_id == order_id).order_by(Shipment.id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return list((await session.execute(stmt)).scalars())


async def list_shipments(
    session: AsyncSession,
    page: PageParams,
    *,
    order_id: uuid.UUID | None,
    warehouse_id: uuid.UUID | None,
    status: str | None,
    tracking_number: str | None,
) -> Slice[Shipment]:
    """A page of shipments, oldest first: a range of the index of the most selective filter given
    (``kit.keyset``); a tracking number finds its shipment through ``packages``' unique index."""
    stmt = filtered_page(
        select(Shipment),
        Shipment.id,
        page.after,
        [(Shipment.order_id, order_id), (Shipment.warehouse_id, warehouse_id), (Shipment.status, status)],
        [(Shipment.order_id,), (Shipment.warehouse_id,), (Shipment.status,)],
    ).limit(page.limit + 1)
    if tracking_number is not None:
        stmt = stmt.where(
            Shipment.id.in_(select(Package.shipment_id).where(Package.tracking_number == tracking_number))
        )
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def lines_of(session: AsyncSession, shipment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Each shipment's lines with the SKU code and name of their order line, in order-line order."""
    if not shipment_ids:
        return {}
    rows = await session.execute(
        select(ShipmentLine, OrderLine.sku, OrderLine.name, OrderLine.line_no)
        .join(OrderLine, OrderLine.id == ShipmentLine.order_line_id)
        .where(ShipmentLine.shipment_id.in_(list(shipment_ids)))
        .order_by(ShipmentLine.shipment_id, OrderLine.line_no, ShipmentLine.id)
    )
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.ShipmentLine.shipment_id].append(row)
    return out


async def packages_of(session: AsyncSession, shipment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Package]]:
    if not shipment_ids:
        return {}
    stmt = select(Package).where(Package.shipment_id.in_(list(shipment_ids))).order_by(Package.id)
    out: dict[uuid.UUID, list[Package]] = defaultdict(list)
    for package in (await session.execute(stmt)).scalars():
        out[package.shipment_id].append(package)
    return out


async def line_weights(session: AsyncSession, shipment_id: uuid.UUID) -> list[tuple[int, int]]:
    """(units that ship, unit weight in grams) of each line: what the parcels weigh without packages."""
    rows = await session.execute(
        select(ShipmentLine.quantity, ShipmentLine.short_quantity, Sku.weight_g)
        .join(Sku, Sku.id == ShipmentLine.sku_id)
        .where(ShipmentLine.shipment_id == shipment_id)
    )
    return [(max(r.quantity - r.short_quantity, 0), int(r.weight_g)) for r in rows]


async def add_lines(session: AsyncSession, shipment: Shipment, lines: Sequence[ShipmentLine]) -> None:
    session.add(shipment)
    session.add_all(list(lines))
    await session.flush()


async def add_package(session: AsyncSession, package: Package) -> bool:
    """Add a package; False when its tracking number belongs to another package (savepoint keeps the
    transaction usable, so the caller can answer 409)."""
    try:
        async with session.begin_nested():
            session.add(package)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def set_tracking_number(session: AsyncSession, package: Package, number: str) -> bool:
    """Give a package its tracking number; False when another package has it."""
    try:
        async with session.begin_nested():
            package.tracking_number = number
            await session.flush()
    except IntegrityError:
        return False
    return True


async def taken_tracking_numbers(session: AsyncSession, numbers: Sequence[str]) -> set[str]:
    if not numbers:
        return set()
    stmt = select(Package.tracking_number).where(Package.tracking_number.in_(list(numbers)))
    return {n for n in (await session.execute(stmt)).scalars() if n is not None}


async def get_package(session: AsyncSession, package_id: uuid.UUID) -> Package | None:
    return await session.get(Package, package_id)


async def package_by_tracking_number(session: AsyncSession, number: str) -> Package | None:
    stmt = select(Package).where(Package.tracking_number == number)
    return (await session.execute(stmt)).scalar_one_or_none()


async def add_tracking_event(session: AsyncSession, event: TrackingEvent) -> None:
    session.add(event)
    await session.flush()


async def tracking_events_of(session: AsyncSession, shipment_id: uuid.UUID) -> list[TrackingEvent]:
    stmt = (
        select(TrackingEvent)
        .where(TrackingEvent.shipment_id == shipment_id)
        .order_by(TrackingEvent.occurred_at, TrackingEvent.id)
    )
    return list((await session.execute(stmt)).scalars())


async def count_tracking_events(session: AsyncSession, shipment_id: uuid.UUID) -> int:
    stmt = select(func.count()).select_from(TrackingEvent).where(TrackingEvent.shipment_id == shipment_id)
    return int((await session.execute(stmt)).scalar_one())


async def store_inbound(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Store a carrier webhook delivery raw; False when (source, external_id) was stored before (a retry)."""
    stmt = (
        upsert_insert(session, CarrierInboundEvent)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
    )
    result = await session.execute(stmt)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get_inbound(session: AsyncSession, event_id: uuid.UUID) -> CarrierInboundEvent | None:
    return await session.get(CarrierInboundEvent, event_id)
