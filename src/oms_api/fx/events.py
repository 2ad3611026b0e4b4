"""Exchange-rate event types.

``fx_rate.created`` is recorded once per base currency and date, with every rate added for that date: one rate at
a time would make the ECB's historical file (some 200,000 rates) as many events and webhook deliveries, while a
day's rates are what a publisher publishes together (the ECB's daily file is one event)."""

from __future__ import annotations

from oms_api.fx.schemas import FxRatesPublished
from oms_api.kit.event_types import declare

FX_RATE_CREATED = declare(
    "fx_rate.created",
    "Exchange rates were added: one event per base currency and date, with the rates added for that date.",
    FxRatesPublished,
)
