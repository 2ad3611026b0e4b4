"""Background work of receivables: the job that marks invoices overdue once their due date has passed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices import receivables_repository as repo
from oms_api.invoices.receivables import settle, today

WORKER_ACTOR = "worker:invoices"
BATCH = 500


async def mark_overdue(session: AsyncSession) -> int:
    """Move issued and partly paid invoices past their due date with money still due to ``overdue`` (event
    ``invoice.overdue``), a batch per run (rows another worker holds are skipped); the caller commits. Returns how
    many invoices changed."""
    changed = 0
    for invoice in await repo.overdue_candidates(session, today(), BATCH):
        if settle(session, invoice, WORKER_ACTOR):
            changed += 1
    return changed
