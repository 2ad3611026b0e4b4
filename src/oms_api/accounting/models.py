"""Accounting tables: the chart of accounts, the journal (entries and their lines, never changed once written), the
export batches and the accounting system's inbound notifications.

Amounts are integer minor units: ``debit_minor``/``credit_minor`` in the entry's (document) currency, the ``base_*``
twins in the base currency (null while an entry is ``base_pending``: no rate was in force, and none is guessed).
Lines carry ``order_id``/``customer_id``/``invoice_id`` as plain ids, not foreign keys: the journal is a record of
facts reported by other contexts and must accept them whatever those contexts later do with their rows.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Account(IdMixin, VersionMixin, TimestampMixin, Base):
    """An account of the chart. ``role`` + ``qualifier`` name what the postings use (``tax_payable`` + ``19``,
    ``clearing`` + ``stripe``), so that renaming or recoding an account never changes where postings go."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("role", "qualifier"),)

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), doc="asset, liability, equity, revenue or expense")
    role: Mapped[str | None] = mapped_column(String(32), default=None, doc="What postings use it for; null: manual")
    qualifier: Mapped[str] = mapped_column(String(32), default="", doc="Tax rate (19) or source (stripe) of a role")
    quickbooks_account: Mapped[str | None] = mapped_column(
        String(64), default=None, doc="The QuickBooks Online Account id exports name (AccountRef.value)"
    )
    xero_code: Mapped[str | None] = mapped_column(String(32), default=None, doc="The Xero AccountCode exports name")
    active: Mapped[bool] = mapped_column(default=True)


class JournalEntry(IdMixin, Base):
    """One balanced entry, written once. ``(source_type, source_id, kind)`` is unique: a replayed fact never posts
    twice. ``document`` is the snapshot of the invoice or credit note posted (exports need nothing else)."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        UniqueConstraint("source_type", "source_id", "kind"),
        Index("ix_journal_entries_source_type_id", "source_type", "id"),
        Index("ix_journal_entries_order_id_id", "order_id", "id"),
        Index("ix_journal_entries_occurred_on_id", "occurred_on", "id"),
    )

    occurred_on: Mapped[date]
    source_type: Mapped[str] = mapped_column(String(24))
    source_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(24), default="post", doc="post, fx or reversal")
    description: Mapped[str] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    base_currency: Mapped[str] = mapped_column(String(3))
    fx_rate: Mapped[str | None] = mapped_column(String(40), default=None, doc="1 currency = fx_rate base currency")
    base_pending: Mapped[bool] = mapped_column(default=False, doc="No rate was in force: base amounts are null")
    order_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entries.id"), default=None)
    document: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class JournalLine(IdMixin, Base):
    __tablename__ = "journal_lines"
    __table_args__ = (
        Index("ix_journal_lines_entry_id_line_no", "entry_id", "line_no"),
        Index("ix_journal_lines_order_id_account_id", "order_id", "account_id"),
        Index("ix_journal_lines_account_id_id", "account_id", "id"),
    )

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entries.id"))
    line_no: Mapped[int]
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id"))
    debit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    base_debit_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    base_credit_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    description: Mapped[str | None] = mapped_column(String(500), default=None)
    order_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class ExportBatch(IdMixin, Base):
    """One export of a period in one format. ``generation`` 0 is the export of the period (asked again, the same
    batch answers); each ``re_export`` makes the next generation, with every entry of the period."""

    __tablename__ = "export_batches"
    __table_args__ = (UniqueConstraint("format", "since", "until", "generation"),)

    format: Mapped[str] = mapped_column(String(16))
    since: Mapped[date]
    until: Mapped[date]
    generation: Mapped[int] = mapped_column(default=0)
    entry_count: Mapped[int] = mapped_column(default=0)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExportedEntry(Base):
    """Which entries a batch exported (the entries themselves are never marked: they stay unchanged)."""

    __tablename__ = "exported_entries"
    __table_args__ = (Index("ix_exported_entries_format_entry_id", "format", "entry_id"),)

    batch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("export_batches.id"), primary_key=True)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entries.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(16))


class InboundNotification(IdMixin, Base):
    """One entity change an accounting system notified (QuickBooks), stored once per change: a retried or
    overlapping notification is recognised by ``change_key`` and not applied again."""

    __tablename__ = "accounting_notifications"
    __table_args__ = (UniqueConstraint("source", "change_key"),)

    source: Mapped[str] = mapped_column(String(32))
    change_key: Mapped[str] = mapped_column(String(255), doc="realm:entity:id:operation:lastUpdated")
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(64))
    operation: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text, doc="The raw body, exactly as signed")
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16), doc="processed, ignored or failed")
    note: Mapped[str | None] = mapped_column(String(2000), default=None)
