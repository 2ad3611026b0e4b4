"""Every query of customers."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.customers.models import Customer
from oms_api.kit.db_types import tag_pattern
from oms_api.kit.pagination import PageParams, Slice, make_slice

MAX_SEARCH_WORDS = 5


async def get(session: AsyncSession, customer_id: uuid.UUID) -> Customer | None:
    return await session.get(Customer, customer_id)


async def get_by_email(session: AsyncSession, email: str, exclude: uuid.UUID | None = None) -> Customer | None:
    """The customer with this address (``email`` must already be normalised: stored addresses are lower-case)."""
    stmt = select(Customer).where(Customer.email == email)
    if exclude is not None:
        stmt = stmt.where(Customer.id != exclude)
    return (await session.execute(stmt.limit(1))).scalars().first()


async def insert(session: AsyncSession, customer: Customer) -> bool:
    """Add ``customer``; False when a concurrent request took its e-mail first.

    The savepoint keeps the request's transaction usable, so the caller can look the winner up."""
    try:
        async with session.begin_nested():
            session.add(customer)
            await session.flush()
    except IntegrityError:
        return False
    return True


async def save(session: AsyncSession, customer: Customer) -> bool:
    """Flush changes to ``customer``; False when its new e-mail was taken concurrently (see ``insert``)."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        return False
    return True


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _search(q: str) -> ColumnElement[bool]:
    """Every word of ``q`` must appear (case-insensitively) in a name, the e-mail or the company,
    so that "ada lovelace" finds Ada Lovelace although first and last names are separate columns."""
    words = q.split()[:MAX_SEARCH_WORDS]
    columns = (Customer.first_name, Customer.last_name, Customer.email, Customer.company)
    return and_(*(or_(*(col.ilike(f"%{_escape_like(word)}%", escape="\\") for col in columns)) for word in words))


async def list_customers(
    session: AsyncSession,
    page: PageParams,
    *,
    email: str | None,
    tag: str | None,
    q: str | None,
    external_ref: tuple[str, str] | None,
) -> Slice[Customer]:
    """A page of customers, oldest first.

    ``external_ref`` (source, id) is matched with SQLAlchemy's JSON path operator on ``external_refs``,
    which renders as ``->>`` on PostgreSQL and ``JSON_EXTRACT`` on SQLite: exact, portable, and immune to
    how the JSON text happens to be spaced or escaped (a LIKE on the cast text would not be). It scans
    rather than seeks; should lookups by external id grow hot, a ``customer_external_refs`` table with a
    unique (source, ref) index is the next step.
    """
    stmt = select(Customer).order_by(Customer.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Customer.id > page.after)
    if email is not None:
        stmt = stmt.where(Customer.email == email.strip().lower())
    if tag is not None:
        stmt = stmt.where(Customer.tags.like(tag_pattern(tag)))
    if q and q.split():
        stmt = stmt.where(_search(q))
    if external_ref is not None:
        source, ref = external_ref
        stmt = stmt.where(Customer.external_refs[source].as_string() == ref)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)
