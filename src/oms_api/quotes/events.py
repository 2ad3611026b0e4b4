"""Quote event types (``quote.*``): ``data`` is the whole quote after the step, with its lines and totals."""

from __future__ import annotations

from oms_api.kit.event_types import declare
from oms_api.quotes.schemas import Quote

QUOTE_CREATED = declare("quote.created", "A quote was drafted for a business customer.", Quote)
QUOTE_UPDATED = declare("quote.updated", "A draft quote changed (its lines, prices, addresses or validity).", Quote)
QUOTE_SENT = declare(
    "quote.sent", "A quote was sent to its customer; with reserve_stock its stock is held until it ends.", Quote
)
QUOTE_ACCEPTED = declare("quote.accepted", "A quote was accepted: order_id names the order it placed.", Quote)
QUOTE_DECLINED = declare(
    "quote.declined", "The customer declined a quote (decline_reason); held stock went back.", Quote
)
QUOTE_EXPIRED = declare(
    "quote.expired", "A sent quote passed its valid_until without an answer; held stock went back.", Quote
)
