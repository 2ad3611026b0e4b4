"""``/v1/accounting``: the chart of accounts, the journal, the trial balance and exports."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.accounting import service
from oms_api.accounting.posting import SETTINGS_KEY
from oms_api.accounting.schemas import (
    Account,
    AccountCreate,
    AccountList,
    AccountPatch,
    Export,
    ExportFormat,
    JournalEntry,
    JournalEntryList,
    ManualEntryCreate,
    ReverseBody,
    SourceType,
    TrialBalance,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["accounting"], route_class=OmsRoute)


def _with_settings(request: Request, session: Session) -> None:
    """Postings and balances use the app's settings (its base currency), not only the environment's."""
    session.info[SETTINGS_KEY] = request.app.state.settings


def _account(row: Any) -> Account:
    return Account.model_validate(row, from_attributes=True)


@router.get("/v1/accounting/accounts", response_model=AccountList)
async def accounting_accounts_list(session: Session, _: Principal = require(Scope.ACCOUNTING_READ)) -> AccountList:
    """The chart of accounts by code. The defaults (receivables, revenue, shipping revenue, refunds and returns,
    write-offs, FX gains and losses) exist from the first read or posting; tax payable per rate and a clearing
    account per payment source are added the first time a posting needs them."""
    return AccountList(data=[_account(a) for a in await service.list_accounts(session)])


@router.post("/v1/accounting/accounts", status_code=201, response_model=Account, responses=errors(409))
async def accounting_accounts_create(
    body: AccountCreate, response: Response, session: Session, _: Principal = write_access(Scope.ACCOUNTING_WRITE)
) -> Account:
    """Add an account: for manual entries, or (with ``role`` and ``qualifier``) to receive a role's postings under
    your own code before the default is made (e.g. ``tax_payable`` ``7``). 409 ``account_exists``."""
    account = _account(await service.create_account(session, body))
    response.headers["Location"] = f"/v1/accounting/accounts/{account.code}"
    return account


@router.patch("/v1/accounting/accounts/{code}", response_model=Account, responses=errors(404, 409))
async def accounting_accounts_update(
    code: str, body: AccountPatch, session: Session, _: Principal = write_access(Scope.ACCOUNTING_WRITE)
) -> Account:
    """Rename or recode an account, map it to QuickBooks (``quickbooks_account``: the Account id) and Xero
    (``xero_code``) for exports, or deactivate it (manual entries refuse inactive accounts; postings by role still
    reach it). 409 ``account_exists`` for a code another account has."""
    return _account(await service.patch_account(session, code, body))


@router.get("/v1/accounting/journal-entries", response_model=JournalEntryList)
async def accounting_journal_entries_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    source_type: Annotated[SourceType | None, Query()] = None,
    order_id: Annotated[uuid.UUID | None, Query()] = None,
    since: Annotated[date | None, Query(description="Entries on or after this day")] = None,
    until: Annotated[date | None, Query(description="Entries on or before this day")] = None,
    _: Principal = require(Scope.ACCOUNTING_READ),
) -> JournalEntryList:
    """Journal entries with their lines, oldest first."""
    result = await service.list_entries(
        session, page, source_type=source_type, order_id=order_id, since=since, until=until
    )
    return paginate(request, response, result, JournalEntryList, lambda e: e)


@router.post("/v1/accounting/journal-entries", status_code=201, response_model=JournalEntry, responses=errors(422))
async def accounting_journal_entries_create(
    body: ManualEntryCreate,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.ACCOUNTING_WRITE),
) -> JournalEntry:
    """Post a manual entry: each line a debit or a credit on an active account by code. 422 ``validation_error``
    (``unbalanced_entry`` when debits and credits differ, ``invalid_account``). In a foreign currency, give
    ``fx_rate`` for base amounts; without it the entry's base is pending."""
    _with_settings(request, session)
    entry = await service.create_manual(session, principal.name, body)
    response.headers["Location"] = f"/v1/accounting/journal-entries/{entry.id}"
    return entry


@router.get("/v1/accounting/journal-entries/{entry_id}", response_model=JournalEntry, responses=errors(404))
async def accounting_journal_entries_get(
    entry_id: uuid.UUID, session: Session, _: Principal = require(Scope.ACCOUNTING_READ)
) -> JournalEntry:
    """One entry with its lines, in the document and the base currency."""
    return await service.get_entry(session, entry_id)


@router.post(
    "/v1/accounting/journal-entries/{entry_id}/reverse",
    status_code=201,
    response_model=JournalEntry,
    responses=errors(404, 409),
)
async def accounting_journal_entries_reverse(
    entry_id: uuid.UUID,
    body: ReverseBody,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.ACCOUNTING_WRITE),
) -> JournalEntry:
    """Post the entry that cancels this one (entries never change: this is the only correction). 409
    ``already_reversed``."""
    _with_settings(request, session)
    entry = await service.reverse(session, principal.name, entry_id, body)
    response.headers["Location"] = f"/v1/accounting/journal-entries/{entry.id}"
    return entry


@router.get("/v1/accounting/trial-balance", response_model=TrialBalance)
async def accounting_trial_balance(
    request: Request,
    session: Session,
    as_of: Annotated[date | None, Query(description="Entries up to this day (default: all)")] = None,
    _: Principal = require(Scope.ACCOUNTING_READ),
) -> TrialBalance:
    """Every account's debits, credits and balance per currency and in the base currency; the totals per
    currency and in the base currency are zero (every entry balances)."""
    _with_settings(request, session)
    return await service.trial_balance(session, as_of)


_EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The batch: JSON (quickbooks, xero) or CSV with the batch in ``X-Export-Batch``",
        "content": {"text/csv": {"schema": {"type": "string"}}},
    },
    **errors(403, 409),
}


@router.get("/v1/accounting/exports", response_model=Export, responses=_EXPORT_RESPONSES)
async def accounting_exports(
    session: Session,
    since: Annotated[date, Query(description="First day of the period")],
    until: Annotated[date, Query(description="Last day of the period (at most 366 days after since)")],
    format: Annotated[ExportFormat, Query(description="quickbooks, xero or csv")],
    re_export: Annotated[bool, Query(description="Export every entry of the period again (accounting:write)")] = False,
    principal: Principal = require(Scope.ACCOUNTING_READ),
) -> Any:
    """The period's entries for an accounting system. The first call makes the period's batch (its entries not
    exported in this format before) and marks them; the same call again answers the same batch. ``re_export=true``
    makes a new batch of every entry of the period (needs ``accounting:write``)."""
    exported = await service.export(session, principal, format, since, until, re_export=re_export)
    if exported.csv is not None:
        return Response(
            exported.csv,
            media_type="text/csv; charset=utf-8",
            headers={
                "X-Export-Batch": str(exported.batch.id),
                "Content-Disposition": f'attachment; filename="journal-{since}-{until}.csv"',
            },
        )
    body = {"batch": exported.batch.model_dump(mode="json"), "payload": exported.payload}
    return Response(service.exact_json(body), media_type="application/json")
