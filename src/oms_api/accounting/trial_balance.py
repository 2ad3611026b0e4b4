"""The trial balance: every account's debits, credits and balance per currency, and in the base currency, as of a
day. Every entry balances, so the totals are zero in each currency and in the base currency (base amounts of
entries whose base is pending are missing on both sides alike, and counted)."""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.accounting import chart, posting, repository
from oms_api.accounting.schemas import Amount, CurrencyTotals, TrialBalance, TrialBalanceRow
from oms_api.kit.money import from_minor


def _amount(value: int, currency: str) -> Amount:
    return Amount(amount=str(from_minor(value, currency)), currency=currency)


def _totals(currency: str, debit: int, credit: int) -> CurrencyTotals:
    return CurrencyTotals(
        currency=currency,
        debit=_amount(debit, currency),
        credit=_amount(credit, currency),
        balance=_amount(debit - credit, currency),
    )


async def trial_balance(session: AsyncSession, as_of: date | None) -> TrialBalance:
    await chart.ensure_defaults(session)
    base_currency = posting.settings_for(session).base_currency
    sums = await repository.balances(session, as_of)
    accounts = await repository.accounts_by_id(session, [row[0] for row in sums])
    rows: list[TrialBalanceRow] = []
    per_currency: dict[str, tuple[int, int]] = {}
    base_debit_total = base_credit_total = 0
    for account_id, currency, debit, credit, base_debit, base_credit, pending in sums:
        account = accounts[account_id]
        rows.append(
            TrialBalanceRow(
                account=account.code,
                name=account.name,
                type=account.type,
                currency=currency,
                debit=_amount(debit, currency),
                credit=_amount(credit, currency),
                balance=_amount(debit - credit, currency),
                base_debit=_amount(base_debit, base_currency),
                base_credit=_amount(base_credit, base_currency),
                base_balance=_amount(base_debit - base_credit, base_currency),
                base_pending_lines=pending,
            )
        )
        d, c = per_currency.get(currency, (0, 0))
        per_currency[currency] = (d + debit, c + credit)
        base_debit_total += base_debit
        base_credit_total += base_credit
    rows.sort(key=lambda r: (r.account, r.currency))
    return TrialBalance(
        as_of=as_of,
        base_currency=base_currency,
        accounts=rows,
        currencies=[_totals(cur, d, c) for cur, (d, c) in sorted(per_currency.items())],
        base=_totals(base_currency, base_debit_total, base_credit_total),
    )
