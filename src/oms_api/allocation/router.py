"""``/v1/orders/{order_id}/allocation|allocate|reallocate``: where an order ships from, and why."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request

from oms_api.allocation import service
from oms_api.allocation.schemas import (
    AllocateRequest,
    AllocationExplanation,
    BatchAllocated,
    BatchAllocateRequest,
    BatchAllocateResult,
    BatchUnchanged,
    ReallocateRequest,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=OmsRoute)


@router.post("/allocate-batch", response_model=BatchAllocateResult)
async def orders_allocate_batch(
    body: BatchAllocateRequest,
    request: Request,
    session: Session,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> BatchAllocateResult:
    """Re-run sourcing for up to 1,000 ``confirmed`` or ``on_hold`` orders at once, against one stock picture:
    VIP-tagged orders first, then by placement time, each consuming what it takes.

    An order the batch cannot source keeps its reservations and is listed in ``unchanged`` (with
    ``out_of_stock``), as are orders in other statuses. Emits ``order.allocation_changed`` per order re-sourced.
    """
    result = await service.allocate_batch(
        session, principal, body.order_ids, reason=body.reason, settings=request.app.state.settings
    )
    allocated = []
    for order_id, plan in result.allocated.items():
        assert plan.explanation is not None
        explanation = plan.explanation
        allocated.append(
            BatchAllocated(
                order_id=order_id,
                decision=explanation.decision,
                shipments=explanation.shipments,
                summary=explanation.summary,
            )
        )
    unchanged = [BatchUnchanged(order_id=k, reason=v) for k, v in sorted(result.unchanged.items())]
    return BatchAllocateResult(allocated=allocated, unchanged=unchanged)


@router.get("/{order_id}/allocation", response_model=AllocationExplanation, responses=errors(404))
async def orders_allocation_get(
    order_id: uuid.UUID, session: Session, _: Principal = require(Scope.ORDERS_READ)
) -> AllocationExplanation:
    """The order's last sourcing run: which warehouse serves which line, the rule applied, the distances,
    and every warehouse that was rejected or not chosen, with why.

    404 ``order_not_found``, or ``allocation_not_found`` for an order that was never sourced (e.g. held at intake).
    """
    return await service.get_allocation(session, order_id)


@router.post("/{order_id}/allocate", response_model=AllocationExplanation, responses=errors(404, 409))
async def orders_allocate(
    order_id: uuid.UUID,
    body: AllocateRequest,
    request: Request,
    session: Session,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> AllocationExplanation:
    """Re-run sourcing for a ``confirmed`` or ``on_hold`` order under its channel's current policy: its
    reservations are released and the new plan reserved in one transaction.

    409 ``out_of_stock`` (nothing changes) when the new plan cannot cover every line; 409
    ``order_not_allocatable`` in other statuses. Emits ``order.allocation_changed``.
    """
    await service.allocate_order(
        session,
        principal,
        order_id,
        exclude_warehouses=body.exclude_warehouses,
        reason=body.reason,
        settings=request.app.state.settings,
    )
    return await service.get_allocation(session, order_id)


@router.post("/{order_id}/reallocate", response_model=AllocationExplanation, responses=errors(404, 409))
async def orders_reallocate(
    order_id: uuid.UUID,
    body: ReallocateRequest,
    request: Request,
    session: Session,
    principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> AllocationExplanation:
    """Move units that a warehouse cannot ship (short pick, warehouse closed) to other warehouses: they are
    released there and sourced again without that warehouse, preferring warehouses already shipping the order.

    For ``confirmed``, ``on_hold`` and ``allocated`` orders. 422 ``unknown_line``, ``unknown_warehouse`` or
    ``not_allocated_there``; 409 ``out_of_stock`` (nothing changes). Emits ``order.allocation_changed``.
    """
    moves = [service.Move(m.line_no, m.warehouse, m.quantity) for m in body.moves]
    await service.reallocate(session, principal, order_id, moves, body.reason, settings=request.app.state.settings)
    return await service.get_allocation(session, order_id)
