"""The quotes context's service: what its router, its job and other contexts may ask of quotes.

- ``drafting``: create a quote and change it while it is a draft, priced by orders' pricing;
- ``reading``: one quote, lists;
- ``lifecycle``: send (holding stock when asked), accept (placing the order), decline, expire;
- ``printing``: the quote's PDF.
"""

from __future__ import annotations

from oms_api.quotes.drafting import create_quote, update_quote
from oms_api.quotes.lifecycle import EXPIRY_ACTOR, accept_quote, decline_quote, expire_due, send_quote
from oms_api.quotes.printing import quote_pdf
from oms_api.quotes.reading import get_quote, list_quotes, summary_of, view_of

__all__ = [
    "EXPIRY_ACTOR",
    "accept_quote",
    "create_quote",
    "decline_quote",
    "expire_due",
    "get_quote",
    "list_quotes",
    "quote_pdf",
    "send_quote",
    "summary_of",
    "update_quote",
    "view_of",
]
