"""Adding rates (API and importer): a rate is published once per pair and date, never overwritten."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx import repository
from oms_api.fx.domain import Clash, PublishedRate, rate_text, sort_batch
from oms_api.fx.events import FX_RATE_CREATED
from oms_api.fx.models import ExchangeRate
from oms_api.fx.schemas import FxRate, FxRatesPublished
from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict
from oms_api.kit.ids import uuid7

AGGREGATE = "fx_rates"
_DAY_NAMESPACE = uuid.UUID("5d0c3f5e-4b8e-4f0e-9d6c-0f7a3c1e2b90")
MAX_CLASHES_SHOWN = 20


def day_id(base: str, rate_date: date) -> uuid.UUID:
    """The aggregate of one base currency's rates on one date (stable: every addition to that day shares it)."""
    return uuid.uuid5(_DAY_NAMESPACE, f"{base}/{rate_date.isoformat()}")


@dataclass(frozen=True, slots=True)
class Added:
    """What adding a batch did: rows inserted, rows already stored with the same value, clashes left alone."""

    created: list[ExchangeRate]
    skipped: list[ExchangeRate]
    duplicates: int
    """Rates given twice in the batch with the same value (added once)."""
    clashes: list[Clash]


def _clash_problem(clashes: Sequence[Clash]) -> Conflict:
    first = clashes[0].given
    shown = [
        {
            "base": clash.given.base,
            "quote": clash.given.quote,
            "rate_date": clash.given.rate_date.isoformat(),
            "rate": rate_text(clash.given.rate),
            "existing_rate": rate_text(clash.existing),
        }
        for clash in clashes[:MAX_CLASHES_SHOWN]
    ]
    more = f" (and {len(clashes) - 1} more)" if len(clashes) > 1 else ""
    return Conflict(
        f"A {first.base} → {first.quote} rate for {first.rate_date.isoformat()} is already "
        f"{rate_text(clashes[0].existing)}, not {rate_text(first.rate)}{more}: a published rate is never changed",
        code="fx_rate_conflict",
        conflicts=shown,
    )


async def add_rates(
    session: AsyncSession,
    rates: Sequence[PublishedRate],
    *,
    on_clash: Literal["refuse", "skip"] = "refuse",
    actor: str | None = None,
) -> Added:
    """Store ``rates`` in one statement: a pair and date already stored with the same value is skipped; with
    another value it is a clash: 409 ``fx_rate_conflict`` (``refuse``, the API: nothing is stored) or left out
    and reported (``skip``, the importer). Records ``fx_rate.created`` per base and date added."""
    for attempt in (1, 2):
        stored = await repository.stored_for(session, rates)
        batch = sort_batch(rates, {key: row.rate for key, row in stored.items()})
        if batch.clashes and on_clash == "refuse":
            raise _clash_problem(batch.clashes)
        now = utcnow()
        rows = [
            ExchangeRate(
                id=uuid7(),
                base=rate.base,
                quote=rate.quote,
                rate=rate.rate,
                rate_date=rate.rate_date,
                source=rate.source,
                created_at=now,
            )
            for rate in batch.new
        ]
        try:
            async with session.begin_nested():
                await repository.insert(session, rows)
        except IntegrityError:
            if attempt == 2:
                raise
            continue  # a concurrent writer stored some of them first: sort again against what it stored
        skipped = [stored[key] for key in dict.fromkeys(batch.same) if key in stored]
        _record(session, rows, actor)
        return Added(rows, skipped, len(batch.same) - len(skipped), list(batch.clashes))
    raise AssertionError("unreachable")


def _record(session: AsyncSession, rows: Sequence[ExchangeRate], actor: str | None) -> None:
    by_day: dict[tuple[str, date], list[ExchangeRate]] = defaultdict(list)
    for row in rows:
        by_day[(row.base, row.rate_date)].append(row)
    for (base, rate_date), day in by_day.items():
        data = FxRatesPublished(base=base, rate_date=rate_date, rates=[FxRate.model_validate(row) for row in day])
        outbox.record(
            session, FX_RATE_CREATED.name, AGGREGATE, day_id(base, rate_date), data.model_dump(mode="json"), actor=actor
        )
