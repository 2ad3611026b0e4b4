"""The catalogue of domain event types: name, meaning and the schema of ``data``.

Each context declares its types in its own ``events.py`` with ``declare``; the webhooks context
publishes the catalogue (``/v1/event-types``, the OpenAPI ``webhooks`` section) and partners
subscribe by name. ``outbox.record`` is the one way events are written.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    description: str
    schema: type[BaseModel]


CATALOGUE: dict[str, EventType] = {}


def declare(name: str, description: str, schema: type[BaseModel]) -> EventType:
    """Add an event type to the catalogue (idempotent for the same declaration)."""
    existing = CATALOGUE.get(name)
    if existing is not None and existing.schema is not schema:
        raise ValueError(f"event type {name!r} is declared twice with different schemas")
    CATALOGUE[name] = EventType(name, description, schema)
    return CATALOGUE[name]
