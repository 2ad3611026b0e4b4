"""A list's page read as one range of the index that serves its filters, planned for the values it asks for.

Lists are ordered by ``id`` (the cursor) and filtered by equality, and each such filter has an index that ends in
``id`` (see the models). PostgreSQL takes that index only when nothing looks cheaper, and two things make walking
the primary key look cheaper than it is:

- the planner assumes the rows a filter matches are spread evenly over the ids: for a filter that a tenth of the
  rows match, it expects a page after ten pages' worth of the primary key. They rarely are: active carts,
  pending shipments and confirmed orders are the recent rows, so the walk discards nearly the whole table first;
- asyncpg prepares every statement, and after five runs PostgreSQL may switch to a generic plan, made without
  the values: every filter then looks like it matches 1/n_distinct of the rows, and the walk wins again.

``index_range`` asks for the page as what it is, a range of that index. For an index on (a, b, id), the filters
a = x and b = y, and the cursor ``after``::

    a = x AND b >= y AND b <= y AND id > after ORDER BY b, id

These are the rows of ``a = x AND b = y AND id > after ORDER BY id``, in the same order. Written as ``b = y``,
the last filter would make ``b`` a constant that the planner drops from the order, leaving ``ORDER BY id``, which
the primary key serves; written as a range (estimated as the equality it is), only this index gives the order
without sorting every match, and its scan starts at (x, y, after) and stops after (x, y): page 1000 costs what
page 1 does, and a generic plan, which knows no values, still finds that index the only way to the order.

A date range is another matter: no index serves both it and the order, so the plan depends on how much of the
table the range holds, which only its values tell. ``plan_for_values`` makes PostgreSQL plan the rest of the
transaction with them, never with a prepared statement's generic plan (which would walk the primary key).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import Select, text
from sqlalchemy.ext.asyncio import AsyncSession

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def index_range(stmt: S, id_column: Any, after: uuid.UUID | None, *leading: tuple[Any, Any]) -> S:
    """``stmt`` filtered by ``leading`` and read from just after ``after`` as a range of their index (see above).

    ``leading`` are (column, value) pairs of equality filters, in the order of the index's columns (an index on
    those columns then ``id`` must exist); without any, this is ``id > after ORDER BY id``.
    """
    if not leading:
        return (stmt if after is None else stmt.where(id_column > after)).order_by(id_column)
    *equal, (last, value) = leading
    for column, equal_to in equal:
        stmt = stmt.where(column == equal_to)
    stmt = stmt.where(last >= value, last <= value)
    if after is not None:
        stmt = stmt.where(id_column > after)
    return stmt.order_by(last, id_column)


def filtered_page(
    stmt: S, id_column: Any, after: uuid.UUID | None, equal: Sequence[tuple[Any, Any]], indexes: Sequence[Sequence[Any]]
) -> S:
    """``stmt`` with the equality filters ``equal`` ((column, value or None) pairs): read as a range of the first
    of ``indexes`` (each: its columns before ``id``) whose columns all have a value, the other filters checked on
    its rows. List ``indexes`` most selective first (an external reference before a customer before a status).
    """
    given = [(column, value) for column, value in equal if value is not None]

    def value_of(column: Any) -> Any:
        return next((value for named, value in given if named is column), None)

    leading: list[tuple[Any, Any]] = []
    for index in indexes:
        if all(value_of(column) is not None for column in index):
            leading = [(column, value_of(column)) for column in index]
            break
    stmt = index_range(stmt, id_column, after, *leading)
    for column, value in given:
        if not any(column is led for led, _ in leading):
            stmt = stmt.where(column == value)
    return stmt


async def plan_for_values(session: AsyncSession) -> None:
    """Plan the rest of this transaction's statements with their values on PostgreSQL (never a prepared
    statement's generic plan), for lists filtered by a date range; one ``SET LOCAL`` round trip. SQLite plans
    every statement afresh anyway."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
