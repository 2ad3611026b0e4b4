"""The carrier port: what the OMS asks of a carrier, so that a real carrier API can plug in later.

A carrier row names its ``kind``; ``port_for(kind)`` returns the implementation. The built-in
``TableRateCarrier`` is complete: it rates from the service's stored rate table (zones, weight
brackets, cut-off, pickup days, transit days) and issues tracking numbers itself. An API-backed
carrier (DHL, UPS, an aggregator such as EasyPost) implements the same two methods with HTTP calls.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Protocol

from oms_api.carriers import domain
from oms_api.carriers.domain import Quote, RateRequest, ServiceTable


class CarrierPort(Protocol):
    kind: str

    async def quotes(self, services: Sequence[ServiceTable], request: RateRequest) -> list[Quote]:
        """An offer per service that serves the request (services that cannot are left out)."""
        ...

    async def tracking_number(self, carrier: str, package_id: uuid.UUID) -> str:
        """A tracking number for a package handed to this carrier."""
        ...


class TableRateCarrier:
    """Rates from stored tables; tracking numbers are the carrier code, 20 digits and a check digit."""

    kind = "table_rate"

    async def quotes(self, services: Sequence[ServiceTable], request: RateRequest) -> list[Quote]:
        found = []
        for table in services:
            offer = domain.quote(
                table,
                origin_country=request.origin_country,
                country=request.country,
                postal_code=request.postal_code,
                parcels=request.parcels,
                currency=request.currency,
                ready_at=request.ready_at,
            )
            if offer is not None:
                found.append(offer)
        return found

    async def tracking_number(self, carrier: str, package_id: uuid.UUID) -> str:
        return domain.tracking_number(carrier, package_id.int)


_PORTS: dict[str, CarrierPort] = {TableRateCarrier.kind: TableRateCarrier()}


def port_for(kind: str) -> CarrierPort:
    """The implementation of a carrier kind (``KeyError`` for a kind nobody registered)."""
    return _PORTS[kind]


def register(port: CarrierPort) -> None:
    """Plug in another carrier implementation (at start-up)."""
    _PORTS[port.kind] = port
