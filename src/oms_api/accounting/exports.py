"""Exports of a period, idempotent per format and period, and marked so that a re-export is explicit.

The first export of a period in a format makes batch generation 0: the period's entries not yet exported in that
format (by another batch, e.g. an overlapping period), recorded in ``exported_entries``. Asked again, the same
batch answers with the same entries. ``re_export=true`` (``accounting:write``) makes the next generation with
every entry of the period, exported or not. Entries are never changed by this: only the batch tables are written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import chart, export_formats, repository
from oms_api.accounting.domain import Role
from oms_api.accounting.events import ACCOUNTING_EXPORT_CREATED
from oms_api.accounting.models import ExportBatch, ExportedEntry
from oms_api.accounting.schemas import ExportBatch as BatchView
from oms_api.kit import outbox
from oms_api.kit.auth import Principal, Scope, check_scopes
from oms_api.kit.errors import Conflict, field_error

MAX_DAYS = 366


@dataclass(frozen=True)
class Exported:
    batch: BatchView
    payload: dict[str, Any] | None
    csv: str | None


def batch_view(batch: ExportBatch) -> BatchView:
    return BatchView.model_validate(batch, from_attributes=True)


async def _batch(
    session: AsyncSession, principal: Principal, fmt: str, since: date, until: date, re_export: bool
) -> ExportBatch:
    existing = await repository.batches_of_period(session, fmt, since, until)
    if existing and not re_export:
        return existing[0]
    entries = await repository.entries_in_period(session, since, until)
    if not re_export:
        done = await repository.exported_ids(session, fmt, [e.id for e in entries])
        entries = [e for e in entries if e.id not in done]
    batch = ExportBatch(
        format=fmt,
        since=since,
        until=until,
        generation=(existing[-1].generation + 1) if existing else 0,
        entry_count=len(entries),
        actor=principal.name,
    )
    try:
        async with session.begin_nested():
            session.add(batch)
            await session.flush()
    except IntegrityError:
        # Another request made this generation at the same moment: answer with its batch.
        again = await repository.batches_of_period(session, fmt, since, until)
        if again and not re_export:
            return again[0]
        raise Conflict("Another export of this period is being made; try again", code="export_in_progress") from None
    session.add_all([ExportedEntry(batch_id=batch.id, entry_id=e.id, format=fmt) for e in entries])
    await session.flush()
    outbox.record(
        session,
        ACCOUNTING_EXPORT_CREATED.name,
        "accounting_export",
        batch.id,
        {"batch": batch_view(batch).model_dump(mode="json")},
        actor=principal.name,
    )
    return batch


async def export(
    session: AsyncSession, principal: Principal, fmt: str, since: date, until: date, *, re_export: bool = False
) -> Exported:
    """The batch of the period (made on the first call) in ``fmt``: 422 when ``until`` is before ``since`` or the
    period is longer than a year; 403 for a re-export without ``accounting:write``."""
    if until < since:
        raise field_error("/query/until", "until is before since")
    if (until - since).days >= MAX_DAYS:
        raise field_error("/query/until", f"A period of at most {MAX_DAYS} days")
    if re_export:
        check_scopes(principal, [Scope.ACCOUNTING_WRITE.value])
    await chart.ensure_defaults(session)
    batch = await _batch(session, principal, fmt, since, until, re_export)
    entries = await repository.entries_of_batch(session, batch.id)
    lines = await repository.lines_of(session, [e.id for e in entries])
    accounts = await repository.accounts_by_id(session, [line.account_id for ls in lines.values() for line in ls])
    rows = [(e, lines[e.id]) for e in entries]
    if fmt == "csv":
        return Exported(batch_view(batch), None, export_formats.csv_text(rows, accounts))
    if fmt == "quickbooks":
        return Exported(batch_view(batch), export_formats.quickbooks(rows, accounts), None)
    revenue = await repository.account_by_role(session, Role.REVENUE.value, "")
    shipping = await repository.account_by_role(session, Role.SHIPPING_REVENUE.value, "")
    assert revenue is not None  # ensure_defaults made them
    assert shipping is not None
    codes = {"revenue": revenue.xero_code or revenue.code, "shipping": shipping.xero_code or shipping.code}
    return Exported(batch_view(batch), export_formats.xero(rows, accounts, codes), None)
