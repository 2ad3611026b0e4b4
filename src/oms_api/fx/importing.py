"""Importing the European Central Bank's reference-rate files (``oms-api fx import``).

The file is read twice: once to check every line (a malformed file is refused, naming its line, before anything
is stored) and count its rates, then to store them in batches of whole days of about ``batch_rows`` rates, one
transaction each, so that a large file neither holds one long transaction nor leaves a day half stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.fx.adding import add_rates
from oms_api.fx.domain import Clash, EcbDay, PublishedRate, ecb_format, parse_ecb
from oms_api.kit import outbox
from oms_api.kit.db import session_scope
from oms_api.kit.money import is_currency

BATCH_ROWS = 1000


@dataclass
class ImportReport:
    """What an import did."""

    format: str
    rates_in_file: int = 0
    dates: int = 0
    first_date: date | None = None
    last_date: date | None = None
    inserted: int = 0
    skipped: int = 0
    clashes: list[Clash] = field(default_factory=list)
    not_currencies: set[str] = field(default_factory=set)
    """Quoted codes that are not ISO 4217 currencies today (the historical file keeps CYP, SIT, BGN…)."""
    ignored: int = 0
    """Rates of those codes, left out."""


Progress = Callable[[int, int, date], None]
"""Told (rates done, rates in all, the date of the last line done) after each batch."""


def check(lines: Iterable[str]) -> ImportReport:
    """Read the whole file once: its format, its dates and how many rates it holds; ``EcbFormatError`` names the
    first malformed line."""
    materialised = iter(lines)
    head = [next(materialised, ""), next(materialised, "")]
    report = ImportReport(format=ecb_format(head))
    for day in parse_ecb(_chain(head, materialised)):
        report.dates += 1
        report.first_date = min(report.first_date or day.rate_date, day.rate_date)
        report.last_date = max(report.last_date or day.rate_date, day.rate_date)
        for rate in day.rates:
            if is_currency(rate.quote):
                report.rates_in_file += 1
            else:
                report.not_currencies.add(rate.quote)
                report.ignored += 1
    return report


def _chain(head: list[str], rest: Iterator[str]) -> Iterator[str]:
    yield from head
    yield from rest


def _batches(days: Iterable[EcbDay], batch_rows: int) -> Iterator[list[PublishedRate]]:
    """Whole days, about ``batch_rows`` rates a batch (a day is never split across two)."""
    batch: list[PublishedRate] = []
    for day in days:
        batch.extend(rate for rate in day.rates if is_currency(rate.quote))
        if len(batch) >= batch_rows:
            yield batch
            batch = []
    if batch:
        yield batch


async def import_ecb(
    sessions: async_sessionmaker[AsyncSession],
    lines: Iterable[str],
    report: ImportReport,
    *,
    source: str,
    batch_rows: int = BATCH_ROWS,
    progress: Progress | None = None,
    actor: str | None = None,
) -> ImportReport:
    """Store the rates of a file ``check`` accepted (``report`` is its report, completed here): new rates are
    inserted, rates already stored with the same value skipped, clashing ones reported and left alone."""
    done = 0
    for batch in _batches(parse_ecb(lines, source), batch_rows):
        async with session_scope(sessions) as session:
            added = await add_rates(session, batch, on_clash="skip", actor=actor)
            await outbox.flush_events(session)  # the events commit with their rates
        report.inserted += len(added.created)
        report.skipped += len(added.skipped) + added.duplicates
        report.clashes.extend(added.clashes)
        done += len(batch)
        if progress is not None:
            progress(done, report.rates_in_file, batch[-1].rate_date)
    return report
