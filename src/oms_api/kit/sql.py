"""Small portable-SQL helpers (PostgreSQL and SQLite share these spellings)."""

from functools import cache
from typing import Any

from sqlalchemy import ColumnElement, Table, insert, or_
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


@cache
def table_insert(table: Table) -> Any:
    """The table's plain INSERT, built once: executed with a dict (or a list of dicts) of column values.

    Hot paths execute statements built once with their values as parameters: ``insert(Model).values(**row)``
    would build, coerce and cache-key every value on every call, which costs more CPU than the database
    spends running it.
    """
    return insert(table)


@cache
def insert_ignoring_conflicts(dialect: str, table: Table, *index_elements: str) -> Any:
    """``INSERT … ON CONFLICT [(index_elements)] DO NOTHING`` for ``dialect``, built once (rowcount 0: a conflict)."""
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    return stmt.on_conflict_do_nothing(index_elements=list(index_elements) or None)
