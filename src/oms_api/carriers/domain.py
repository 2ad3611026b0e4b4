"""Carrier rules (pure): table rating, ship dates and delivery dates, and choosing among options.

A service's rate table has zones (destination countries, optionally narrowed by postal-code prefixes)
and, per zone and currency, weight brackets given by their upper bound. A parcel pays the base price of
the first bracket that holds its weight plus the per-kg price for every started kilogram above the
previous bracket's bound (so 0-2 kg at a flat 4.90 and 2-31.5 kg at 6.90 + 0.50/kg is two rows).

Dates: a parcel ready before the service's daily cut-off (in the service's time zone) leaves that day if
the carrier picks up on that weekday; otherwise on the next pickup day. Transit days are business days
(Monday to Friday): a parcel leaving on Friday with two transit days arrives on Tuesday.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from oms_api.kit.money import Money

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUSINESS_DAYS = frozenset(range(5))
MAX_SEARCH_DAYS = 14


class ShippingChoice(StrEnum):
    """How the option for a shipment is chosen among all that serve it."""

    CHEAPEST = "cheapest"
    FASTEST = "fastest"
    CHEAPEST_ON_TIME = "cheapest_on_time"


@dataclass(frozen=True, slots=True)
class Bracket:
    max_weight_g: int
    base: Money
    per_kg: Money


@dataclass(frozen=True, slots=True)
class Zone:
    code: str
    countries: frozenset[str]
    postal_prefixes: tuple[str, ...]
    transit_days: int | None
    brackets: tuple[Bracket, ...]


@dataclass(frozen=True, slots=True)
class ServiceTable:
    carrier: str
    service: str
    name: str
    transit_days: int
    cutoff: time
    timezone: str
    pickup_days: frozenset[int]
    origin_countries: frozenset[str]
    zones: tuple[Zone, ...]


@dataclass(frozen=True, slots=True)
class Quote:
    carrier: str
    service: str
    name: str
    zone: str
    price: Money
    transit_days: int
    ship_date: date
    delivery_date: date


class TableError(ValueError):
    """A rate table that cannot rate consistently (bad time zone, overlapping brackets…)."""

    def __init__(self, pointer: str, message: str) -> None:
        self.pointer = pointer
        super().__init__(message)


# --- validation ------------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(available_timezones())


def known_timezone(name: str) -> bool:
    """An IANA time zone this system can convert to (e.g. ``Europe/Berlin``)."""
    return name in _zone_names()


def normalize_postal(code: str | None) -> str:
    """Postal codes compare without spaces, dashes or case (``sw1a 1aa`` = ``SW1A1AA``)."""
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def check_zones(zones: Sequence[Zone]) -> None:
    """Refuse tables that would rate ambiguously: duplicate zone codes or bracket bounds, same area twice."""
    seen_codes: set[str] = set()
    seen_areas: set[tuple[str, str]] = set()
    for i, zone in enumerate(zones):
        if zone.code in seen_codes:
            raise TableError(f"/zones/{i}/code", f"zone {zone.code!r} appears twice")
        seen_codes.add(zone.code)
        for country in sorted(zone.countries):
            for prefix in zone.postal_prefixes or ("",):
                area = (country, normalize_postal(prefix))
                if area in seen_areas:
                    where = f"{country} {prefix}".strip()
                    raise TableError(f"/zones/{i}", f"{where} is already in another zone")
                seen_areas.add(area)
        bounds: set[tuple[str, int]] = set()
        for j, bracket in enumerate(zone.brackets):
            if bracket.base.currency != bracket.per_kg.currency:
                raise TableError(f"/zones/{i}/rates/{j}/per_kg/currency", "base and per_kg must share a currency")
            key = (bracket.base.currency, bracket.max_weight_g)
            if key in bounds:
                raise TableError(
                    f"/zones/{i}/rates/{j}/max_weight_g",
                    f"two {key[0]} brackets end at {key[1]} g",
                )
            bounds.add(key)


# --- rating ----------------------------------------------------------------------------------------------------


def match_zone(zones: Sequence[Zone], country: str, postal_code: str | None) -> Zone | None:
    """The zone serving a destination: the longest matching postal prefix wins over the whole country."""
    postal = normalize_postal(postal_code)
    best: Zone | None = None
    best_len = -1
    for zone in zones:
        if country not in zone.countries:
            continue
        if not zone.postal_prefixes:
            if best_len < 0:
                best, best_len = zone, 0
            continue
        for prefix in zone.postal_prefixes:
            norm = normalize_postal(prefix)
            if postal and postal.startswith(norm) and len(norm) > best_len:
                best, best_len = zone, len(norm)
    return best


def parcel_price(zone: Zone, weight_g: int, currency: str) -> Money | None:
    """The price of one parcel, or None if no bracket in ``currency`` holds its weight."""
    brackets = sorted((b for b in zone.brackets if b.base.currency == currency), key=lambda b: b.max_weight_g)
    floor = 0
    for bracket in brackets:
        if weight_g <= bracket.max_weight_g:
            extra_kg = math.ceil((weight_g - floor) / 1000) if weight_g > floor else 0
            return bracket.base + bracket.per_kg.times(extra_kg)
        floor = bracket.max_weight_g
    return None


def price(zone: Zone, parcels: Sequence[int], currency: str) -> Money | None:
    """The price of every parcel together, or None if one of them cannot be rated."""
    total = Money.zero(currency)
    for weight in parcels:
        one = parcel_price(zone, weight, currency)
        if one is None:
            return None
        total = total + one
    return total


# --- dates -----------------------------------------------------------------------------------------------------


def ship_date(ready_at: datetime, cutoff: time, timezone: str, pickup_days: Iterable[int]) -> date:
    """The day the carrier takes a parcel that is ready at ``ready_at`` (aware datetime)."""
    days = frozenset(pickup_days)
    if not days:
        raise ValueError("a service needs at least one pickup day")
    local = ready_at.astimezone(ZoneInfo(timezone))
    day = local.date()
    if local.time().replace(tzinfo=None) >= cutoff:
        day += timedelta(days=1)
    while day.weekday() not in days:
        day += timedelta(days=1)
    return day


def add_business_days(start: date, days: int) -> date:
    """``start`` plus ``days`` business days (Monday to Friday); zero days is ``start`` itself."""
    day = start
    for _ in range(days):
        day += timedelta(days=1)
        while day.weekday() not in BUSINESS_DAYS:
            day += timedelta(days=1)
    return day


def quote(
    table: ServiceTable,
    *,
    origin_country: str | None,
    country: str,
    postal_code: str | None,
    parcels: Sequence[int],
    currency: str,
    ready_at: datetime,
) -> Quote | None:
    """This service's offer for the parcels, or None if it does not serve the route, weight or currency."""
    if table.origin_countries and origin_country not in table.origin_countries:
        return None
    zone = match_zone(table.zones, country, postal_code)
    if zone is None or not parcels:
        return None
    amount = price(zone, parcels, currency)
    if amount is None:
        return None
    transit = zone.transit_days if zone.transit_days is not None else table.transit_days
    leaves = ship_date(ready_at, table.cutoff, table.timezone, table.pickup_days)
    return Quote(
        carrier=table.carrier,
        service=table.service,
        name=table.name,
        zone=zone.code,
        price=amount,
        transit_days=transit,
        ship_date=leaves,
        delivery_date=add_business_days(leaves, transit),
    )


# --- choosing --------------------------------------------------------------------------------------------------


def _cheapest_key(q: Quote) -> tuple[object, ...]:
    return (q.price.amount, q.delivery_date, q.carrier, q.service)


def _fastest_key(q: Quote) -> tuple[object, ...]:
    return (q.delivery_date, q.price.amount, q.carrier, q.service)


def ranked(quotes: Iterable[Quote]) -> list[Quote]:
    """Options in display order: earliest delivery first, then cheapest."""
    return sorted(quotes, key=_fastest_key)


def choose(quotes: Sequence[Quote], choice: ShippingChoice, deliver_by: date | None = None) -> Quote | None:
    """The option ``choice`` picks; ``cheapest_on_time`` falls back to the fastest when none is on time.

    Without a ``deliver_by`` date, ``cheapest_on_time`` is simply the cheapest.
    """
    if not quotes:
        return None
    if choice == ShippingChoice.FASTEST:
        return min(quotes, key=_fastest_key)
    if choice == ShippingChoice.CHEAPEST_ON_TIME and deliver_by is not None:
        on_time = [q for q in quotes if q.delivery_date <= deliver_by]
        return min(on_time, key=_cheapest_key) if on_time else min(quotes, key=_fastest_key)
    return min(quotes, key=_cheapest_key)


def combine(parts: Sequence[Quote]) -> Quote:
    """One option for a split delivery with the same service from several warehouses.

    The customer pays every part and has everything when the last part arrives.
    """
    first = parts[0]
    total = first.price
    for part in parts[1:]:
        total = total + part.price
    return Quote(
        carrier=first.carrier,
        service=first.service,
        name=first.name,
        zone=",".join(sorted({p.zone for p in parts})),
        price=total,
        transit_days=max(p.transit_days for p in parts),
        ship_date=max(p.ship_date for p in parts),
        delivery_date=max(p.delivery_date for p in parts),
    )


def tracking_number(prefix: str, seed: int) -> str:
    """A carrier-style tracking number: prefix, 20 digits from ``seed``, and a Luhn check digit."""
    digits = f"{seed % 10**20:020d}"
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    check = (10 - total % 10) % 10
    clean = "".join(ch for ch in prefix.upper() if ch.isalnum())[:8]
    return f"{clean}{digits}{check}"


def weekday_numbers(names: Iterable[str]) -> frozenset[int]:
    return frozenset(WEEKDAYS.index(name) for name in names)


def weekday_names(numbers: Iterable[int]) -> list[str]:
    return [WEEKDAYS[n] for n in sorted(set(numbers))]


@dataclass(frozen=True, slots=True)
class RateRequest:
    """Parcels to price from an origin to a destination."""

    origin_country: str | None
    country: str
    postal_code: str | None
    parcels: Sequence[int]
    currency: str
    ready_at: datetime
