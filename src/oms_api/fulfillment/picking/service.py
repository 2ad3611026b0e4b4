"""Picking's use cases, for its router: the warehouse layout (``layout``), generating and reading pick lists
(``pick_lists``) and confirming picks by scanning (``confirming``)."""

from __future__ import annotations

from oms_api.fulfillment.picking.confirming import confirm_line
from oms_api.fulfillment.picking.layout import (
    assign_sku_bin,
    create_bin,
    create_zone,
    get_bin,
    get_zone,
    list_bins,
    list_sku_bins,
    list_zones,
    unassign_sku_bin,
    update_bin,
    update_zone,
)
from oms_api.fulfillment.picking.pick_lists import generate, get_pick_list, list_pick_lists

__all__ = [
    "assign_sku_bin",
    "confirm_line",
    "create_bin",
    "create_zone",
    "generate",
    "get_bin",
    "get_pick_list",
    "get_zone",
    "list_bins",
    "list_pick_lists",
    "list_sku_bins",
    "list_zones",
    "unassign_sku_bin",
    "update_bin",
    "update_zone",
]
