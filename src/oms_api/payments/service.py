"""The payments context's service: what other contexts (and this context's routers) may ask of payments.

The use cases live in modules named after them:

- ``authorizing``: a new payment for an order, confirming one that waited for the customer;
- ``capturing``, ``voiding``, ``refunding``: the money's next steps, by the API or as the order moves;
- ``placement``: what an order's placement does by its channel's payment policy;
- ``reconciling``: settling operations whose gateway call timed out (``tasks``);
- ``stripe_events``: Stripe's webhooks;
- ``ledger``: the append-only ledger every use case writes through; ``reading``: payments as the API shows them.
"""

from __future__ import annotations

from oms_api.payments.authorizing import authorize_for_order, confirm
from oms_api.payments.capturing import capture
from oms_api.payments.ledger import Loaded
from oms_api.payments.reading import get_payment, list_payments, order_payments
from oms_api.payments.refunding import refund
from oms_api.payments.stripe_events import Receipt
from oms_api.payments.stripe_events import receive as receive_stripe_event
from oms_api.payments.views import payment_view
from oms_api.payments.voiding import void

__all__ = [
    "Loaded",
    "Receipt",
    "authorize_for_order",
    "capture",
    "confirm",
    "get_payment",
    "list_payments",
    "order_payments",
    "payment_view",
    "receive_stripe_event",
    "refund",
    "void",
]
