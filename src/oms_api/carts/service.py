"""The carts context's service: what its router, its job and other contexts may ask of carts.

- ``holding``: create a cart and change its lines, holding the stock at once under the channel's policy;
- ``reading``: one cart, lists;
- ``lifecycle``: extend, abandon, expire, and the cart's side of checkout;
- ``checkout``: the cart becomes an order (through the orders service) without its stock going back.
"""

from __future__ import annotations

from oms_api.carts.checkout import checkout
from oms_api.carts.holding import create_cart, replace_lines, update_lines
from oms_api.carts.lifecycle import EXPIRY_ACTOR, abandon_cart, expire_due, extend_cart
from oms_api.carts.reading import get_cart, list_carts, view_of, views_of

__all__ = [
    "EXPIRY_ACTOR",
    "abandon_cart",
    "checkout",
    "create_cart",
    "expire_due",
    "extend_cart",
    "get_cart",
    "list_carts",
    "replace_lines",
    "update_lines",
    "view_of",
    "views_of",
]
