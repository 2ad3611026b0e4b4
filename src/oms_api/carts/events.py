"""Cart event types. ``data`` is the cart as it stands after the change (``carts.schemas.Cart``)."""

from __future__ import annotations

from oms_api.carts.schemas import Cart
from oms_api.kit.event_types import declare

CART_CREATED = declare("cart.created", "A cart was created; its lines' stock is held until it expires.", Cart)
CART_UPDATED = declare(
    "cart.updated",
    "A cart's lines or expiry changed; its holds followed (more held, or the difference released).",
    Cart,
)
CART_EXPIRED = declare(
    "cart.expired",
    "A cart passed its expiry without checkout: its holds were released (the abandoned-cart signal).",
    Cart,
)
CART_CONVERTED = declare(
    "cart.converted", "A cart was checked out: its holds became the reservations of order_id.", Cart
)
CART_ABANDONED = declare("cart.abandoned", "A cart was given up by the shop: its holds were released.", Cart)
