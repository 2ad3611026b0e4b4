"""Packing's use cases, for its router: standard boxes (``box_types``), choosing boxes (``selection``), and
packages with pack verification by scan (``packages``)."""

from __future__ import annotations

from oms_api.fulfillment.packing.box_types import create_box_type, get_box_type, list_box_types, update_box_type
from oms_api.fulfillment.packing.packages import create_packages, get_package, list_packages, scan, seal
from oms_api.fulfillment.packing.selection import select_boxes

__all__ = [
    "create_box_type",
    "create_packages",
    "get_box_type",
    "get_package",
    "list_box_types",
    "list_packages",
    "scan",
    "seal",
    "select_boxes",
    "update_box_type",
]
