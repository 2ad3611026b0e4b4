"""``/v1/orders/{order_id}/allocation|allocate|reallocate`` and ``/v1/orders/allocate-batch``: where an order's
units ship from, why, and moving them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import service as allocation
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
from oms_api.kit.errors import NotFound
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.route_marks import BULK_BODY
from oms_api.kit.routing import OmsRoute
from oms_api.orders import service

router = APIRouter(prefix="/v1/orders", tags=["orders"], route_class=OmsRoute)


@router.post("/allocate-batch", response_model=BatchAllocateResult, openapi_extra=BULK_BODY)
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
        session, principal, body.order_ids, request.app.state.settings, reason=body.reason
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
    return await _allocation(session, order_id)


async def _allocation(session: AsyncSession, order_id: uuid.UUID) -> AllocationExplanation:
    """The order's last sourcing run (404 ``order_not_found``, or ``allocation_not_found`` if it never ran)."""
    found = await allocation.get_plan(session, order_id)
    if found is None:
        await service.get_order(session, order_id)  # 404 order_not_found if there is no such order
        raise NotFound(f"Order {order_id} has no sourcing plan (it was never allocated)", code="allocation_not_found")
    return found


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
        request.app.state.settings,
        exclude_warehouses=body.exclude_warehouses,
        reason=body.reason,
    )
    return await _allocation(session, order_id)


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
    await service.reallocate(session, principal, order_id, moves, body.reason, request.app.state.settings)
    return await _allocation(session, order_id)
