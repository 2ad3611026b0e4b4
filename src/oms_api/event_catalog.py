"""Imports every context's ``events`` module so that ``kit.event_types.CATALOGUE`` is complete."""

from oms_api.kit.event_types import CATALOGUE, EventType

__all__ = ["CATALOGUE", "EventType"]
