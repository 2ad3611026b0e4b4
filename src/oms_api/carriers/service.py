"""Carrier use cases: carriers and services with their rate tables, quotes, tracking numbers.

Other contexts call ``quote`` (through the carrier ports), ``service_table`` and ``issue_tracking_number``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carriers import domain, repository
from oms_api.carriers.domain import Bracket, TableError
from oms_api.carriers.models import Carrier as CarrierRow
from oms_api.carriers.models import CarrierService as ServiceRow
from oms_api.carriers.rating import (
    issue_tracking_number,
    options,
    quote,
    quote_fields,
    quote_many,
    quote_request,
    service_table,
)
from oms_api.carriers.schemas import (
    Carrier,
    CarrierCreate,
    CarrierServiceOut,
    CarrierUpdate,
    RateBracket,
    RateZone,
    ServiceCreate,
    ServiceUpdate,
    ZoneIn,
)
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Money as MoneyOut

__all__ = [
    "create_carrier",
    "create_service",
    "get_carrier",
    "get_service",
    "issue_tracking_number",
    "list_carriers",
    "options",
    "quote",
    "quote_fields",
    "quote_many",
    "quote_request",
    "service_table",
    "update_carrier",
    "update_service",
]


# --- views -----------------------------------------------------------------------------------------------------


def _rate_view(rate: Any) -> RateBracket:
    return RateBracket(
        currency=rate.currency,
        max_weight_g=rate.max_weight_g,
        base=MoneyOut.of(Money.from_minor(rate.base_minor, rate.currency)),
        per_kg=MoneyOut.of(Money.from_minor(rate.per_kg_minor, rate.currency)),
    )


def _service_view(carrier: CarrierRow, service: ServiceRow, zones: list[Any]) -> CarrierServiceOut:
    return CarrierServiceOut(
        id=service.id,
        carrier=carrier.code,
        code=service.code,
        name=service.name,
        active=service.active,
        transit_days=service.transit_days,
        cutoff_time=service.cutoff_time,
        timezone=service.timezone,
        pickup_days=domain.weekday_names(domain.weekday_numbers(service.pickup_days)),
        origin_countries=service.origin_countries,
        zones=[
            RateZone(
                code=zone.code,
                countries=zone.countries,
                postal_prefixes=zone.postal_prefixes,
                transit_days=zone.transit_days,
                rates=[_rate_view(r) for r in rates],
            )
            for zone, rates in zones
        ],
        version=service.version,
        created_at=service.created_at,
        updated_at=service.updated_at,
    )


async def _views(session: AsyncSession, carriers: Sequence[CarrierRow]) -> list[Carrier]:
    services = await repository.services_of(session, [c.id for c in carriers])
    zones = await repository.zones_of(session, [s.id for s in services])
    by_carrier: dict[uuid.UUID, list[ServiceRow]] = defaultdict(list)
    for service in services:
        by_carrier[service.carrier_id].append(service)
    return [
        Carrier(
            id=c.id,
            code=c.code,
            name=c.name,
            kind=c.kind,
            active=c.active,
            services=[_service_view(c, s, zones.get(s.id, [])) for s in by_carrier.get(c.id, [])],
            version=c.version,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )
        for c in carriers
    ]


async def _view(session: AsyncSession, carrier: CarrierRow) -> Carrier:
    return (await _views(session, [carrier]))[0]


def _record(session: AsyncSession, type_: str, view: Carrier, actor: Principal) -> None:
    outbox.record(session, type_, "carrier", view.id, view.model_dump(mode="json"), actor=actor.actor)


# --- rate tables -----------------------------------------------------------------------------------------------


def _brackets(zone: ZoneIn) -> tuple[Bracket, ...]:
    out = []
    for rate in zone.rates:
        base = rate.base.to_money()
        per_kg = rate.per_kg.to_money() if rate.per_kg else Money.zero(base.currency)
        out.append(Bracket(rate.max_weight_g, base, per_kg))
    return tuple(out)


def _check_table(zones: Sequence[ZoneIn], pointer: str) -> None:
    table = [
        domain.Zone(z.code, frozenset(z.countries), tuple(z.postal_prefixes), z.transit_days, _brackets(z))
        for z in zones
    ]
    try:
        domain.check_zones(table)
    except TableError as exc:
        raise field_error(pointer + exc.pointer, str(exc), "invalid_rate_table") from exc


async def _write_table(session: AsyncSession, service_id: uuid.UUID, zones: Sequence[ZoneIn]) -> None:
    zone_rows, rate_rows = [], []
    for position, zone in enumerate(zones):
        zone_id = uuid7()
        zone_rows.append(
            {
                "id": zone_id,
                "service_id": service_id,
                "position": position,
                "code": zone.code,
                "countries": sorted(set(zone.countries)),
                "postal_prefixes": list(dict.fromkeys(p.upper() for p in zone.postal_prefixes)),
                "transit_days": zone.transit_days,
            }
        )
        for bracket in _brackets(zone):
            rate_rows.append(
                {
                    "id": uuid7(),
                    "zone_id": zone_id,
                    "currency": bracket.base.currency,
                    "max_weight_g": bracket.max_weight_g,
                    "base_minor": bracket.base.minor,
                    "per_kg_minor": bracket.per_kg.minor,
                }
            )
    await repository.replace_zones(session, service_id, zone_rows, rate_rows)


def _service_row(carrier_id: uuid.UUID, data: ServiceCreate) -> ServiceRow:
    now = utcnow()
    return ServiceRow(
        id=uuid7(),
        carrier_id=carrier_id,
        code=data.code,
        name=data.name,
        active=data.active,
        transit_days=data.transit_days,
        cutoff_time=data.cutoff_time,
        timezone=data.timezone,
        pickup_days=domain.weekday_names(domain.weekday_numbers(data.pickup_days)),
        origin_countries=sorted(set(data.origin_countries)),
        version=1,
        created_at=now,
        updated_at=now,
    )


# --- carriers --------------------------------------------------------------------------------------------------


async def _load(session: AsyncSession, ref: str, *, for_update: bool = False) -> CarrierRow:
    carrier = await repository.get(session, ref, for_update=for_update)
    if carrier is None:
        raise NotFound(f"No carrier {ref!r}", code="carrier_not_found")
    return carrier


def _duplicate_carrier(code: str, existing_id: uuid.UUID | None) -> Conflict:
    return Conflict(
        f"A carrier with code {code!r} exists",
        code="duplicate_carrier",
        existing_id=str(existing_id) if existing_id else None,
    )


async def create_carrier(session: AsyncSession, actor: Principal, data: CarrierCreate) -> Carrier:
    codes = [s.code for s in data.services]
    if len(set(codes)) != len(codes):
        raise field_error("/body/services", "service codes must be unique within a carrier", "duplicate_service")
    for i, service in enumerate(data.services):
        _check_table(service.zones, f"/body/services/{i}")
    existing = await repository.get_by_code(session, data.code)
    if existing is not None:
        raise _duplicate_carrier(data.code, existing.id)
    now = utcnow()
    carrier = CarrierRow(
        id=uuid7(),
        code=data.code,
        name=data.name,
        kind=data.kind.value,
        active=data.active,
        version=1,
        created_at=now,
        updated_at=now,
    )
    if not await repository.add(session, carrier):
        winner = await repository.get_by_code(session, data.code)
        raise _duplicate_carrier(data.code, winner.id if winner else None)
    for service in data.services:
        row = _service_row(carrier.id, service)
        session.add(row)
        await session.flush()
        await _write_table(session, row.id, service.zones)
    view = await _view(session, carrier)
    _record(session, "carrier.created", view, actor)
    return view


async def get_carrier(session: AsyncSession, ref: str) -> Carrier:
    return await _view(session, await _load(session, ref))


async def list_carriers(session: AsyncSession, page: PageParams, *, active: bool | None = None) -> Slice[Carrier]:
    rows = await repository.list_carriers(session, page, active=active)
    return Slice(items=await _views(session, rows.items), has_more=rows.has_more, next_after=rows.next_after)


async def update_carrier(
    session: AsyncSession, actor: Principal, ref: str, data: CarrierUpdate, if_match: str | None
) -> Carrier:
    carrier = await _load(session, ref, for_update=True)
    check_if_match(if_match, carrier.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(carrier, k) != v}
    if changes:
        for field, value in changes.items():
            setattr(carrier, field, value)
        carrier.version += 1
        carrier.updated_at = utcnow()
        await session.flush()
    view = await _view(session, carrier)
    if changes:
        _record(session, "carrier.updated", view, actor)
    return view


# --- services --------------------------------------------------------------------------------------------------


async def _load_service(
    session: AsyncSession, carrier: CarrierRow, ref: str, *, for_update: bool = False
) -> ServiceRow:
    service = await repository.get_service(session, carrier.id, ref, for_update=for_update)
    if service is None:
        raise NotFound(f"Carrier {carrier.code!r} has no service {ref!r}", code="carrier_service_not_found")
    return service


async def _service_out(session: AsyncSession, carrier: CarrierRow, service: ServiceRow) -> CarrierServiceOut:
    zones = await repository.zones_of(session, [service.id])
    return _service_view(carrier, service, zones.get(service.id, []))


async def create_service(
    session: AsyncSession, actor: Principal, carrier_ref: str, data: ServiceCreate
) -> CarrierServiceOut:
    carrier = await _load(session, carrier_ref, for_update=True)
    _check_table(data.zones, "/body")
    if await repository.get_service(session, carrier.id, data.code) is not None:
        raise Conflict(f"Carrier {carrier.code!r} has a service {data.code!r}", code="duplicate_service")
    row = _service_row(carrier.id, data)
    if not await repository.add(session, row):
        raise Conflict(f"Carrier {carrier.code!r} has a service {data.code!r}", code="duplicate_service")
    await _write_table(session, row.id, data.zones)
    carrier.version += 1
    carrier.updated_at = utcnow()
    await session.flush()
    _record(session, "carrier.updated", await _view(session, carrier), actor)
    return await _service_out(session, carrier, row)


async def get_service(session: AsyncSession, carrier_ref: str, service_ref: str) -> CarrierServiceOut:
    carrier = await _load(session, carrier_ref)
    return await _service_out(session, carrier, await _load_service(session, carrier, service_ref))


async def update_service(
    session: AsyncSession,
    actor: Principal,
    carrier_ref: str,
    service_ref: str,
    data: ServiceUpdate,
    if_match: str | None,
) -> CarrierServiceOut:
    """Change a service; ``zones`` replaces its whole rate table."""
    carrier = await _load(session, carrier_ref, for_update=True)
    service = await _load_service(session, carrier, service_ref, for_update=True)
    check_if_match(if_match, service.version)
    fields = data.model_dump(exclude_unset=True, exclude={"zones"})
    if "pickup_days" in fields:
        fields["pickup_days"] = domain.weekday_names(domain.weekday_numbers(fields["pickup_days"]))
    if "origin_countries" in fields:
        fields["origin_countries"] = sorted(set(fields["origin_countries"]))
    changes = {k: v for k, v in fields.items() if getattr(service, k) != v}
    if data.zones is not None:
        _check_table(data.zones, "/body")
        await _write_table(session, service.id, data.zones)
    if not changes and data.zones is None:
        return await _service_out(session, carrier, service)
    for field, value in changes.items():
        setattr(service, field, value)
    now = utcnow()
    service.version += 1
    service.updated_at = now
    carrier.version += 1
    carrier.updated_at = now
    await session.flush()
    _record(session, "carrier.updated", await _view(session, carrier), actor)
    return await _service_out(session, carrier, service)
