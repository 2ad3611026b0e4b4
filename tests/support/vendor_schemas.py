"""JSON schemas of the objects accounting exports, written from the vendors' API references (only the fields the
export uses, with the ones the vendor requires marked required; ``additionalProperties: false`` so that a field
name the vendor does not document fails).

- QuickBooks Online Accounting API reference (developer.intuit.com/app/developer/qbo/docs/api/accounting):
  ``Invoice`` and ``CreditMemo`` ("Line" and "CustomerRef" are required; a sales line is ``DetailType``
  ``SalesItemLineDetail`` with ``Amount`` required, and ``SalesItemLineDetail`` holds ``ItemRef``, ``Qty``,
  ``UnitPrice``, ``TaxCodeRef``; ``DocNumber`` at most 21 characters; ``CurrencyRef`` and ``ExchangeRate`` for
  multicurrency), ``JournalEntry`` ("Line" required; a line is ``DetailType`` ``JournalEntryLineDetail`` with
  ``Amount``, and ``JournalEntryLineDetail`` requires ``PostingType`` Debit|Credit and ``AccountRef``;
  ``Entity`` names the customer of an Accounts Receivable line). References (``*Ref``) are ``{value, name}`` with
  ``value`` required.
- Xero Accounting API (developer.xero.com/documentation/api/accounting): ``Invoices`` (``Type`` ACCREC,
  ``Contact`` and ``LineItems`` required; ``LineAmountTypes`` Exclusive|Inclusive|NoTax; ``Status`` of DRAFT,
  SUBMITTED, AUTHORISED; line items with ``Description``, ``Quantity``, ``UnitAmount``, ``AccountCode``,
  ``ItemCode``, ``TaxType``, ``TaxAmount``, ``LineAmount``, ``DiscountAmount``), ``CreditNotes`` (``Type``
  ACCRECCREDIT, ``Contact`` required, ``CreditNoteNumber``), ``ManualJournals`` (``Narration`` and
  ``JournalLines`` required, at least two lines, each ``LineAmount`` (debit positive, credit negative) and
  ``AccountCode`` required; ``Status`` DRAFT|POSTED).
"""

from __future__ import annotations

from typing import Any

_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_MONEY = {"type": "number"}
_REF = {
    "type": "object",
    "required": ["value"],
    "properties": {"value": {"type": "string", "minLength": 1}, "name": {"type": "string"}},
    "additionalProperties": False,
}

_QB_SALES_LINE = {
    "type": "object",
    "required": ["Amount", "DetailType", "SalesItemLineDetail"],
    "properties": {
        "Id": {"type": "string"},
        "LineNum": {"type": "integer"},
        "Description": {"type": "string", "maxLength": 4000},
        "Amount": _MONEY,
        "DetailType": {"const": "SalesItemLineDetail"},
        "SalesItemLineDetail": {
            "type": "object",
            "required": ["ItemRef"],
            "properties": {
                "ItemRef": _REF,
                "Qty": {"type": "number"},
                "UnitPrice": {"type": "number"},
                "TaxCodeRef": _REF,
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}

_QB_SALES_FORM = {
    "type": "object",
    "required": ["Line", "CustomerRef"],
    "properties": {
        "DocNumber": {"type": "string", "maxLength": 21},
        "TxnDate": _DATE,
        "DueDate": _DATE,
        "CustomerRef": _REF,
        "CurrencyRef": _REF,
        "ExchangeRate": {"type": "number", "exclusiveMinimum": 0},
        "PrivateNote": {"type": "string", "maxLength": 4000},
        "TxnTaxDetail": {
            "type": "object",
            "properties": {"TotalTax": _MONEY},
            "additionalProperties": False,
        },
        "Line": {"type": "array", "minItems": 1, "items": _QB_SALES_LINE},
    },
    "additionalProperties": False,
}

QUICKBOOKS_JOURNAL_ENTRY = {
    "type": "object",
    "required": ["Line"],
    "properties": {
        "DocNumber": {"type": "string", "maxLength": 21},
        "TxnDate": _DATE,
        "PrivateNote": {"type": "string", "maxLength": 4000},
        "CurrencyRef": _REF,
        "ExchangeRate": {"type": "number", "exclusiveMinimum": 0},
        "Line": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["Amount", "DetailType", "JournalEntryLineDetail"],
                "properties": {
                    "Id": {"type": "string"},
                    "Description": {"type": "string", "maxLength": 4000},
                    "Amount": {"type": "number", "minimum": 0},
                    "DetailType": {"const": "JournalEntryLineDetail"},
                    "JournalEntryLineDetail": {
                        "type": "object",
                        "required": ["PostingType", "AccountRef"],
                        "properties": {
                            "PostingType": {"enum": ["Debit", "Credit"]},
                            "AccountRef": _REF,
                            "Entity": {
                                "type": "object",
                                "required": ["EntityRef"],
                                "properties": {"Type": {"enum": ["Customer", "Vendor", "Employee"]}, "EntityRef": _REF},
                                "additionalProperties": False,
                            },
                        },
                        "additionalProperties": False,
                    },
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

QUICKBOOKS_EXPORT: dict[str, Any] = {
    "type": "object",
    "required": ["Invoice", "CreditMemo", "JournalEntry"],
    "properties": {
        "Invoice": {"type": "array", "items": _QB_SALES_FORM},
        "CreditMemo": {"type": "array", "items": _QB_SALES_FORM},
        "JournalEntry": {"type": "array", "items": QUICKBOOKS_JOURNAL_ENTRY},
    },
    "additionalProperties": False,
}

_XERO_LINE_ITEM = {
    "type": "object",
    "required": ["Description", "Quantity", "UnitAmount", "AccountCode", "LineAmount"],
    "properties": {
        "Description": {"type": "string", "minLength": 1, "maxLength": 4000},
        "Quantity": {"type": "number"},
        "UnitAmount": {"type": "number"},
        "ItemCode": {"type": "string"},
        "AccountCode": {"type": "string", "minLength": 1},
        "TaxType": {"type": "string"},
        "TaxAmount": _MONEY,
        "LineAmount": _MONEY,
        "DiscountAmount": _MONEY,
    },
    "additionalProperties": False,
}


def _xero_sales(kind: str, number: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["Type", "Contact", "LineItems"],
        "properties": {
            "Type": {"const": kind},
            "Contact": {
                "type": "object",
                "properties": {"ContactID": {"type": "string"}, "Name": {"type": "string", "maxLength": 255}},
                "anyOf": [{"required": ["ContactID"]}, {"required": ["Name"]}],
                "additionalProperties": False,
            },
            "Date": _DATE,
            "DueDate": _DATE,
            number: {"type": "string", "maxLength": 255},
            "Reference": {"type": "string"},
            "CurrencyCode": {"type": "string", "pattern": "^[A-Z]{3}$"},
            "CurrencyRate": {"type": "number", "exclusiveMinimum": 0},
            "Status": {"enum": ["DRAFT", "SUBMITTED", "AUTHORISED"]},
            "LineAmountTypes": {"enum": ["Exclusive", "Inclusive", "NoTax"]},
            "LineItems": {"type": "array", "minItems": 1, "items": _XERO_LINE_ITEM},
        },
        "additionalProperties": False,
    }


XERO_MANUAL_JOURNAL = {
    "type": "object",
    "required": ["Narration", "JournalLines"],
    "properties": {
        "Narration": {"type": "string", "minLength": 1},
        "Date": _DATE,
        "Status": {"enum": ["DRAFT", "POSTED"]},
        "LineAmountTypes": {"enum": ["Exclusive", "Inclusive", "NoTax"]},
        "JournalLines": {
            "type": "array",
            "minItems": 2,
            "items": {
                "type": "object",
                "required": ["LineAmount", "AccountCode"],
                "properties": {
                    "LineAmount": _MONEY,
                    "AccountCode": {"type": "string", "minLength": 1},
                    "Description": {"type": "string"},
                    "TaxType": {"type": "string"},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}

XERO_EXPORT: dict[str, Any] = {
    "type": "object",
    "required": ["Invoices", "CreditNotes", "ManualJournals"],
    "properties": {
        "Invoices": {"type": "array", "items": _xero_sales("ACCREC", "InvoiceNumber")},
        "CreditNotes": {"type": "array", "items": _xero_sales("ACCRECCREDIT", "CreditNoteNumber")},
        "ManualJournals": {"type": "array", "items": XERO_MANUAL_JOURNAL},
        "skipped": {"type": "array"},
    },
    "additionalProperties": False,
}
