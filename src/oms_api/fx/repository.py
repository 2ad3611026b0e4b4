"""Every query of exchange rates."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import String, func, literal, select, true, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx.domain import Leg, PublishedRate
from oms_api.fx.models import ExchangeRate
from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import table_insert

LIST_INDEXES = ((ExchangeRate.rate_date,), (ExchangeRate.quote,), (ExchangeRate.base,))
"""The list's filters with an index ending in ``id``, most selective first (a date holds one file's rates)."""


Key = tuple[str, str, date]


async def stored_for(session: AsyncSession, rates: Sequence[PublishedRate]) -> dict[Key, ExchangeRate]:
    """The stored rows with the pair and date of one of ``rates``, by (base, quote, date).

    One range of the unique index per base: the dates between the batch's first and last (a batch is a few days
    of one publisher), the pairs checked here."""
    if not rates:
        return {}
    wanted = {rate.key for rate in rates}
    stmt = select(ExchangeRate).where(
        ExchangeRate.base.in_(sorted({rate.base for rate in rates})),
        ExchangeRate.quote.in_(sorted({rate.quote for rate in rates})),
        ExchangeRate.rate_date >= min(rate.rate_date for rate in rates),
        ExchangeRate.rate_date <= max(rate.rate_date for rate in rates),
    )
    rows = (await session.execute(stmt)).scalars()
    return {key: row for row in rows if (key := (row.base, row.quote, row.rate_date)) in wanted}


async def insert(session: AsyncSession, rows: Sequence[ExchangeRate]) -> None:
    """Insert ``rows`` (new, not added to the session) in one executemany; a pair and date already stored raises
    ``IntegrityError`` (the caller runs this in a savepoint)."""
    if not rows:
        return
    columns = [column.key for column in ExchangeRate.__table__.columns]
    await session.execute(
        table_insert(ExchangeRate.__table__),
        [{name: getattr(row, name) for name in columns} for row in rows],
    )


def _latest(on: date, *where: Any) -> Any:
    """The latest date of each pair on or before ``on`` (among the rows ``where`` selects), as a subquery."""
    return (
        select(ExchangeRate.base, ExchangeRate.quote, func.max(ExchangeRate.rate_date).label("rate_date"))
        .where(ExchangeRate.rate_date <= on, *where)
        .group_by(ExchangeRate.base, ExchangeRate.quote)
        .subquery()
    )


def _in_force(on: date, *where: Any) -> Any:
    latest = _latest(on, *where)
    return select(ExchangeRate).join(
        latest,
        (ExchangeRate.base == latest.c.base)
        & (ExchangeRate.quote == latest.c.quote)
        & (ExchangeRate.rate_date == latest.c.rate_date),
    )


def _bases() -> Any:
    """Every base currency stored, as a recursive CTE: one probe of the unique index per base (a loose index scan)
    instead of reading every row; there are a handful of bases (the ECB's EUR, a few given through the API)."""
    table = ExchangeRate.__table__
    first = select(func.min(table.c.base).label("base")).cte("fx_bases", recursive=True)
    after = table.alias("fx_after")
    following = select(func.min(after.c.base)).where(after.c.base > first.c.base).scalar_subquery()
    return first.union_all(select(following).where(first.c.base.is_not(None)))


async def legs(session: AsyncSession, currencies: Collection[str], on: date) -> list[Leg]:
    """The latest rate on or before ``on`` of every stored pair quoting one of ``currencies``: one statement of
    index probes (the bases, then per base and currency the latest date), whatever the table's size."""
    bases = _bases()
    quotes = union_all(*(select(literal(code, String(3)).label("quote")) for code in sorted(currencies))).subquery()
    probe = ExchangeRate.__table__.alias("fx_probe")
    latest = (
        select(probe.c.id)
        .where(probe.c.base == bases.c.base, probe.c.quote == quotes.c.quote, probe.c.rate_date <= on)
        .order_by(probe.c.rate_date.desc())
        .limit(1)
        .correlate(bases, quotes)
        .scalar_subquery()
    )
    stmt = (
        select(ExchangeRate)
        .select_from(bases.join(quotes, true()))
        .join(ExchangeRate, ExchangeRate.id == latest)
        .where(bases.c.base.is_not(None))
    )
    rows = (await session.execute(stmt)).scalars()
    return [Leg(row.base, row.quote, row.rate, row.rate_date, row.source) for row in rows]


async def list_rates(
    session: AsyncSession,
    page: PageParams,
    *,
    base: str | None,
    quote: str | None,
    rate_date: date | None,
    on: date | None,
) -> Slice[ExchangeRate]:
    """A page of rates, oldest first; ``on``: only the rate of each pair in force on that date."""
    equal = [(ExchangeRate.base, base), (ExchangeRate.quote, quote), (ExchangeRate.rate_date, rate_date)]
    if on is None:
        stmt = filtered_page(select(ExchangeRate), ExchangeRate.id, page.after, equal, LIST_INDEXES)
    else:
        # A date range: no index gives both it and the order, so the plan is made with the values.
        await plan_for_values(session)
        given = [column == value for column, value in equal if value is not None]
        stmt = _in_force(on, *given).order_by(ExchangeRate.id)
        if page.after is not None:
            stmt = stmt.where(ExchangeRate.id > page.after)
    rows = (await session.execute(stmt.limit(page.limit + 1))).scalars()
    return make_slice(list(rows), page.limit)
