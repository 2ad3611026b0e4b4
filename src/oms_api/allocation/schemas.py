"""HTTP contract of sourcing: plan explanations, allocate and reallocate requests, the change event."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from oms_api.kit.schemas import SINGLE_LINE, Code, OutModel, StrictModel

Reason = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=SINGLE_LINE)]


class PlanDestination(OutModel):
    country: str | None
    latitude: float | None
    longitude: float | None
    precision: str | None = Field(
        description="address (coordinates given), city or country (offline geocoder), null (not located)"
    )
    place: str | None = Field(description="What the coordinates stand for, e.g. 'Munich, DE'")


class PlanPart(OutModel):
    warehouse: str
    warehouse_id: uuid.UUID
    quantity: int
    distance_km: float | None = Field(description="Great-circle distance to the destination; null if unknown")
    rule: str = Field(
        description="Why here: single_warehouse, split_order (whole line, order split), split_line (line split), "
        "already_shipping, nearest_per_line, unchanged (kept by a re-allocation)"
    )


class PlanLine(OutModel):
    line_no: int
    sku: str
    quantity: int
    allocations: list[PlanPart]


class WarehouseVerdict(OutModel):
    warehouse: str
    warehouse_id: uuid.UUID
    status: str = Field(description="chosen, not_chosen (lost on a soft rule) or rejected (hard constraint)")
    reason: str = Field(
        description="e.g. inactive, does_not_serve_country, not_allowed_by_channel, excluded, not_pickup_warehouse, "
        "no_stock, cannot_ship_whole_order, farther, lower_priority, not_needed, tie_break"
    )
    detail: str
    priority: int
    distance_km: float | None


class AllocationExplanation(OutModel):
    """The order's last sourcing run: which warehouse serves which line, and why."""

    id: uuid.UUID = Field(description="Id of this sourcing run")
    order_id: uuid.UUID
    trigger: str = Field(description="placement, allocate or reallocate")
    reason: str | None
    strategy: str
    rules: list[str] = Field(description="The rules in the order they were applied")
    decision: str = Field(description="single_warehouse, split or nearest_per_line")
    summary: str
    shipments: int = Field(description="Warehouses the order ships from")
    destination: PlanDestination
    lines: list[PlanLine] = Field(description="Every line of the order with where its units are reserved")
    warehouses: list[WarehouseVerdict] = Field(
        description="Every warehouse holding the SKUs of the run, with what sourcing made of it"
    )
    notes: list[str]
    actor: str | None
    created_at: datetime


class AllocateRequest(StrictModel):
    exclude_warehouses: Annotated[list[Code], Field(max_length=50)] = Field(
        default_factory=list, description="Codes or ids of warehouses that must not ship this order"
    )
    reason: Reason | None = None


class ReallocationMove(StrictModel):
    line_no: int = Field(ge=1, le=10_000, description="The order line")
    warehouse: Code = Field(description="Code or id of the warehouse that cannot ship these units")
    quantity: int = Field(ge=1, le=1_000_000, description="Units of the line to move away from it")


class ReallocateRequest(StrictModel):
    moves: Annotated[list[ReallocationMove], Field(min_length=1, max_length=100)]
    reason: Reason = Field(description="Why, e.g. 'short pick' or 'warehouse closed'", examples=["short pick"])


class BatchAllocateRequest(StrictModel):
    order_ids: Annotated[list[uuid.UUID], Field(min_length=1, max_length=1000)]
    reason: Reason | None = None


class BatchAllocated(OutModel):
    order_id: uuid.UUID
    decision: str
    shipments: int
    summary: str


class BatchUnchanged(OutModel):
    order_id: uuid.UUID
    reason: str = Field(
        description="same_allocation (the new plan is what it holds), out_of_stock, order_not_allocatable, "
        "unknown_sku or order_not_found"
    )


class BatchAllocateResult(OutModel):
    allocated: list[BatchAllocated] = Field(description="Orders re-sourced, in the order they were sourced")
    unchanged: list[BatchUnchanged] = Field(description="Orders left exactly as they were, with why")


class AllocationChangePart(BaseModel):
    line_no: int | None
    sku: str
    warehouse: str
    warehouse_id: uuid.UUID
    quantity: int


class AllocationChanged(BaseModel):
    """``order.allocation_changed``: an order's stock was re-sourced (allocate or reallocate)."""

    order_id: uuid.UUID
    external_ref: str
    order_status: str
    trigger: str = Field(description="allocate or reallocate")
    reason: str | None
    plan_id: uuid.UUID = Field(description="GET /v1/orders/{order_id}/allocation explains it")
    decision: str
    shipments: int
    released: list[AllocationChangePart] = Field(description="Units given back, per line and warehouse")
    allocations: list[AllocationChangePart] = Field(description="The order's active allocations afterwards")
    version: int
