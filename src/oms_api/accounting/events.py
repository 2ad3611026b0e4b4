"""Accounting event types (``journal_entry.*``, ``accounting_export.*``)."""

from __future__ import annotations

from oms_api.accounting.schemas import ExportEventData, JournalEntry
from oms_api.kit.event_types import declare

JOURNAL_ENTRY_POSTED = declare(
    "journal_entry.posted",
    "A journal entry was posted (an invoice, credit note, payment, refund, receipt, write-off, FX difference, "
    "reversal or manual entry); entries never change after.",
    JournalEntry,
)
ACCOUNTING_EXPORT_CREATED = declare(
    "accounting_export.created",
    "An export batch was made for a period and format (its entries are marked exported in that format).",
    ExportEventData,
)
