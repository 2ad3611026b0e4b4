"""Sourcing: which warehouse ships each order line, and why (pure).

Rules, in this order unless the channel's strategy reorders them:

1. hard constraints: the warehouse is active, serves the destination's country, is allowed by the
   channel and not excluded (a failed warehouse on re-allocation); only stock above the safety stock
   (``available - safety_stock``) may be promised;
2. fewest shipments: one warehouse that ships everything beats any split; a split uses as few
   warehouses as it can (exact for two, greedy by units covered beyond);
3. shortest great-circle distance to the destination (compared to the kilometre);
4. warehouse priority (higher first);
5. at most ``max_warehouses`` warehouses per order.

Ties break on the warehouse code, so a plan is a function of its inputs. When the destination has no
coordinates the distance rule is skipped and the plan says so. Plans are all or nothing: either every
line is covered or the shortages say what is missing and nothing is allocated. ``plan_batch`` sources
several orders against one stock picture, VIP-tagged orders first, then by placement time.
"""

from oms_api.allocation.domain.batch import (
    BatchOrder,
    batch_order,
    plan_batch,
    plan_until_stable,
    same_allocation,
)
from oms_api.allocation.domain.engine import source, stock_of
from oms_api.allocation.domain.explanation import document, reallocation_prefix, unchanged_parts
from oms_api.allocation.domain.model import (
    EARTH_RADIUS_KM,
    RULES,
    Allocation,
    Destination,
    Explanation,
    Holding,
    LineExplanation,
    LineRequest,
    LineToSource,
    Part,
    Plan,
    Policy,
    Shortage,
    Site,
    Strategy,
    Verdict,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "RULES",
    "Allocation",
    "BatchOrder",
    "Destination",
    "Explanation",
    "Holding",
    "LineExplanation",
    "LineRequest",
    "LineToSource",
    "Part",
    "Plan",
    "Policy",
    "Shortage",
    "Site",
    "Strategy",
    "Verdict",
    "batch_order",
    "document",
    "plan_batch",
    "plan_until_stable",
    "reallocation_prefix",
    "same_allocation",
    "source",
    "stock_of",
    "unchanged_parts",
]
