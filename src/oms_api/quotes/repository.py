"""Every query of quotes, their lines and their number counter."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.keyset import filtered_page
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import dialect_name, insert_ignoring_conflicts
from oms_api.quotes.domain import QuoteStatus
from oms_api.quotes.models import Quote, QuoteLine, QuoteNumber


async def next_number(session: AsyncSession, year: int) -> int:
    """Take the year's next quote number: the counter row is made once, then moved by one conditional UPDATE
    (which also serialises concurrent creations on it until they commit)."""
    await session.execute(
        insert_ignoring_conflicts(dialect_name(session), QuoteNumber.__table__, "year").values(year=year, next_number=1)
    )
    taken = await session.execute(
        update(QuoteNumber)
        .where(QuoteNumber.year == year)
        .values(next_number=QuoteNumber.next_number + 1)
        .returning(QuoteNumber.next_number)
    )
    return int(taken.scalar_one()) - 1


async def add(session: AsyncSession, quote: Quote, lines: Sequence[QuoteLine]) -> None:
    session.add(quote)
    session.add_all(lines)
    await session.flush()


async def get(session: AsyncSession, quote_id: uuid.UUID, *, for_update: bool = False) -> Quote | None:
    stmt = select(Quote).where(Quote.id == quote_id)
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return (await session.execute(stmt)).scalar_one_or_none()


async def lines_of(session: AsyncSession, quote_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[QuoteLine]]:
    """The lines of each quote, in line order."""
    found: dict[uuid.UUID, list[QuoteLine]] = defaultdict(list)
    if quote_ids:
        stmt = (
            select(QuoteLine)
            .where(QuoteLine.quote_id.in_(list(quote_ids)))
            .order_by(QuoteLine.quote_id, QuoteLine.line_no)
        )
        for line in (await session.execute(stmt)).scalars():
            found[line.quote_id].append(line)
    return found


async def replace_lines(session: AsyncSession, quote_id: uuid.UUID, lines: Sequence[QuoteLine]) -> None:
    await session.execute(
        delete(QuoteLine).where(QuoteLine.quote_id == quote_id).execution_options(synchronize_session=False)
    )
    session.add_all(lines)
    await session.flush()


async def list_quotes(
    session: AsyncSession, page: PageParams, *, status: str | None, customer_id: uuid.UUID | None
) -> Slice[Quote]:
    """A page of quotes, oldest first: a range of the index of the most selective filter given (a customer's
    quotes are few, so the customer leads)."""
    stmt = filtered_page(
        select(Quote),
        Quote.id,
        page.after,
        [(Quote.customer_id, customer_id), (Quote.status, status)],
        [(Quote.customer_id,), (Quote.status,)],
    ).limit(page.limit + 1)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def claim_expired(session: AsyncSession, today: date, limit: int) -> list[Quote]:
    """Sent quotes whose validity ended before ``today``, locked for this transaction, oldest validity first.

    On PostgreSQL ``SKIP LOCKED`` lets several workers expire at once and never waits on a quote an acceptance
    holds (which then finds it expired, or the job finds it accepted); SQLite has one writer at a time anyway.
    """
    stmt = (
        select(Quote)
        .where(Quote.status == QuoteStatus.SENT.value, Quote.valid_until < today)
        .order_by(Quote.valid_until, Quote.id)
        .limit(limit)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.execute(stmt)).scalars())
