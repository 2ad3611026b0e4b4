"""Gap-free numbers: the next number of a series, taken under the series row's lock in the issuing transaction.

Two issuers of one series take turns on its row: ``UPDATE … SET next_number = next_number + 1 RETURNING`` locks
it (as ``SELECT … FOR UPDATE`` would, in one round trip instead of two) and moves it on in the same transaction.
If that transaction rolls back, so does the row: the number goes to the next issuer, and the series keeps no gap.
A database sequence would leave one. The lock is held until the issuing transaction ends, so issuing in one series
is serial by design: keep the work after numbering short.

A series is created on first use; two transactions that both find none both insert, and the unique key on
(legal entity, type, year) lets one win (``ON CONFLICT DO NOTHING`` waits for it to commit), then both take their
number from it. SQLite has one writer at a time, which serialises issuers anyway."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices import repository
from oms_api.invoices.domain.numbers import DocType, format_number, prefix_of
from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7


@dataclass(frozen=True, slots=True)
class Taken:
    series_id: uuid.UUID
    sequence: int
    number: str


async def take_number(session: AsyncSession, legal_entity_id: uuid.UUID, doc_type: DocType, year: int) -> Taken:
    """The next number of the series (created on first use), its row left locked until the transaction ends."""
    taken = await repository.take_from_series(session, legal_entity_id, doc_type.value, year)
    if taken is None:
        await repository.insert_series(
            session,
            {
                "id": uuid7(),
                "legal_entity_id": legal_entity_id,
                "doc_type": doc_type.value,
                "year": year,
                "prefix": prefix_of(doc_type),
                "next_number": 1,
                "created_at": utcnow(),
            },
        )
        taken = await repository.take_from_series(session, legal_entity_id, doc_type.value, year)
        if taken is None:  # the insert neither inserted nor met a row: nothing sane explains it
            raise RuntimeError("document series could not be created")
    series_id, prefix, sequence = taken
    return Taken(series_id, sequence, format_number(prefix, year, sequence))
