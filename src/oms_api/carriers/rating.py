"""Rating with the carriers' tables: quotes for a shipment or a quote request, the chosen service's table, and
tracking numbers from the carrier's port."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carriers import domain, repository
from oms_api.carriers.base import port_for
from oms_api.carriers.domain import Bracket, Quote, RateRequest, ServiceTable, ShippingChoice
from oms_api.carriers.models import Carrier as CarrierRow
from oms_api.carriers.models import CarrierService as ServiceRow
from oms_api.carriers.schemas import (
    QuoteOption,
    RateQuoteRequest,
    RateQuoteResult,
)
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import NotFound, field_error
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.stock import service as stock

# --- rating ----------------------------------------------------------------------------------------------------


def _table(carrier: CarrierRow, service: ServiceRow, zones: list[Any]) -> ServiceTable:
    return ServiceTable(
        carrier=carrier.code,
        service=service.code,
        name=service.name,
        transit_days=service.transit_days,
        cutoff=service.cutoff_time,
        timezone=service.timezone,
        pickup_days=domain.weekday_numbers(service.pickup_days),
        origin_countries=frozenset(service.origin_countries),
        zones=tuple(
            domain.Zone(
                code=zone.code,
                countries=frozenset(zone.countries),
                postal_prefixes=tuple(zone.postal_prefixes),
                transit_days=zone.transit_days,
                brackets=tuple(
                    Bracket(
                        r.max_weight_g,
                        Money.from_minor(r.base_minor, r.currency),
                        Money.from_minor(r.per_kg_minor, r.currency),
                    )
                    for r in rates
                ),
            )
            for zone, rates in zones
        ),
    )


async def _active_tables(session: AsyncSession) -> dict[str, list[ServiceTable]]:
    """Every active service of every active carrier, as rate tables grouped by carrier kind."""
    carriers = await repository.active_carriers(session)
    services = [s for s in await repository.services_of(session, [c.id for c in carriers]) if s.active]
    zones = await repository.zones_of(session, [s.id for s in services])
    by_id = {c.id: c for c in carriers}
    tables: dict[str, list[ServiceTable]] = defaultdict(list)
    for service in services:
        carrier = by_id[service.carrier_id]
        tables[carrier.kind].append(_table(carrier, service, zones.get(service.id, [])))
    return tables


async def quote(session: AsyncSession, request: RateRequest) -> list[Quote]:
    """Every active service's offer for the request, asked of each carrier kind's port."""
    offers: list[Quote] = []
    for kind, tables in (await _active_tables(session)).items():
        offers.extend(await port_for(kind).quotes(tables, request))
    return domain.ranked(offers)


async def quote_many(session: AsyncSession, requests: Sequence[RateRequest]) -> list[list[Quote]]:
    """``quote`` for several requests, reading the rate tables once."""
    tables = await _active_tables(session)
    out = []
    for request in requests:
        offers: list[Quote] = []
        for kind, kind_tables in tables.items():
            offers.extend(await port_for(kind).quotes(kind_tables, request))
        out.append(domain.ranked(offers))
    return out


async def service_table(session: AsyncSession, carrier_code: str, service_code: str) -> ServiceTable | None:
    """The rate table of a carrier's service (active or not), or None when either is unknown."""
    carrier = await repository.get_by_code(session, carrier_code)
    if carrier is None:
        return None
    service = await repository.get_service(session, carrier.id, service_code)
    if service is None:
        return None
    zones = await repository.zones_of(session, [service.id])
    return _table(carrier, service, zones.get(service.id, []))


async def issue_tracking_number(session: AsyncSession, carrier_code: str, package_id: uuid.UUID) -> str | None:
    """A tracking number from the carrier's port; None for carriers the OMS does not know."""
    carrier = await repository.get_by_code(session, carrier_code)
    if carrier is None:
        return None
    return await port_for(carrier.kind).tracking_number(carrier.code, package_id)


def options(
    quotes: Sequence[Quote], choice: ShippingChoice, deliver_by: date | None
) -> list[tuple[Quote, bool | None, bool]]:
    """Each quote with whether it is on time (None without a date) and whether the policy picks it."""
    chosen = domain.choose(quotes, choice, deliver_by)
    return [(q, None if deliver_by is None else q.delivery_date <= deliver_by, q is chosen) for q in quotes]


async def quote_request(session: AsyncSession, data: RateQuoteRequest) -> RateQuoteResult:
    """Price parcels for a route with every active service (a rate calculator over the tables)."""
    origin = data.origin_country
    if data.from_warehouse is not None:
        try:
            warehouse = await stock.get_warehouse(session, data.from_warehouse)
        except NotFound as exc:
            raise field_error(
                "/body/from_warehouse", f"no warehouse {data.from_warehouse!r}", "unknown_warehouse"
            ) from exc
        origin = (warehouse.address or {}).get("country") or origin
    request = RateRequest(
        origin_country=origin,
        country=data.destination.country,
        postal_code=data.destination.postal_code,
        parcels=data.parcels,
        currency=data.currency,
        ready_at=data.ready_at or utcnow(),
    )
    quotes = await quote(session, request)
    return RateQuoteResult(
        currency=data.currency,
        choice=data.choice,
        deliver_by=data.deliver_by,
        options=[
            QuoteOption(**quote_fields(q), on_time=on_time, recommended=picked)
            for q, on_time, picked in options(quotes, data.choice, data.deliver_by)
        ],
    )


def quote_fields(q: Quote) -> dict[str, Any]:
    """A quote's fields for the wire (money as a Money object)."""
    return {
        "carrier": q.carrier,
        "service": q.service,
        "name": q.name,
        "zone": q.zone,
        "price": MoneyOut.of(q.price),
        "transit_days": q.transit_days,
        "ship_date": q.ship_date,
        "delivery_date": q.delivery_date,
    }
