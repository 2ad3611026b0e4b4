"""Key rotation: re-encrypt a table's sealed columns under the current key (``oms-api secrets rotate``).

The owner of each table calls ``reseal`` from its service (so the table is still written by its context only);
this module is the generic writer. It walks the table by primary key in batches, each batch a short transaction
of its own: a plain read, then one compare-and-set UPDATE per changed row (``WHERE id = … AND column IS <the
value read>``). No lock outlives a batch, and a row that the service changed meanwhile is left alone: the
service sealed its new value with the current key already. Values already under the current key are skipped
without decrypting, so a second run does nothing, and running it again is how to check that none is left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Column, Table, Text, and_, bindparam, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.kit import secrets

DEFAULT_BATCH = 200


@dataclass
class Resealed:
    """What rotation did to one table."""

    table: str
    resealed: int = 0
    current: int = 0


def sealed_columns(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` whose values are sealed."""
    return [column for column in table.columns if isinstance(column.type, secrets.Sealed)]


async def reseal(
    sessions: async_sessionmaker[AsyncSession], model: type[Any], *, batch_size: int = DEFAULT_BATCH
) -> Resealed:
    """Re-encrypt every sealed value of ``model``'s table that the current key did not seal.

    ``SecretUnreadable`` (naming the table, column and row) stops it; the batches done so far stay done.
    """
    table = cast(Table, model.__table__)
    (pk,) = table.primary_key.columns
    columns = sealed_columns(table)
    report = Resealed(table.name)
    if not columns:
        return report
    keyring = secrets.active()
    raw = [type_coerce(c, Text).label(c.name) for c in columns]  # the stored text, not unsealed
    write = (
        update(table)
        .where(
            pk == bindparam("row_id"),
            and_(*(type_coerce(c, Text).is_not_distinct_from(bindparam(f"old_{c.name}", type_=Text)) for c in columns)),
        )
        .values({c.name: bindparam(f"new_{c.name}", type_=Text) for c in columns})
    )
    after: Any = None
    while True:
        async with sessions() as session, session.begin():
            query = select(pk, *raw).order_by(pk).limit(batch_size)
            if after is not None:
                query = query.where(pk > after)
            rows = (await session.execute(query)).all()
            changes = []
            for row in rows:
                values = {c.name: getattr(row, c.name) for c in columns}
                new = {name: _resealed(keyring, table.name, name, row[0], v) for name, v in values.items()}
                report.current += sum(1 for name, v in values.items() if v is not None and new[name] == v)
                if new != values:
                    report.resealed += sum(1 for name in values if new[name] != values[name])
                    changes.append(
                        {"row_id": row[0]}
                        | {f"old_{n}": v for n, v in values.items()}
                        | {f"new_{n}": v for n, v in new.items()}
                    )
            if changes:
                await session.execute(write, changes)
        if len(rows) < batch_size:
            return report
        after = rows[-1][0]


def _resealed(keyring: secrets.Keyring, table: str, column: str, row_id: Any, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return keyring.reseal(value) or value
    except secrets.SecretUnreadable as exc:
        raise secrets.SecretUnreadable(f"{table}.{column} of row {row_id}: {exc}") from None
