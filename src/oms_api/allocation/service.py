"""The allocation context's service: what other contexts may ask of sourcing (other contexts import only this).

- ``sourcing``: plan an order's or a cart's units with the engine under the channel's policy and reserve
  (or hold) the plan; the shared ``out_of_stock`` refusal; the stored plans and their explanations.
- ``resourcing``: move an order's stock to other warehouses, all of it, part of it, or many orders at once.
"""

from __future__ import annotations

from oms_api.allocation.domain import LineToSource, Policy
from oms_api.allocation.resourcing import (
    BatchSourced,
    OrderToSource,
    resource_batch,
    resource_part,
    resource_whole,
)
from oms_api.allocation.sourcing import (
    Sourced,
    destination_of,
    get_plan,
    latest_explanation,
    out_of_stock,
    picture,
    policy_of,
    source_and_hold,
    source_and_reserve,
    warm_up,
)

__all__ = [
    "BatchSourced",
    "LineToSource",
    "OrderToSource",
    "Policy",
    "Sourced",
    "destination_of",
    "get_plan",
    "latest_explanation",
    "out_of_stock",
    "picture",
    "policy_of",
    "resource_batch",
    "resource_part",
    "resource_whole",
    "source_and_hold",
    "source_and_reserve",
    "warm_up",
]
