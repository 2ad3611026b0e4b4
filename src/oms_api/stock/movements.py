"""Stock moved by hand: receipts, adjustments and transfers between warehouses (``POST /v1/stock-movements``).

Each is one ledger change (``stock.ledger``): a conditional statement whose ``RETURNING`` feeds the ledger rows
and the ``stock.changed`` events, so nothing reads a figure to decide a write. A refused change wrote nothing;
only then are the figures read, to explain why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import service as catalog
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.ids import uuid7
from oms_api.stock import domain, ledger, repository
from oms_api.stock.domain import MAX_STOCK, Change, LevelRef
from oms_api.stock.repository import LevelView, MovementView
from oms_api.stock.schemas import AdjustmentCreate, ReceiptCreate, TransferCreate
from oms_api.stock.warehouses import get_warehouse

if TYPE_CHECKING:
    from oms_api.catalog.models import Sku
    from oms_api.stock.models import Warehouse


@dataclass(frozen=True, slots=True)
class MovementResult:
    """What a manual movement wrote: its ledger rows and the levels as they now stand."""

    movements: list[MovementView]
    stock_levels: list[LevelView]


async def _level(session: AsyncSession, sku: Sku, warehouse: Warehouse) -> tuple[LevelRef, bool]:
    """The SKU's level at the warehouse, and whether it exists (a new id when not: a receipt creates it)."""
    balance = await repository.level_balance(session, sku.id, warehouse.id)
    return LevelRef(balance.id if balance else uuid7(), sku.id, sku.sku, warehouse.id, warehouse.code), bool(balance)


def _insufficient(level: LevelRef, requested: int, available: int) -> Conflict:
    return Conflict(
        f"Only {available} of {level.sku!r} available at {level.warehouse!r}; {requested} needed",
        code="insufficient_stock",
        sku=level.sku,
        warehouse=level.warehouse,
        requested=requested,
        available=available,
    )


async def _refused(session: AsyncSession, change: Change) -> Conflict:
    """Why a change was refused: over the stock limit, or not enough available (read only now, to explain)."""
    if change.on_hand > 0:
        return Conflict(
            f"{change.level.sku!r} at {change.level.warehouse!r} would exceed {MAX_STOCK} units on hand",
            code="stock_limit_exceeded",
            limit=MAX_STOCK,
        )
    balance = await repository.level_balance(session, change.level.sku_id, change.level.warehouse_id)
    return _insufficient(change.level, -change.on_hand, balance.available if balance else 0)


async def _apply(session: AsyncSession, changes: list[Change], actor: str, exists: set[uuid.UUID]) -> ledger.Applied:
    """Change existing levels in one statement, then receive into any that does not exist yet."""
    now_existing = [c for c in changes if c.level.level_id in exists]
    applied = await ledger.apply(session, now_existing, actor=actor)
    if not applied.ok:
        short = next(c for c in now_existing if c.level.level_id in applied.short)
        raise await _refused(session, short)
    figures, movements = dict(applied.levels), list(applied.movements)
    for change in changes:
        if change.level.level_id in exists:
            continue
        received = await ledger.receive(session, change, actor=actor)
        if not received.ok:
            raise await _refused(session, change)
        figures.update(received.levels)
        movements += received.movements
    return ledger.Applied(figures, movements)


def _result(changes: list[Change], applied: ledger.Applied) -> MovementResult:
    refs = {(c.level.sku_id, c.level.warehouse_id): c.level for c in changes}
    movements = [
        MovementView(
            sku=refs[(m["sku_id"], m["warehouse_id"])].sku,
            warehouse=refs[(m["sku_id"], m["warehouse_id"])].warehouse,
            **{k: m[k] for k in MovementView.__dataclass_fields__ if k not in ("sku", "warehouse")},
        )
        for m in applied.movements
    ]
    levels = list(applied.levels.values())
    order = {(c.level.sku_id, c.level.warehouse_id): i for i, c in enumerate(changes)}
    levels.sort(key=lambda level: order[(level.sku_id, level.warehouse_id)])
    return MovementResult(movements=movements, stock_levels=levels)


async def create_movement(
    session: AsyncSession, actor: Principal, data: ReceiptCreate | AdjustmentCreate | TransferCreate
) -> MovementResult:
    """Receive, adjust or transfer stock by hand. Inactive SKUs and warehouses may still hold stock."""
    if isinstance(data, TransferCreate):
        return await _transfer(session, actor, data)
    sku = await catalog.get_sku(session, data.sku)
    warehouse = await get_warehouse(session, data.warehouse)
    reason: str | None = None
    if isinstance(data, AdjustmentCreate):
        problem = domain.adjustment_error(data.reason, data.quantity)
        if problem is not None:
            raise field_error("/body/quantity", problem, code="wrong_sign")
        reason = data.reason.value
    level, found = await _level(session, sku, warehouse)
    change = Change(level, data.type, on_hand=data.quantity, reference=data.reference, reason=reason, note=data.note)
    if not found and data.quantity < 0:
        raise _insufficient(level, -data.quantity, 0)
    exists = {level.level_id} if found and data.quantity < 0 else set()
    return _result([change], await _apply(session, [change], actor.actor, exists))


async def _transfer(session: AsyncSession, actor: Principal, data: TransferCreate) -> MovementResult:
    """Both sides in one transaction: the levels that exist change in ONE statement, locked in id order like every
    stock writer's, so a transfer never deadlocks with a reservation or an opposite transfer."""
    sku = await catalog.get_sku(session, data.sku)
    source = await get_warehouse(session, data.from_warehouse)
    target = await get_warehouse(session, data.to_warehouse)
    if source.id == target.id:
        raise field_error("/body/to_warehouse", "A transfer needs two different warehouses", code="same_warehouse")
    out_level, out_found = await _level(session, sku, source)
    if not out_found:
        raise _insufficient(out_level, data.quantity, 0)
    in_level, in_found = await _level(session, sku, target)
    group_id = uuid7()
    changes = [
        Change(level, kind, on_hand=quantity, reference=data.reference, group_id=group_id, note=data.note)
        for level, kind, quantity in (
            (out_level, "transfer_out", -data.quantity),
            (in_level, "transfer_in", data.quantity),
        )
    ]
    exists = {out_level.level_id} | ({in_level.level_id} if in_found else set())
    return _result(changes, await _apply(session, changes, actor.actor, exists))
