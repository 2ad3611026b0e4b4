"""Every query of taxes."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.taxes.models import TaxCategory, TaxRate

# --- categories ------------------------------------------------------------------------------------------------


async def category(session: AsyncSession, code: str, *, for_update: bool = False) -> TaxCategory | None:
    """A category by code; ``for_update`` while deleting it or writing its rates (which serialises the overlap
    check of a category's rates)."""
    stmt = select(TaxCategory).where(TaxCategory.code == code)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def category_exists(session: AsyncSession, code: str) -> bool:
    """Whether the category exists, its row held FOR SHARE until the transaction ends: a row naming it (a SKU)
    cannot be written while the category is being deleted (the share lock waits, then finds nothing)."""
    stmt = select(TaxCategory.id).where(TaxCategory.code == code).with_for_update(read=True)
    return (await session.execute(stmt)).first() is not None


async def add_category(session: AsyncSession, row: TaxCategory) -> bool:
    """Add a category; False when its code is taken (a concurrent request won: the savepoint keeps the transaction
    usable, so the caller answers 409 instead of 500)."""
    try:
        async with session.begin_nested():
            session.add(row)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def list_categories(session: AsyncSession, page: PageParams) -> Slice[TaxCategory]:
    stmt = select(TaxCategory).order_by(TaxCategory.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(TaxCategory.id > page.after)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def delete_category(session: AsyncSession, category_id: uuid.UUID) -> None:
    await session.execute(delete(TaxCategory).where(TaxCategory.id == category_id))


# --- rates -----------------------------------------------------------------------------------------------------


def _in_force(on: date) -> ColumnElement[bool]:
    return and_(TaxRate.valid_from <= on, or_(TaxRate.valid_to.is_(None), TaxRate.valid_to > on))


async def rate(session: AsyncSession, rate_id: uuid.UUID, *, for_update: bool = False) -> TaxRate | None:
    stmt = select(TaxRate).where(TaxRate.id == rate_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalars().first()


async def a_rate_of_category(session: AsyncSession, code: str) -> TaxRate | None:
    """One rate naming the category (the oldest), if any."""
    stmt = select(TaxRate).where(TaxRate.category == code).order_by(TaxRate.id).limit(1)
    return (await session.execute(stmt)).scalars().first()


async def overlapping(
    session: AsyncSession,
    *,
    country: str,
    region: str | None,
    category: str,
    valid_from: date,
    valid_to: date | None,
    exclude: uuid.UUID | None = None,
) -> TaxRate | None:
    """A rate of the same country, region and category whose validity shares a day with ``[valid_from,
    valid_to)``, if any (the earliest)."""
    stmt = select(TaxRate).where(
        TaxRate.country == country,
        TaxRate.category == category,
        TaxRate.region.is_(None) if region is None else TaxRate.region == region,
        or_(TaxRate.valid_to.is_(None), TaxRate.valid_to > valid_from),
    )
    if valid_to is not None:
        stmt = stmt.where(TaxRate.valid_from < valid_to)
    if exclude is not None:
        stmt = stmt.where(TaxRate.id != exclude)
    return (await session.execute(stmt.order_by(TaxRate.valid_from, TaxRate.id).limit(1))).scalars().first()


async def list_rates(
    session: AsyncSession,
    page: PageParams,
    *,
    country: str | None,
    region: str | None,
    category: str | None,
    on: date | None,
) -> Slice[TaxRate]:
    """A page of rates, oldest first: a range of the index of the most selective filter given (``kit.keyset``);
    ``on`` (the rates in force that day) is a date range, planned with its values."""
    stmt = filtered_page(
        select(TaxRate),
        TaxRate.id,
        page.after,
        [(TaxRate.region, region), (TaxRate.category, category), (TaxRate.country, country)],
        [(TaxRate.region,), (TaxRate.country,), (TaxRate.category,)],
    ).limit(page.limit + 1)
    if on is not None:
        await plan_for_values(session)
        stmt = stmt.where(_in_force(on))
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def delete_rate(session: AsyncSession, rate_id: uuid.UUID) -> None:
    await session.execute(delete(TaxRate).where(TaxRate.id == rate_id))


_DESTINATION_COLUMNS = (
    TaxRate.id,
    TaxRate.country,
    TaxRate.region,
    TaxRate.category,
    TaxRate.rate_ppm,
    TaxRate.name,
    TaxRate.valid_from,
    TaxRate.valid_to,
)


async def rates_at(session: AsyncSession, country: str, region: str | None, on: date) -> list[Any]:
    """Every rate in force on ``on`` that applies at a destination (country-wide, or for its region): one SELECT
    of plain rows (the country's index; a country has a handful of rates)."""
    applies = TaxRate.region.is_(None) if region is None else or_(TaxRate.region.is_(None), TaxRate.region == region)
    stmt = select(*_DESTINATION_COLUMNS).where(TaxRate.country == country, applies, _in_force(on))
    return list((await session.execute(stmt)).all())
