"""Every query of carriers: carriers, services and their rate tables."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carriers.models import Carrier, CarrierRate, CarrierService, CarrierZone
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code


async def get(session: AsyncSession, ref: str, *, for_update: bool = False) -> Carrier | None:
    stmt = select(Carrier).where(id_or_code(Carrier.id, Carrier.code, ref))
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def get_by_code(session: AsyncSession, code: str) -> Carrier | None:
    return (await session.execute(select(Carrier).where(Carrier.code == code))).scalars().first()


async def add(session: AsyncSession, row: Carrier | CarrierService) -> bool:
    """Add a carrier or a service; False when a concurrent request took its code first (the savepoint keeps
    the transaction usable, so the caller can answer 409 instead of 500)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def list_carriers(session: AsyncSession, page: PageParams, *, active: bool | None) -> Slice[Carrier]:
    stmt = select(Carrier).order_by(Carrier.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Carrier.id > page.after)
    if active is not None:
        stmt = stmt.where(Carrier.active == active)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def active_carriers(session: AsyncSession) -> list[Carrier]:
    return list((await session.execute(select(Carrier).where(Carrier.active.is_(True)).order_by(Carrier.id))).scalars())


async def services_of(session: AsyncSession, carrier_ids: Sequence[uuid.UUID]) -> list[CarrierService]:
    if not carrier_ids:
        return []
    stmt = select(CarrierService).where(CarrierService.carrier_id.in_(list(carrier_ids))).order_by(CarrierService.id)
    return list((await session.execute(stmt)).scalars())


async def get_service(
    session: AsyncSession, carrier_id: uuid.UUID, ref: str, *, for_update: bool = False
) -> CarrierService | None:
    stmt = select(CarrierService).where(
        CarrierService.carrier_id == carrier_id, id_or_code(CarrierService.id, CarrierService.code, ref)
    )
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalars().first()


async def zones_of(session: AsyncSession, service_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Each service's zones in their given order, each with its rates (``(zone, [rate…])``)."""
    if not service_ids:
        return {}
    zones = list(
        (
            await session.execute(
                select(CarrierZone)
                .where(CarrierZone.service_id.in_(list(service_ids)))
                .order_by(CarrierZone.service_id, CarrierZone.position)
            )
        ).scalars()
    )
    rates: dict[uuid.UUID, list[CarrierRate]] = defaultdict(list)
    if zones:
        stmt = (
            select(CarrierRate)
            .where(CarrierRate.zone_id.in_([z.id for z in zones]))
            .order_by(CarrierRate.zone_id, CarrierRate.currency, CarrierRate.max_weight_g)
        )
        for rate in (await session.execute(stmt)).scalars():
            rates[rate.zone_id].append(rate)
    out: dict[uuid.UUID, list[Any]] = defaultdict(list)
    for zone in zones:
        out[zone.service_id].append((zone, rates.get(zone.id, [])))
    return out


async def replace_zones(
    session: AsyncSession, service_id: uuid.UUID, zones: Sequence[dict[str, Any]], rates: Sequence[dict[str, Any]]
) -> None:
    """Swap a service's whole rate table (zones and their rates) for a new one."""
    old = select(CarrierZone.id).where(CarrierZone.service_id == service_id).scalar_subquery()
    await session.execute(delete(CarrierRate).where(CarrierRate.zone_id.in_(old)))
    await session.execute(delete(CarrierZone).where(CarrierZone.service_id == service_id))
    if zones:
        await session.execute(insert(CarrierZone).values(list(zones)))
    if rates:
        await session.execute(insert(CarrierRate).values(list(rates)))
