"""Storage of sourcing runs (``allocation_plans``): one row per successful run, the newest is the order's plan."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation.models import AllocationPlan
from oms_api.kit.bulk import insert_rows

_PLANS = cast(Table, AllocationPlan.__table__)


async def insert_plans(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """One multi-row INSERT (COPY for a large batch): placement's hot path stays one statement per step."""
    await insert_rows(session, _PLANS, rows)


async def latest_plan(session: AsyncSession, order_id: uuid.UUID) -> AllocationPlan | None:
    stmt = select(AllocationPlan).where(AllocationPlan.order_id == order_id).order_by(AllocationPlan.id.desc()).limit(1)
    return (await session.execute(stmt)).scalars().first()
