"""Reading the journal, manual entries and reversals (the only correction an entry ever gets)."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import chart, posting, repository
from oms_api.accounting.domain import Leg, Role, Unbalanced, balanced
from oms_api.accounting.posting import Fact
from oms_api.accounting.schemas import JournalEntry as EntryView
from oms_api.accounting.schemas import ManualEntryCreate, ReverseBody
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.money import CurrencyError, check_amount, check_bounded, to_minor
from oms_api.kit.pagination import PageParams, Slice


async def get_entry(session: AsyncSession, entry_id: uuid.UUID) -> EntryView:
    entry = await repository.get_entry(session, entry_id)
    if entry is None:
        raise NotFound(f"No journal entry {entry_id}", code="journal_entry_not_found")
    lines = (await repository.lines_of(session, [entry.id]))[entry.id]
    return await posting.entry_view(session, entry, lines)


async def list_entries(
    session: AsyncSession,
    page: PageParams,
    *,
    source_type: str | None = None,
    order_id: uuid.UUID | None = None,
    since: date | None = None,
    until: date | None = None,
) -> Slice[EntryView]:
    rows = await repository.list_entries(
        session, page, source_type=source_type, order_id=order_id, since=since, until=until
    )
    lines = await repository.lines_of(session, [e.id for e in rows.items])
    accounts = await repository.accounts_by_id(session, [line.account_id for ls in lines.values() for line in ls])
    items = [posting.entry_view_of(e, lines[e.id], accounts) for e in rows.items]
    return Slice(items=items, has_more=rows.has_more, next_after=rows.next_after)


def _minor(value: str | None, currency: str, pointer: str) -> int:
    if value is None:
        return 0
    try:
        return to_minor(check_bounded(check_amount(Decimal(value), currency), currency), currency)
    except CurrencyError as exc:
        raise field_error(pointer, str(exc)) from exc


async def create_manual(session: AsyncSession, actor: str, body: ManualEntryCreate) -> EntryView:
    """A manual entry: each line a debit or a credit on an active account; 422 ``unbalanced_entry`` unless the
    debits equal the credits. Base amounts at ``fx_rate`` (rounding to the largest line), or pending without one."""
    await chart.ensure_defaults(session)
    if body.fx_rate is not None and Decimal(body.fx_rate) == 0:
        raise field_error("/body/fx_rate", "A rate is above zero")
    errors: list[ProblemError] = []
    legs: list[Leg] = []
    for i, line in enumerate(body.lines):
        where = f"/body/lines/{i}"
        debit = _minor(line.debit, body.currency, f"{where}/debit")
        credit = _minor(line.credit, body.currency, f"{where}/credit")
        if (debit == 0) == (credit == 0):
            errors.append(ProblemError(pointer=where, detail="Give a debit or a credit above zero", code="invalid"))
            continue
        account = await repository.account_by_code(session, line.account)
        if account is None or not account.active:
            why = "No such account" if account is None else "The account is inactive"
            errors.append(ProblemError(pointer=f"{where}/account", detail=why, code="invalid_account"))
            continue
        role = Role(account.role) if account.role else None
        legs.append(
            Leg(
                role, account.qualifier, debit=debit, credit=credit, description=line.description, account_id=account.id
            )
        )
    if errors:
        raise ValidationFailed(errors)
    if not balanced(legs):
        raise ValidationFailed(
            [ProblemError(pointer="/body/lines", detail="Debits and credits differ", code="unbalanced_entry")]
        )
    try:
        entry = await posting.post(
            session,
            Fact(
                source_type="manual",
                source_id=str(uuid7()),
                occurred_on=body.occurred_on or posting.today(),
                description=body.description,
                currency=body.currency,
                legs=legs,
                rate=Decimal(body.fx_rate) if body.fx_rate else None,
                actor=actor,
            ),
        )
    except Unbalanced as exc:
        raise ValidationFailed([ProblemError(pointer="/body/lines", detail=str(exc), code="unbalanced_entry")]) from exc
    assert entry is not None
    return await get_entry(session, entry.id)


async def reverse(session: AsyncSession, actor: str, entry_id: uuid.UUID, body: ReverseBody) -> EntryView:
    """The entry that cancels ``entry_id``: every line on the same account, debit and credit swapped, in both
    currencies; 409 ``already_reversed`` the second time."""
    original = await repository.get_entry(session, entry_id)
    if original is None:
        raise NotFound(f"No journal entry {entry_id}", code="journal_entry_not_found")
    if await repository.reversal_of(session, entry_id):
        raise Conflict("The entry is reversed already", code="already_reversed")
    lines = (await repository.lines_of(session, [original.id]))[original.id]
    accounts = await repository.accounts_by_id(session, [line.account_id for line in lines])
    legs = [
        Leg(
            _role_of(accounts[line.account_id].role),
            accounts[line.account_id].qualifier,
            debit=line.credit_minor,
            credit=line.debit_minor,
            base_debit=line.base_credit_minor,
            base_credit=line.base_debit_minor,
            description=line.description,
            account_id=line.account_id,
        )
        for line in lines
    ]
    reason = f": {body.reason}" if body.reason else ""
    entry = await posting.post(
        session,
        Fact(
            source_type="reversal",
            source_id=str(original.id),
            kind="reversal",
            occurred_on=body.occurred_on or posting.today(),
            description=f"Reversal of {original.description}{reason}",
            currency=original.currency,
            legs=legs,
            rate=None if original.base_pending else Decimal(original.fx_rate or 1),
            base_currency=original.base_currency,
            order_id=original.order_id,
            customer_id=original.customer_id,
            invoice_id=original.invoice_id,
            reverses_id=original.id,
            actor=actor,
        ),
    )
    if entry is None:
        raise Conflict("The entry is reversed already", code="already_reversed")
    return await get_entry(session, entry.id)


def _role_of(role: str | None) -> Role | None:
    return Role(role) if role else None
