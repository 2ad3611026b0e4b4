"""Accounting's queries: accounts, journal entries and lines, balances, export batches, notifications."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting.models import (
    Account,
    ExportBatch,
    ExportedEntry,
    InboundNotification,
    JournalEntry,
    JournalLine,
)
from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import insert_ignoring_conflicts


async def account_by_role(session: AsyncSession, role: str, qualifier: str) -> Account | None:
    stmt = select(Account).where(Account.role == role, Account.qualifier == qualifier)
    return (await session.execute(stmt)).scalar_one_or_none()


async def account_by_code(session: AsyncSession, code: str) -> Account | None:
    return (await session.execute(select(Account).where(Account.code == code))).scalar_one_or_none()


async def accounts_by_id(session: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Account]:
    if not ids:
        return {}
    rows = (await session.execute(select(Account).where(Account.id.in_(set(ids))))).scalars()
    return {a.id: a for a in rows}


async def all_accounts(session: AsyncSession) -> list[Account]:
    return list((await session.execute(select(Account).order_by(Account.code))).scalars())


async def insert_account_if_absent(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Insert ``row`` unless its code or its (role, qualifier) exist already: two processes seeding at once both
    succeed, one of them inserting nothing. True when this call inserted it."""
    stmt = insert_ignoring_conflicts(session.get_bind().dialect.name, Account.__table__)
    result = await session.execute(stmt, row)
    return bool(getattr(result, "rowcount", 0))


async def entry_by_source(session: AsyncSession, source_type: str, source_id: str, kind: str) -> JournalEntry | None:
    stmt = select(JournalEntry).where(
        JournalEntry.source_type == source_type, JournalEntry.source_id == source_id, JournalEntry.kind == kind
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry | None:
    return await session.get(JournalEntry, entry_id)


async def lines_of(session: AsyncSession, entry_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[JournalLine]]:
    out: dict[uuid.UUID, list[JournalLine]] = {i: [] for i in entry_ids}
    if not entry_ids:
        return out
    stmt = (
        select(JournalLine)
        .where(JournalLine.entry_id.in_(list(entry_ids)))
        .order_by(JournalLine.entry_id, JournalLine.line_no)
    )
    for line in (await session.execute(stmt)).scalars():
        out[line.entry_id].append(line)
    return out


async def list_entries(
    session: AsyncSession,
    page: PageParams,
    *,
    source_type: str | None,
    order_id: uuid.UUID | None,
    since: date | None,
    until: date | None,
) -> Slice[JournalEntry]:
    """A page of entries, oldest first: a range of the index of the most selective filter given (an order's
    entries are few, so the order leads); a date range is checked on its rows and planned with its values."""
    stmt = filtered_page(
        select(JournalEntry),
        JournalEntry.id,
        page.after,
        [(JournalEntry.order_id, order_id), (JournalEntry.source_type, source_type)],
        [(JournalEntry.order_id,), (JournalEntry.source_type,)],
    )
    if since is not None or until is not None:
        await plan_for_values(session)
    if since is not None:
        stmt = stmt.where(JournalEntry.occurred_on >= since)
    if until is not None:
        stmt = stmt.where(JournalEntry.occurred_on <= until)
    rows: list[JournalEntry] = list((await session.execute(stmt.limit(page.limit + 1))).scalars().all())
    return make_slice(rows, page.limit)


async def reversal_of(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry | None:
    stmt = select(JournalEntry).where(JournalEntry.reverses_id == entry_id)
    return (await session.execute(stmt)).scalars().first()


async def order_receivables(
    session: AsyncSession, order_id: uuid.UUID, receivables_id: uuid.UUID, currency: str
) -> list[tuple[int, int | None]]:
    """The order's receivables lines in ``currency``: (debit - credit, base debit - base credit or None)."""
    stmt = (
        select(
            JournalLine.debit_minor - JournalLine.credit_minor,
            JournalLine.base_debit_minor - JournalLine.base_credit_minor,
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .where(
            JournalLine.order_id == order_id,
            JournalLine.account_id == receivables_id,
            JournalEntry.currency == currency,
        )
    )
    out: list[tuple[int, int | None]] = []
    for amount, base in (await session.execute(stmt)).all():
        out.append((int(amount or 0), None if base is None else int(base)))
    return out


async def balances(session: AsyncSession, as_of: date | None) -> list[tuple[uuid.UUID, str, int, int, int, int, int]]:
    """Per account and entry currency: debit, credit, base debit, base credit, lines whose base is pending."""
    stmt = (
        select(
            JournalLine.account_id,
            JournalEntry.currency,
            func.coalesce(func.sum(JournalLine.debit_minor), 0),
            func.coalesce(func.sum(JournalLine.credit_minor), 0),
            func.coalesce(func.sum(JournalLine.base_debit_minor), 0),
            func.coalesce(func.sum(JournalLine.base_credit_minor), 0),
            func.count(JournalLine.id).filter(JournalEntry.base_pending.is_(True)),
        )
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .group_by(JournalLine.account_id, JournalEntry.currency)
    )
    if as_of is not None:
        stmt = stmt.where(JournalEntry.occurred_on <= as_of)
    rows = (await session.execute(stmt)).all()
    return [(r[0], r[1], *(int(v or 0) for v in r[2:])) for r in rows]  # type: ignore[misc]


# --- exports -------------------------------------------------------------------------------------------------------


async def batches_of_period(session: AsyncSession, fmt: str, since: date, until: date) -> list[ExportBatch]:
    stmt = (
        select(ExportBatch)
        .where(ExportBatch.format == fmt, ExportBatch.since == since, ExportBatch.until == until)
        .order_by(ExportBatch.generation)
    )
    return list((await session.execute(stmt)).scalars())


async def entries_in_period(session: AsyncSession, since: date, until: date) -> list[JournalEntry]:
    stmt = (
        select(JournalEntry)
        .where(JournalEntry.occurred_on >= since, JournalEntry.occurred_on <= until)
        .order_by(JournalEntry.occurred_on, JournalEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


async def exported_ids(session: AsyncSession, fmt: str, entry_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    if not entry_ids:
        return set()
    stmt = select(ExportedEntry.entry_id).where(
        ExportedEntry.format == fmt, ExportedEntry.entry_id.in_(list(entry_ids))
    )
    return set((await session.execute(stmt)).scalars())


async def entries_of_batch(session: AsyncSession, batch_id: uuid.UUID) -> list[JournalEntry]:
    stmt = (
        select(JournalEntry)
        .join(ExportedEntry, ExportedEntry.entry_id == JournalEntry.id)
        .where(ExportedEntry.batch_id == batch_id)
        .order_by(JournalEntry.occurred_on, JournalEntry.id)
    )
    return list((await session.execute(stmt)).scalars())


# --- inbound notifications -----------------------------------------------------------------------------------------


async def notification(session: AsyncSession, source: str, change_key: str) -> InboundNotification | None:
    stmt = select(InboundNotification).where(
        InboundNotification.source == source, InboundNotification.change_key == change_key
    )
    return (await session.execute(stmt)).scalar_one_or_none()
