"""Storage of sourcing runs (``allocation_plans``), and the bulk order reads and writes of batch sourcing."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation.models import AllocationPlan
from oms_api.kit.bulk import insert_rows
from oms_api.kit.outbox import Event
from oms_api.kit.sql import table_insert
from oms_api.orders.models import Order, OrderLine

_PLANS = cast(Table, AllocationPlan.__table__)
_EVENTS = cast(Table, Event.__table__)


async def insert_plan(session: AsyncSession, values: dict[str, Any]) -> None:
    """One Core INSERT (placement's hot path stays one statement per step)."""
    await session.execute(table_insert(_PLANS), values)


async def latest_plan(session: AsyncSession, order_id: uuid.UUID) -> AllocationPlan | None:
    stmt = select(AllocationPlan).where(AllocationPlan.order_id == order_id).order_by(AllocationPlan.id.desc()).limit(1)
    return (await session.execute(stmt)).scalars().first()


async def insert_plans(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Many plans at once (``bulk.insert_rows``)."""
    if rows:
        await insert_rows(session, _PLANS, rows)


async def insert_events(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Outbox events of a batch (``kit.outbox.Event`` rows, as ``outbox.record`` builds them), written in bulk:
    ``outbox.flush_events``' one multi-row INSERT would pass PostgreSQL's 32,767 parameters past 4,095 events."""
    if rows:
        await insert_rows(session, _EVENTS, rows)


@dataclass(frozen=True, slots=True)
class OrderToSource:
    """What batch sourcing needs of an order (read straight, row-locked: the orders service reads one at a time)."""

    id: uuid.UUID
    channel_id: uuid.UUID
    external_ref: str
    status: str
    tags: list[str]
    placed_at: datetime
    shipping_address: dict[str, Any] | None
    pickup_warehouse_id: uuid.UUID | None
    version: int
    lines: list[Any] = field(default_factory=list)


async def orders_to_source(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[OrderToSource]:
    """The orders (locked in id order) with their lines, in two queries."""
    ids = sorted(set(order_ids))
    if not ids:
        return []
    found = {
        row.id: OrderToSource(
            row.id,
            row.channel_id,
            row.external_ref,
            row.status,
            list(row.tags or []),
            row.placed_at,
            row.shipping_address,
            row.pickup_warehouse_id,
            row.version,
        )
        for row in await session.execute(
            select(
                Order.id,
                Order.channel_id,
                Order.external_ref,
                Order.status,
                Order.tags,
                Order.placed_at,
                Order.shipping_address,
                Order.pickup_warehouse_id,
                Order.version,
            )
            .where(Order.id.in_(ids))
            .order_by(Order.id)
            .with_for_update()
        )
    }
    lines = await session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.line_no, OrderLine.sku, OrderLine.sku_id, OrderLine.quantity)
        .where(OrderLine.order_id.in_(ids))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    )
    for line in lines:
        found[line.order_id].lines.append(line)
    return list(found.values())


async def bump_versions(session: AsyncSession, order_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Orders whose allocation changed get a new version (their ETag changes), in one statement."""
    if order_ids:
        await session.execute(
            update(Order)
            .where(Order.id.in_(list(order_ids)))
            .values(version=Order.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
