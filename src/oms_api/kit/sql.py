"""Small portable-SQL helpers (PostgreSQL and SQLite share these spellings)."""

from typing import Any

from sqlalchemy import ColumnElement, insert, or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.ids import parse_uuid


def upsert_insert(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ``on_conflict_do_nothing/_update`` on the session's dialect."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(table)


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def id_or_code(id_column: Any, code_column: Any, ref: str) -> ColumnElement[bool]:
    """Match a row by its id or its code: paths like ``/v1/skus/{sku}`` accept either."""
    as_id = parse_uuid(ref)
    return or_(id_column == as_id, code_column == ref) if as_id else code_column == ref


async def insert_rows(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    """Insert many rows as ONE multi-row INSERT whose SQL is compiled once and cached.

    ``insert(...).values([...])`` is recompiled for every call (SQLAlchemy does not cache
    multi-values statements); an executemany of the table's INSERT is batched into one
    statement by the dialect's "insertmanyvalues" (enabled without RETURNING in kit.db).
    """
    if rows:
        await session.execute(insert(model.__table__), rows)
