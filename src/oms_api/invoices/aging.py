"""AR aging as of a date: what customers owe on issued invoices, by days past due, in the base currency.

Each invoice's amount due on the date is converted at the invoice's own rate (the rate its receivable was booked
at). An invoice issued without a rate is reported in its own currency in an ``unconverted`` section rather than
at a guessed rate. The buckets are summed from whole invoice amounts (``invoices.domain.aging``), so they always
add up to the outstanding amount, per customer and in total.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices import receivables_repository as repo
from oms_api.invoices.domain.aging import BUCKETS, Aged, Buckets, OpenItem, age, csv_rows, csv_text
from oms_api.invoices.models import Invoice
from oms_api.invoices.receivables import base_due, today
from oms_api.invoices.receivables_schemas import AgingBuckets, AgingCustomer, AgingReport, AgingUnconverted
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.settings import get_settings

Key = uuid.UUID | None


@dataclass
class Aging:
    as_of: date
    base_currency: str
    base: Aged[Key]
    unconverted: dict[str, Aged[Key]]
    names: dict[Key, str | None]


def _buyer_name(invoice: Invoice) -> str | None:
    buyer = invoice.buyer or {}
    name = buyer.get("company") or buyer.get("name")
    return str(name) if name else None


async def ar_aging(session: AsyncSession, as_of: date | None = None) -> Aging:
    """The aging on ``as_of`` (default today): receipts, credit notes and write-offs after it are not counted."""
    on = as_of or today()
    base = get_settings().base_currency
    outstanding = await repo.outstanding_as_of(session, on, open_only=on >= today())
    converted: list[OpenItem[Key]] = []
    other: dict[str, list[OpenItem[Key]]] = {}
    names: dict[Key, str | None] = {}
    for invoice, due in outstanding:
        names.setdefault(invoice.customer_id, _buyer_name(invoice))
        amount = base_due(invoice, base, due)
        if amount is None:
            other.setdefault(invoice.currency, []).append(OpenItem(invoice.customer_id, invoice.due_date, due))
        else:
            converted.append(OpenItem(invoice.customer_id, invoice.due_date, amount))
    return Aging(
        on,
        base,
        age(converted, on),
        {currency: age(items, on) for currency, items in sorted(other.items())},
        names,
    )


def _buckets(buckets: Buckets, currency: str) -> AgingBuckets:
    money = {name: MoneyOut.of(Money.from_minor(buckets.amounts[name], currency)) for name in BUCKETS}
    return AgingBuckets(**money, total=MoneyOut.of(Money.from_minor(buckets.total, currency)))


def _customers(aged: Aged[Key], names: dict[Key, str | None], currency: str) -> list[AgingCustomer]:
    return [
        AgingCustomer(customer_id=key, name=names.get(key), buckets=_buckets(b, currency), invoices=b.count)
        for key, b in aged.per_key.items()
    ]


def report_view(aging: Aging) -> AgingReport:
    return AgingReport(
        as_of=aging.as_of,
        base_currency=aging.base_currency,
        customers=_customers(aging.base, aging.names, aging.base_currency),
        total=_buckets(aging.base.total, aging.base_currency),
        unconverted=[
            AgingUnconverted(
                currency=currency,
                customers=_customers(aged, aging.names, currency),
                total=_buckets(aged.total, currency),
            )
            for currency, aged in aging.unconverted.items()
        ],
    )


def report_csv(aging: Aging) -> str:
    rows = csv_rows("base", aging.base_currency, aging.base, aging.names)
    for currency, aged in aging.unconverted.items():
        rows += csv_rows("unconverted", currency, aged, aging.names)
    return csv_text(rows)
