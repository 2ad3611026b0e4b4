"""The chart of accounts: defaults made on first use (race-safely), accounts added and renamed by API.

Postings name accounts by role and qualifier (``accounting.domain.Role``); the first posting (or the first read of
the chart) creates the defaults, and a qualified account (tax payable at 19 %, the clearing account of a gateway)
is created the first time a posting needs it. Creation is ``INSERT … ON CONFLICT DO NOTHING`` then a read, so two
transactions doing it at once both end up with the one row.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import repository
from oms_api.accounting.domain import DEFAULTS, Role, spec_for
from oms_api.accounting.models import Account
from oms_api.accounting.schemas import AccountCreate, AccountPatch
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.ids import uuid7

_CACHE = "oms_accounting_accounts"


def _row(code: str, name: str, type_: str, role: str | None, qualifier: str) -> dict[str, Any]:
    now = utcnow()
    return {
        "id": uuid7(),
        "code": code,
        "name": name,
        "type": type_,
        "role": role,
        "qualifier": qualifier,
        "quickbooks_account": None,
        "xero_code": None,
        "active": True,
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }


async def ensure_defaults(session: AsyncSession) -> None:
    """Create the unqualified default accounts that do not exist yet."""
    existing = {(a.role, a.qualifier) for a in await repository.all_accounts(session)}
    for role, spec in DEFAULTS.items():
        if (role.value, "") not in existing:
            await repository.insert_account_if_absent(
                session, _row(spec.code, spec.name, spec.type.value, role.value, "")
            )


async def account_for(session: AsyncSession, role: Role, qualifier: str = "") -> uuid.UUID:
    """The id of the account postings of ``role`` (and ``qualifier``) go to, created with its default code if
    missing (remembered for the session: an entry has several lines on the same accounts)."""
    cache: dict[tuple[str, str], uuid.UUID] = session.info.setdefault(_CACHE, {})
    key = (role.value, qualifier)
    if key in cache:
        return cache[key]
    account = await repository.account_by_role(session, role.value, qualifier)
    if account is None:
        if not qualifier:
            await ensure_defaults(session)
        else:
            spec = spec_for(role, qualifier)
            await repository.insert_account_if_absent(
                session, _row(spec.code, spec.name, spec.type.value, role.value, qualifier)
            )
        account = await repository.account_by_role(session, role.value, qualifier)
        if account is None:
            spec = spec_for(role, qualifier)
            raise Conflict(
                f"No account for {role.value} {qualifier}: its default code {spec.code} is taken by another account; "
                f"create one with role {role.value} and qualifier {qualifier!r}",
                code="account_code_taken",
            )
    cache[key] = account.id
    return account.id


async def list_accounts(session: AsyncSession) -> list[Account]:
    await ensure_defaults(session)
    return await repository.all_accounts(session)


async def get_account(session: AsyncSession, code: str) -> Account:
    account = await repository.account_by_code(session, code)
    if account is None:
        raise NotFound(f"No account {code}", code="account_not_found")
    return account


async def create_account(session: AsyncSession, body: AccountCreate) -> Account:
    """A new account; 409 ``account_exists`` when the code (or the role and qualifier) is taken."""
    await ensure_defaults(session)
    if await repository.account_by_code(session, body.code):
        raise Conflict(f"Account {body.code} exists", code="account_exists")
    if body.role and await repository.account_by_role(session, body.role, body.qualifier):
        raise Conflict(f"An account already has role {body.role} {body.qualifier!r}", code="account_exists")
    row = _row(body.code, body.name, body.type, body.role, body.qualifier if body.role else "")
    row.update(quickbooks_account=body.quickbooks_account, xero_code=body.xero_code)
    if not await repository.insert_account_if_absent(session, row):
        raise Conflict(f"Account {body.code} exists", code="account_exists")
    session.info.pop(_CACHE, None)
    return await get_account(session, body.code)


async def patch_account(session: AsyncSession, code: str, body: AccountPatch) -> Account:
    """Rename, recode, map to the accounting system's codes, (de)activate. Postings follow the account (they name
    it by role), so a new code applies to every entry, past ones included, in reports and exports."""
    await ensure_defaults(session)
    account = await get_account(session, code)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("code") not in (None, account.code) and await repository.account_by_code(session, changes["code"]):
        raise Conflict(f"Account {changes['code']} exists", code="account_exists")
    for field in ("code", "name", "active"):
        if changes.get(field) is not None:
            setattr(account, field, changes[field])
    for field in ("quickbooks_account", "xero_code"):
        if field in changes:
            setattr(account, field, changes[field])
    account.version += 1
    await session.flush()
    session.info.pop(_CACHE, None)
    return account
