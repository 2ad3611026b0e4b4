"""Carrier event types: ``data`` is the whole carrier with its services and rate tables."""

from __future__ import annotations

from oms_api.carriers.schemas import Carrier
from oms_api.kit.event_types import declare

CARRIER_CREATED = declare("carrier.created", "A carrier was created (with its services and rate tables).", Carrier)
CARRIER_UPDATED = declare("carrier.updated", "A carrier, one of its services or a rate table changed.", Carrier)
