"""The catalogue of public event types: name, meaning and the schema of ``data``.

Each context declares the types it owns in its own ``events.py`` with ``declare`` (one context per
prefix: ``order.*`` belongs to orders); ``oms_api.bootstrap`` imports every one of those modules and
then seals the catalogue. The webhooks context publishes it (``/v1/event-types``, the OpenAPI
``webhooks`` section) and partners subscribe by name. ``outbox.record`` is the one way events are written.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    schema: type[BaseModel]
    owner: str
    """The module that declared it (``oms_api.orders.events``)."""


CATALOGUE: dict[str, EventType] = {}
_sealed = False


class CatalogueNotSealed(RuntimeError):
    """The catalogue was read before every context declared its types (call ``oms_api.bootstrap``)."""


def declare(name: str, description: str, schema: type[BaseModel]) -> EventType:
    """Add an event type to the catalogue (idempotent for the same declaration)."""
    owner = str(sys._getframe(1).f_globals.get("__name__", "?"))
    existing = CATALOGUE.get(name)
    if existing is not None and (existing.schema is not schema or existing.owner != owner):
        raise ValueError(f"event type {name!r} is declared twice ({existing.owner} and {owner})")
    CATALOGUE[name] = EventType(name, description, schema, owner)
    return CATALOGUE[name]


def seal() -> None:
    """Say that every context has declared its types (``oms_api.bootstrap`` does, once it imported them)."""
    global _sealed
    _sealed = True


def catalogue() -> dict[str, EventType]:
    """Every declared event type by name; refuses to answer before the catalogue is complete."""
    if not _sealed:
        raise CatalogueNotSealed("the event type catalogue is read before oms_api.bootstrap ran")
    return CATALOGUE
