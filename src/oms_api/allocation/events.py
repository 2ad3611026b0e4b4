"""Allocation event types."""

from __future__ import annotations

from oms_api.allocation.schemas import AllocationChanged
from oms_api.kit.event_types import declare

ORDER_ALLOCATION_CHANGED = declare(
    "order.allocation_changed",
    "An order's stock was re-sourced (POST …/allocate or …/reallocate): units released at some warehouses "
    "and reserved at others. Shipments not yet picked should follow the new allocations.",
    AllocationChanged,
)
