"""Accounting's HTTP contract: accounts, journal entries, the trial balance, exports and the QuickBooks receipt."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints

from oms_api.kit.schemas import CurrencyCode, Line200, OutModel, Page, RequiredLine200, StrictModel

AccountTypeName = Literal["asset", "liability", "equity", "revenue", "expense"]
RoleName = Literal[
    "receivables",
    "revenue",
    "shipping_revenue",
    "tax_payable",
    "clearing",
    "refunds_returns",
    "write_offs",
    "fx_gain",
    "fx_loss",
]
SourceType = Literal[
    "invoice",
    "credit_note",
    "payment_capture",
    "payment_refund",
    "receipt",
    "write_off",
    "fx_revaluation",
    "reversal",
    "manual",
]
ExportFormat = Literal["quickbooks", "xero", "csv"]
AccountCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    Field(description="The account's code (letters, digits, . _ -)", examples=["1200"]),
]
ExternalRef = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._ -]*$")]
Qualifier = Annotated[str, StringConstraints(max_length=32, pattern=r"^[a-z0-9._-]*$")]
Decimal_ = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,14})(\.[0-9]{1,6})?$"),
    Field(description="Decimal string", examples=["12.50"]),
]
Rate = Annotated[
    str,
    StringConstraints(pattern=r"^(0|[1-9][0-9]{0,11})(\.[0-9]{1,16})?$"),
    Field(description="1 unit of the entry's currency in the base currency", examples=["1.0865"]),
]


class Amount(OutModel):
    """A signed amount (a balance may be negative)."""

    amount: str = Field(examples=["-12.50"])
    currency: str


class Account(OutModel):
    id: uuid.UUID
    code: str
    name: str
    type: AccountTypeName
    role: RoleName | None = Field(description="What postings use it for (null: an account for manual entries)")
    qualifier: str = Field(description="The tax rate in % (tax_payable) or the source (clearing), else empty")
    quickbooks_account: str | None = Field(description="QuickBooks Online Account id exports put in AccountRef")
    xero_code: str | None = Field(description="Xero AccountCode exports use (default: the code)")
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class AccountList(OutModel):
    data: list[Account]


class AccountCreate(StrictModel):
    code: AccountCode
    name: RequiredLine200
    type: AccountTypeName
    role: RoleName | None = Field(None, description="Route postings of this role (and qualifier) here")
    qualifier: Qualifier = ""
    quickbooks_account: ExternalRef | None = None
    xero_code: ExternalRef | None = None


class AccountPatch(StrictModel):
    code: AccountCode | None = None
    name: RequiredLine200 | None = None
    quickbooks_account: ExternalRef | None = None
    xero_code: ExternalRef | None = None
    active: bool | None = None


class JournalLine(OutModel):
    line_no: int
    account: str = Field(description="The account's code")
    account_name: str
    debit: Amount
    credit: Amount
    base_debit: Amount | None = Field(description="Null while the entry's base is pending")
    base_credit: Amount | None
    description: str | None
    order_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    invoice_id: uuid.UUID | None


class JournalEntry(OutModel):
    id: uuid.UUID
    occurred_on: date
    source_type: SourceType
    source_id: str
    kind: str = Field(description="post, fx or reversal")
    description: str
    currency: str
    base_currency: str
    fx_rate: str | None
    base_pending: bool = Field(description="No rate was in force: no base amounts (none is guessed)")
    order_id: uuid.UUID | None
    customer_id: uuid.UUID | None
    invoice_id: uuid.UUID | None
    reverses_id: uuid.UUID | None
    actor: str | None
    created_at: datetime
    lines: list[JournalLine]


class JournalEntryList(Page[JournalEntry]):
    pass


class ManualLine(StrictModel):
    account: AccountCode
    debit: Decimal_ | None = None
    credit: Decimal_ | None = None
    description: Line200 | None = None


class ManualEntryCreate(StrictModel):
    occurred_on: date | None = Field(None, description="Default: today (UTC)")
    description: RequiredLine200
    currency: CurrencyCode
    fx_rate: Rate | None = Field(
        None, description="Needed for base amounts when the currency is not the base currency (else base pending)"
    )
    lines: list[ManualLine] = Field(min_length=2, max_length=100)


class ReverseBody(StrictModel):
    occurred_on: date | None = Field(None, description="Default: today (UTC)")
    reason: Line200 | None = None


class TrialBalanceRow(OutModel):
    account: str
    name: str
    type: AccountTypeName
    currency: str
    debit: Amount
    credit: Amount
    balance: Amount = Field(description="debit - credit")
    base_debit: Amount
    base_credit: Amount
    base_balance: Amount
    base_pending_lines: int


class CurrencyTotals(OutModel):
    currency: str
    debit: Amount
    credit: Amount
    balance: Amount = Field(description="Always zero: every entry balances")


class TrialBalance(OutModel):
    as_of: date | None
    base_currency: str
    accounts: list[TrialBalanceRow]
    currencies: list[CurrencyTotals]
    base: CurrencyTotals


class ExportBatch(OutModel):
    id: uuid.UUID
    format: ExportFormat
    since: date
    until: date
    generation: int = Field(description="0: the period's export; 1, 2…: explicit re-exports")
    entry_count: int
    created_at: datetime


class Export(OutModel):
    batch: ExportBatch
    payload: dict[str, Any] = Field(
        description="quickbooks: {Invoice: [...], CreditMemo: [...], JournalEntry: [...]}; xero: {Invoices, "
        "CreditNotes, ManualJournals}"
    )


class ExportEventData(OutModel):
    batch: ExportBatch


class QuickBooksReceipt(OutModel):
    changes: int = Field(description="Entity changes in the notification")
    applied: int
    duplicates: int
    ignored: int
