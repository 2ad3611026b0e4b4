"""The journal in the shapes accounting systems import: QuickBooks Online and Xero objects, and CSV.

Everything is built from the journal alone: an entry posted from an invoice or credit note keeps the document it
posted (``JournalEntry.document``), and account codes map through ``Account.quickbooks_account`` /
``Account.xero_code`` (default: the code).

- QuickBooks Online (developer.intuit.com, Accounting API reference: Invoice, CreditMemo, JournalEntry): an invoice
  becomes an ``Invoice`` (``Line[]`` of ``SalesItemLineDetail``: ``ItemRef``, ``Qty``, ``UnitPrice``,
  ``TaxCodeRef``; ``CustomerRef``, ``DocNumber``, ``TxnDate``, ``DueDate``, ``CurrencyRef``, ``ExchangeRate`` =
  home-currency units per unit of the document currency, as QuickBooks defines it), a credit note a
  ``CreditMemo`` (same line shape), every other entry a ``JournalEntry`` (``Line[]`` of ``JournalEntryLineDetail``
  with ``PostingType`` Debit/Credit and ``AccountRef``; receivables lines name the customer in ``Entity``, which
  QuickBooks requires on Accounts Receivable lines).
- Xero (developer.xero.com, Accounting API: Invoices, CreditNotes, ManualJournals): ``Invoices`` of ``Type``
  ``ACCREC`` and ``CreditNotes`` of ``Type`` ``ACCRECCREDIT``, ``Status`` ``AUTHORISED``, ``LineAmountTypes``
  ``Exclusive`` and ``CurrencyRate`` as Xero states it (units of the document currency per unit of the base
  currency: the inverse of ours); every other entry a ``ManualJournal`` (``Status`` ``POSTED``; ``LineAmount``
  positive for a debit, negative for a credit), in the base currency, which is the only one Xero's manual journals
  take: an entry whose base is pending cannot be one and is listed under ``skipped``.
- CSV: one row per journal line.

Amounts are ``Decimal`` here and rendered as exact JSON numbers (``exact_json``), never through a float.
"""

from __future__ import annotations

import csv
import io
import json
import re
import secrets
import uuid
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from oms_api.accounting.models import Account, JournalEntry, JournalLine
from oms_api.kit.money import from_minor

Row = tuple[JournalEntry, list[JournalLine]]


def exact_json(value: Any) -> str:
    """JSON with every ``Decimal`` as a number written exactly as the decimal is (no float on the way): each is
    first written as a string holding a marker unique to this call, then the quotes around it are dropped."""
    marker = f"~{secrets.token_hex(12)}~"

    def mark(obj: Any) -> Any:
        if isinstance(obj, Decimal):
            return f"{marker}{format(obj, 'f')}"
        raise TypeError(f"{type(obj).__name__} is not JSON serialisable")

    text = json.dumps(value, default=mark, separators=(",", ":"), ensure_ascii=False)
    return re.sub(f'"{re.escape(marker)}(-?[0-9]+(?:\\.[0-9]+)?)"', r"\1", text)


def doc_number(entry: JournalEntry) -> str:
    """A reference of at most 21 characters (QuickBooks' DocNumber limit) that names the entry."""
    return "J" + entry.id.hex[:20]


def _dec(value: str | int | Decimal) -> Decimal:
    return Decimal(str(value))


def _money(snapshot: dict[str, Any]) -> Decimal:
    return _dec(snapshot["amount"])


def _foreign(entry: JournalEntry) -> bool:
    return entry.currency != entry.base_currency


def _qb_ref(account: Account) -> dict[str, str]:
    return {"value": account.quickbooks_account or account.code, "name": account.name}


def _xero_code(account: Account) -> str:
    return account.xero_code or account.code


# --- QuickBooks Online ---------------------------------------------------------------------------------------------


def _qb_sales_lines(document: dict[str, Any]) -> list[dict[str, Any]]:
    lines = []
    for n, line in enumerate(document["lines"], start=1):
        shipping = line["kind"] == "shipping"
        lines.append(
            {
                "LineNum": n,
                "Description": line["name"],
                "Amount": _money(line["net"]),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {
                    # SHIPPING_ITEM_ID is QuickBooks' own item for shipping charges.
                    "ItemRef": {
                        "value": "SHIPPING_ITEM_ID" if shipping else (line["sku"] or line["name"])[:100],
                        "name": line["name"][:100],
                    },
                    "Qty": _dec(line["quantity"]),
                    "UnitPrice": _unit_price(line),
                    "TaxCodeRef": {"value": "TAX" if _dec(line["tax_rate"]) > 0 else "NON"},
                },
            }
        )
    return lines


def _unit_price(line: dict[str, Any]) -> Decimal:
    """The net unit price, after the line's discount when it has one (QuickBooks has Amount = Qty x UnitPrice)."""
    if not _money(line["discount"]) or not line["quantity"]:
        return _money(line["unit_price"])
    return (_money(line["net"]) / _dec(line["quantity"])).quantize(Decimal("0.0000001"), rounding=ROUND_HALF_UP)


def _qb_sales_form(entry: JournalEntry, document: dict[str, Any]) -> dict[str, Any]:
    buyer = document["buyer"]
    form: dict[str, Any] = {
        "DocNumber": document["number"][:21],
        "TxnDate": document["issue_date"],
        "CustomerRef": {
            "value": str(entry.customer_id) if entry.customer_id else buyer["name"],
            "name": buyer["company"] or buyer["name"],
        },
        "CurrencyRef": {"value": entry.currency},
        "Line": _qb_sales_lines(document),
        "TxnTaxDetail": {"TotalTax": _money(document["tax_total"])},
        "PrivateNote": entry.description,
    }
    if document.get("due_date"):
        form["DueDate"] = document["due_date"]
    if _foreign(entry) and entry.fx_rate:
        form["ExchangeRate"] = _dec(entry.fx_rate)
    return form


def _base_only(lines: list[JournalLine]) -> bool:
    """An entry of base amounts only (an FX difference): exported in the base currency."""
    return all(line.debit_minor == 0 and line.credit_minor == 0 for line in lines)


def _qb_journal(entry: JournalEntry, lines: list[JournalLine], accounts: dict[uuid.UUID, Account]) -> dict[str, Any]:
    in_base = _base_only(lines)
    currency = entry.base_currency if in_base else entry.currency
    out_lines = []
    for line in lines:
        debit, credit = (
            (line.base_debit_minor or 0, line.base_credit_minor or 0)
            if in_base
            else (line.debit_minor, line.credit_minor)
        )
        detail: dict[str, Any] = {
            "PostingType": "Debit" if debit else "Credit",
            "AccountRef": _qb_ref(accounts[line.account_id]),
        }
        if line.customer_id and accounts[line.account_id].role == "receivables":
            detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": str(line.customer_id)}}
        out_lines.append(
            {
                "Id": str(line.line_no),
                "Description": (line.description or entry.description)[:4000],
                "Amount": from_minor(debit or credit, currency),
                "DetailType": "JournalEntryLineDetail",
                "JournalEntryLineDetail": detail,
            }
        )
    journal: dict[str, Any] = {
        "DocNumber": doc_number(entry),
        "TxnDate": entry.occurred_on.isoformat(),
        "PrivateNote": entry.description,
        "CurrencyRef": {"value": currency},
        "Line": out_lines,
    }
    if not in_base and _foreign(entry) and entry.fx_rate:
        journal["ExchangeRate"] = _dec(entry.fx_rate)
    return journal


def quickbooks(rows: list[Row], accounts: dict[uuid.UUID, Account]) -> dict[str, Any]:
    invoices, memos, journals = [], [], []
    for entry, lines in rows:
        if entry.document and entry.source_type == "invoice":
            invoices.append(_qb_sales_form(entry, entry.document))
        elif entry.document and entry.source_type == "credit_note":
            memos.append(_qb_sales_form(entry, entry.document))
        else:
            journals.append(_qb_journal(entry, lines, accounts))
    return {"Invoice": invoices, "CreditMemo": memos, "JournalEntry": journals}


# --- Xero ----------------------------------------------------------------------------------------------------------


def _xero_rate(entry: JournalEntry) -> Decimal | None:
    if not _foreign(entry) or not entry.fx_rate:
        return None
    return (Decimal(1) / _dec(entry.fx_rate)).quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


def _xero_items(document: dict[str, Any], codes: dict[str, str]) -> list[dict[str, Any]]:
    items = []
    for line in document["lines"]:
        discount = _money(line["discount"])
        item: dict[str, Any] = {
            "Description": line["name"],
            "Quantity": _dec(line["quantity"]),
            "UnitAmount": _money(line["unit_price"]),
            "AccountCode": codes["shipping" if line["kind"] == "shipping" else "revenue"],
            "TaxAmount": _money(line["tax"]),
            "LineAmount": _money(line["net"]),
        }
        if line["sku"]:
            item["ItemCode"] = line["sku"][:30]
        if discount:
            item["DiscountAmount"] = discount
        items.append(item)
    return items


def _xero_sales(entry: JournalEntry, document: dict[str, Any], codes: dict[str, str]) -> dict[str, Any]:
    buyer = document["buyer"]
    credit = entry.source_type == "credit_note"
    out: dict[str, Any] = {
        "Type": "ACCRECCREDIT" if credit else "ACCREC",
        "Contact": {"Name": buyer["company"] or buyer["name"]},
        "Date": document["issue_date"],
        ("CreditNoteNumber" if credit else "InvoiceNumber"): document["number"],
        "CurrencyCode": entry.currency,
        "Status": "AUTHORISED",
        "LineAmountTypes": "Exclusive",
        "LineItems": _xero_items(document, codes),
    }
    if not credit and document.get("due_date"):
        out["DueDate"] = document["due_date"]
    reference = (document.get("corrects") or {}).get("number") if credit else document.get("order_ref")
    if reference:
        out["Reference"] = reference
    rate = _xero_rate(entry)
    if rate is not None:
        out["CurrencyRate"] = rate
    return out


def _xero_journal(
    entry: JournalEntry, lines: list[JournalLine], accounts: dict[uuid.UUID, Account]
) -> dict[str, Any] | None:
    if entry.base_pending:
        return None
    return {
        "Narration": entry.description,
        "Date": entry.occurred_on.isoformat(),
        "Status": "POSTED",
        "LineAmountTypes": "NoTax",
        "JournalLines": [
            {
                "LineAmount": from_minor(
                    (line.base_debit_minor or 0) - (line.base_credit_minor or 0), entry.base_currency
                ),
                "AccountCode": _xero_code(accounts[line.account_id]),
                "Description": (line.description or entry.description)[:4000],
            }
            for line in lines
        ],
    }


def xero(rows: list[Row], accounts: dict[uuid.UUID, Account], codes: dict[str, str]) -> dict[str, Any]:
    """``codes``: the Xero account codes of revenue and shipping revenue (what invoice lines are sold to)."""
    invoices, notes, journals, skipped = [], [], [], []
    for entry, lines in rows:
        if entry.document and entry.source_type == "invoice":
            invoices.append(_xero_sales(entry, entry.document, codes))
        elif entry.document and entry.source_type == "credit_note":
            notes.append(_xero_sales(entry, entry.document, codes))
        else:
            journal = _xero_journal(entry, lines, accounts)
            if journal is None:
                skipped.append({"entry_id": str(entry.id), "reason": "base_pending"})
            else:
                journals.append(journal)
    return {"Invoices": invoices, "CreditNotes": notes, "ManualJournals": journals, "skipped": skipped}


# --- CSV -----------------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "entry_id",
    "occurred_on",
    "source_type",
    "source_id",
    "description",
    "line_no",
    "account",
    "account_name",
    "debit",
    "credit",
    "currency",
    "base_debit",
    "base_credit",
    "base_currency",
    "order_id",
    "customer_id",
    "invoice_id",
)


def _opt(value: int | None, currency: str) -> str:
    return "" if value is None else str(from_minor(value, currency))


def csv_text(rows: list[Row], accounts: dict[uuid.UUID, Account]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry, lines in rows:
        for line in lines:
            account = accounts[line.account_id]
            writer.writerow(
                [
                    entry.id,
                    entry.occurred_on.isoformat(),
                    entry.source_type,
                    entry.source_id,
                    _safe(entry.description),
                    line.line_no,
                    account.code,
                    _safe(account.name),
                    from_minor(line.debit_minor, entry.currency),
                    from_minor(line.credit_minor, entry.currency),
                    entry.currency,
                    _opt(line.base_debit_minor, entry.base_currency),
                    _opt(line.base_credit_minor, entry.base_currency),
                    entry.base_currency,
                    line.order_id or "",
                    line.customer_id or "",
                    line.invoice_id or "",
                ]
            )
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
