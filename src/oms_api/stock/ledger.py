"""The stock ledger: the one module that changes stock quantities.

Every change of ``on_hand`` or ``reserved`` (a receipt, an adjustment, a transfer, an order's reservation or
release, a cart's hold, a shipment leaving) goes through ``apply``, or ``receive`` for a receipt, which may
create the level. Each is ONE conditional statement over the levels, which are row-locked in id order first
(the order every stock writer locks in, so writers never deadlock), and its ``RETURNING`` feeds the ledger
rows and the ``stock.changed`` events written in the same transaction. The condition is the invariant itself
(nothing negative, reserved <= on_hand <= ``MAX_STOCK``), so no interleaving of any number of processes can
break it; a change that would is not made at all: ``apply`` is all or nothing and says which levels fell short.
Nothing else in the service writes ``stock_levels`` quantities, ``stock_movements`` or ``stock.changed``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, Integer, Table, Uuid, and_, case, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import TypeEngine

from oms_api.kit import outbox
from oms_api.kit.bulk import insert_rows
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7
from oms_api.kit.sql import dialect_name, upsert_insert
from oms_api.stock.domain import MAX_STOCK, Balance, Change, running_figures
from oms_api.stock.models import StockLevel, StockMovement
from oms_api.stock.repository import LevelView, level_view

_LEVELS = cast(Table, StockLevel.__table__)
_MOVEMENTS = cast(Table, StockMovement.__table__)


@dataclass(frozen=True, slots=True)
class Applied:
    """What a change did: the levels as they now stand and the ledger rows, or (nothing written) the short levels."""

    levels: dict[uuid.UUID, LevelView] = field(default_factory=dict)
    movements: list[dict[str, Any]] = field(default_factory=list)
    short: frozenset[uuid.UUID] = frozenset()

    @property
    def ok(self) -> bool:
        return not self.short


_RETURNED: dict[str, TypeEngine[Any]] = {
    "id": Uuid(),
    "sku_id": Uuid(),
    "warehouse_id": Uuid(),
    "on_hand": Integer(),
    "reserved": Integer(),
    "reorder_point": Integer(),
    "safety_stock": Integer(),
    "version": Integer(),
    "updated_at": _LEVELS.c.updated_at.type,
}

_SHIFT_PG = text(
    f"""
    WITH locked AS (
        SELECT id FROM stock_levels WHERE id = ANY(CAST(:lock AS uuid[])) ORDER BY id FOR UPDATE
    )
    UPDATE stock_levels AS s
       SET on_hand = s.on_hand + v.d_on_hand, reserved = s.reserved + v.d_reserved,
           version = s.version + 1, updated_at = :now
      FROM unnest(CAST(:ids AS uuid[]), CAST(:on_hand AS integer[]), CAST(:reserved AS integer[]))
           AS v(id, d_on_hand, d_reserved)
     WHERE s.id = v.id AND s.id IN (SELECT id FROM locked)
       AND s.reserved + v.d_reserved >= 0
       AND s.reserved + v.d_reserved <= s.on_hand + v.d_on_hand
       AND s.on_hand + v.d_on_hand <= {MAX_STOCK}
    RETURNING s.id, s.sku_id, s.warehouse_id, s.on_hand, s.reserved, s.reorder_point, s.safety_stock, s.version,
              s.updated_at
    """
).columns(**_RETURNED)
"""PostgreSQL: one fixed text for any number of levels (array parameters), so one prepared statement serves
every change; the portable CASE form below is compiled anew for every number of levels."""


def _shift_portable(deltas: dict[uuid.UUID, tuple[int, int]], lock: list[uuid.UUID]) -> Any:
    levels = _LEVELS.c
    d_on_hand = case({k: v[0] for k, v in deltas.items()}, value=levels.id)
    d_reserved = case({k: v[1] for k, v in deltas.items()}, value=levels.id)
    locked = select(levels.id).where(levels.id.in_(lock)).order_by(levels.id).with_for_update().cte("locked")
    condition: ColumnElement[bool] = and_(
        levels.id.in_(list(deltas)),
        levels.id.in_(select(locked.c.id)),
        levels.reserved + d_reserved >= 0,
        levels.reserved + d_reserved <= levels.on_hand + d_on_hand,
        levels.on_hand + d_on_hand <= MAX_STOCK,
    )
    return (
        update(_LEVELS)
        .where(condition)
        .values(
            on_hand=levels.on_hand + d_on_hand,
            reserved=levels.reserved + d_reserved,
            version=levels.version + 1,
            updated_at=utcnow(),
        )
        .returning(*(levels[name] for name in _RETURNED))
    )


async def _shift(
    session: AsyncSession, deltas: dict[uuid.UUID, tuple[int, int]], lock: Iterable[uuid.UUID] = ()
) -> list[Any]:
    """Add ``(on_hand, reserved)`` deltas to levels in one statement, only where the invariants still hold;
    the levels of ``deltas`` and ``lock`` are row-locked first, all in id order. Returns the changed levels."""
    every = sorted(set(deltas) | set(lock))
    if dialect_name(session) == "postgresql":
        ids = list(deltas)
        params = {
            "lock": every,
            "ids": ids,
            "on_hand": [deltas[i][0] for i in ids],
            "reserved": [deltas[i][1] for i in ids],
            "now": utcnow(),
        }
        rows = await session.execute(_SHIFT_PG, params)
    else:
        rows = await session.execute(_shift_portable(deltas, every))
    return list(rows)


async def apply(
    session: AsyncSession, changes: Sequence[Change], *, actor: str | None, lock: Iterable[uuid.UUID] = ()
) -> Applied:
    """Make every change or none; on success write one ledger row per change and one event per level.

    ``lock`` names more levels to row-lock with these, in the same id order: every level a caller may fall
    back on, so that a re-plan after a shortfall reads figures nobody can change and needs no new lock.
    """
    if not changes:
        return Applied()
    deltas: dict[uuid.UUID, tuple[int, int]] = {}
    for change in changes:
        on_hand, reserved = deltas.get(change.level.level_id, (0, 0))
        deltas[change.level.level_id] = (on_hand + change.on_hand, reserved + change.reserved)
    rows = await _shift(session, deltas, lock)
    if len(rows) < len(deltas):  # some level would break an invariant: undo the others, write nothing
        made = {row.id: deltas[row.id] for row in rows}
        if made:
            await _shift(session, {k: (-on_hand, -reserved) for k, (on_hand, reserved) in made.items()})
        return Applied(short=frozenset(set(deltas) - set(made)))
    return await _record(session, changes, {row.id: row for row in rows}, actor)


async def receive(session: AsyncSession, change: Change, *, actor: str | None) -> Applied:
    """Raise ``on_hand`` by ``change.on_hand > 0``, creating the level if it has none (one upsert, safe under
    concurrency); short (nothing written) when the level would pass ``MAX_STOCK``."""
    level = change.level
    stmt = upsert_insert(session, StockLevel).values(
        id=level.level_id,
        sku_id=level.sku_id,
        warehouse_id=level.warehouse_id,
        on_hand=change.on_hand,
        reserved=0,
        safety_stock=0,
        version=1,
        updated_at=utcnow(),
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[StockLevel.sku_id, StockLevel.warehouse_id],
        set_={
            "on_hand": StockLevel.on_hand + stmt.excluded.on_hand,
            "version": StockLevel.version + 1,
            "updated_at": stmt.excluded.updated_at,
        },
        where=StockLevel.on_hand <= MAX_STOCK - stmt.excluded.on_hand,
    ).returning(*(_LEVELS.c[name] for name in _RETURNED))
    row = (await session.execute(stmt.execution_options(synchronize_session=False))).first()
    if row is None:
        return Applied(short=frozenset({level.level_id}))
    # The level may have existed under another id: the ledger row and the event name the real one.
    placed = replace(change, level=replace(level, level_id=row.id))
    return await _record(session, [placed], {row.id: row}, actor)


async def _record(
    session: AsyncSession, changes: Sequence[Change], rows: dict[uuid.UUID, Any], actor: str | None
) -> Applied:
    """The ledger rows (one per change, with the running figures) and one ``stock.changed`` per level; ``rows``
    are the levels as the statement returned them."""
    now = utcnow()
    final = {level_id: Balance(row.on_hand, row.reserved) for level_id, row in rows.items()}
    movements = [
        {
            "id": uuid7(),
            "sku_id": change.level.sku_id,
            "warehouse_id": change.level.warehouse_id,
            "type": change.kind,
            "on_hand_delta": change.on_hand,
            "reserved_delta": change.reserved,
            "on_hand_after": after.on_hand,
            "reserved_after": after.reserved,
            "reason": change.reason,
            "reference": change.reference,
            "group_id": change.group_id,
            "note": change.note,
            "actor": actor,
            "created_at": now,
        }
        for change, after in zip(changes, running_figures(changes, final), strict=True)
    ]
    await insert_rows(session, _MOVEMENTS, movements)
    last: dict[uuid.UUID, Change] = {}
    for change in changes:  # one event per level, in the order the levels first appear, named by its last change
        last[change.level.level_id] = change
    levels = {
        level_id: level_view(rows[level_id], change.level.sku, change.level.warehouse)
        for level_id, change in last.items()
    }
    for level_id, change in last.items():
        level, now_at = change.level, levels[level_id]
        outbox.record(
            session,
            "stock.changed",
            "stock_level",
            level_id,
            {
                "sku": level.sku,
                "sku_id": str(level.sku_id),
                "warehouse": level.warehouse,
                "warehouse_id": str(level.warehouse_id),
                "on_hand": now_at.on_hand,
                "reserved": now_at.reserved,
                "available": now_at.available,
            },
            actor=actor,
            reason=change.kind,
        )
    return Applied(levels=levels, movements=movements)
