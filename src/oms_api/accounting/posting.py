"""Writing the journal: one balanced entry per fact, once, in the transaction of the fact.

``post`` turns a ``Fact`` (its legs by role, from ``accounting.domain``) into an entry and its lines: accounts
resolved (created on first use), base amounts by ``domain.to_base``. The entry's ``(source_type, source_id, kind)``
is unique, so a fact replayed (an event handled again) finds its entry and posts nothing. After an entry that
touches an order's receivables, ``_settle_fx`` moves what the base currency still holds of a settled order to FX
gains or losses. Nothing here updates or deletes an entry: a correction is a reversal (``journal.reverse``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import chart, repository
from oms_api.accounting.domain import Leg, Role, fx_legs, order_fx_difference, to_base
from oms_api.accounting.events import JOURNAL_ENTRY_POSTED
from oms_api.accounting.models import Account, JournalEntry, JournalLine
from oms_api.accounting.schemas import Amount
from oms_api.accounting.schemas import JournalEntry as EntryView
from oms_api.accounting.schemas import JournalLine as LineView
from oms_api.kit import outbox
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Unprocessable
from oms_api.kit.money import STORED_MINOR_MAX, from_minor
from oms_api.settings import Settings, get_settings

SETTINGS_KEY = "oms_settings"


def today() -> date:
    return utcnow().date()


def settings_for(session: AsyncSession) -> Settings:
    """The settings a caller put on the session (jobs, tests), else the process's."""
    given = session.info.get(SETTINGS_KEY)
    return given if isinstance(given, Settings) else get_settings()


@dataclass(frozen=True)
class Fact:
    source_type: str
    source_id: str
    occurred_on: date
    description: str
    currency: str
    legs: list[Leg]
    rate: Decimal | None = None
    """1 unit of ``currency`` in the base currency; None: none in force (base pending unless the same currency)."""
    base_currency: str | None = None
    """None: the settings' base currency."""
    kind: str = "post"
    order_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    invoice_id: uuid.UUID | None = None
    reverses_id: uuid.UUID | None = None
    document: dict[str, Any] | None = None
    actor: str | None = None


async def post(session: AsyncSession, fact: Fact) -> JournalEntry | None:
    """Write ``fact``'s entry unless it was posted already (then None). Raises ``domain.Unbalanced`` for legs that
    do not balance (a rule's bug: the fact's transaction fails with it)."""
    if not fact.legs:
        return None
    if await repository.entry_by_source(session, fact.source_type, fact.source_id, fact.kind):
        return None
    base_currency = fact.base_currency or settings_for(session).base_currency
    legs, pending = to_base(fact.legs, fact.currency, base_currency, fact.rate)
    if any(abs(leg.base_debit or 0) > STORED_MINOR_MAX or abs(leg.base_credit or 0) > STORED_MINOR_MAX for leg in legs):
        raise Unprocessable("An amount in the base currency is too large to record", code="amount_too_large")
    rate = Decimal(1) if fact.currency == base_currency else fact.rate
    entry = JournalEntry(
        occurred_on=fact.occurred_on,
        source_type=fact.source_type,
        source_id=fact.source_id,
        kind=fact.kind,
        description=fact.description[:500],
        currency=fact.currency,
        base_currency=base_currency,
        fx_rate=None if rate is None else format(rate.normalize(), "f"),
        base_pending=pending,
        order_id=fact.order_id,
        customer_id=fact.customer_id,
        invoice_id=fact.invoice_id,
        reverses_id=fact.reverses_id,
        document=fact.document,
        actor=fact.actor,
    )
    session.add(entry)
    await session.flush()
    lines = []
    for no, leg in enumerate(legs, start=1):
        lines.append(
            JournalLine(
                entry_id=entry.id,
                line_no=no,
                account_id=leg.account_id or await chart.account_for(session, _role(leg), leg.qualifier),
                debit_minor=leg.debit,
                credit_minor=leg.credit,
                base_debit_minor=leg.base_debit,
                base_credit_minor=leg.base_credit,
                description=leg.description,
                order_id=fact.order_id,
                customer_id=fact.customer_id,
                invoice_id=fact.invoice_id,
            )
        )
    session.add_all(lines)
    await session.flush()
    view = await entry_view(session, entry, lines)
    outbox.record(
        session, JOURNAL_ENTRY_POSTED.name, "journal_entry", entry.id, view.model_dump(mode="json"), actor=fact.actor
    )
    if fact.order_id is not None and not pending and any(leg.role is Role.RECEIVABLES for leg in legs):
        await _settle_fx(session, fact, entry, base_currency)
    return entry


async def _settle_fx(session: AsyncSession, fact: Fact, entry: JournalEntry, base_currency: str) -> None:
    """The order's receivables in its currency are settled but the base currency still holds a difference (booked
    at one rate, paid at another): move it to FX gains or losses, with the entry that caused it as source."""
    assert fact.order_id is not None
    receivables = await chart.account_for(session, Role.RECEIVABLES)
    difference = order_fx_difference(
        await repository.order_receivables(session, fact.order_id, receivables, fact.currency)
    )
    if difference is None:
        return
    await post(
        session,
        Fact(
            source_type="fx_revaluation",
            source_id=str(entry.id),
            kind="fx",
            occurred_on=fact.occurred_on,
            description=f"Exchange rate difference of the settled order ({fact.currency})",
            currency=fact.currency,
            legs=fx_legs(difference),
            rate=None if fact.currency != base_currency else Decimal(1),
            base_currency=base_currency,
            order_id=fact.order_id,
            customer_id=fact.customer_id,
            invoice_id=fact.invoice_id,
            actor=fact.actor,
        ),
    )


def _role(leg: Leg) -> Role:
    if leg.role is None:
        raise ValueError("a leg names a role or an account")
    return leg.role


def _amount(value: int | None, currency: str) -> Amount | None:
    return None if value is None else Amount(amount=str(from_minor(value, currency)), currency=currency)


def _line_view(line: JournalLine, entry: JournalEntry, account: Account) -> LineView:
    return LineView(
        line_no=line.line_no,
        account=account.code,
        account_name=account.name,
        debit=Amount(amount=str(from_minor(line.debit_minor, entry.currency)), currency=entry.currency),
        credit=Amount(amount=str(from_minor(line.credit_minor, entry.currency)), currency=entry.currency),
        base_debit=_amount(line.base_debit_minor, entry.base_currency),
        base_credit=_amount(line.base_credit_minor, entry.base_currency),
        description=line.description,
        order_id=line.order_id,
        customer_id=line.customer_id,
        invoice_id=line.invoice_id,
    )


async def entry_view(session: AsyncSession, entry: JournalEntry, lines: list[JournalLine]) -> EntryView:
    accounts = await repository.accounts_by_id(session, [line.account_id for line in lines])
    return entry_view_of(entry, lines, accounts)


def entry_view_of(entry: JournalEntry, lines: list[JournalLine], accounts: dict[uuid.UUID, Account]) -> EntryView:
    return EntryView(
        id=entry.id,
        occurred_on=entry.occurred_on,
        source_type=entry.source_type,
        source_id=entry.source_id,
        kind=entry.kind,
        description=entry.description,
        currency=entry.currency,
        base_currency=entry.base_currency,
        fx_rate=entry.fx_rate,
        base_pending=entry.base_pending,
        order_id=entry.order_id,
        customer_id=entry.customer_id,
        invoice_id=entry.invoice_id,
        reverses_id=entry.reverses_id,
        actor=entry.actor,
        created_at=entry.created_at,
        lines=[_line_view(line, entry, accounts[line.account_id]) for line in lines],
    )
