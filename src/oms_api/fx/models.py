"""The exchange-rate table: one row per base, quote and date, the rate kept exactly as published.

A rate is stored as its decimal text (``DecimalText``): SQLite has no exact decimal type (a NUMERIC column reads
back as a float), and the text round-trips exactly on both databases.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from oms_api.fx.domain import MAX_RATE_TEXT, rate_text
from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin


class DecimalText(TypeDecorator[Decimal]):
    """A ``Decimal`` stored as its canonical text (``1.0865``), read back exactly."""

    impl = String(MAX_RATE_TEXT)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else rate_text(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class ExchangeRate(IdMixin, Base):
    """1 ``base`` = ``rate`` ``quote`` on ``rate_date``, as ``source`` (``ecb``, ``api``…) published it."""

    __tablename__ = "fx_rates"
    __table_args__ = (
        # One rate per pair and date; also the index of the on-or-before lookup of one pair.
        UniqueConstraint("base", "quote", "rate_date"),
        # The rates in force on a date of the pairs quoting a currency (``?on=…&quote=…``): the latest date of
        # each base, read from the index alone.
        Index("ix_fx_rates_quote_base_rate_date", "quote", "base", "rate_date"),
        # ``GET /v1/fx-rates``'s filters, each ending in ``id`` (the list's order).
        Index("ix_fx_rates_rate_date_id", "rate_date", "id"),
        Index("ix_fx_rates_quote_id", "quote", "id"),
        Index("ix_fx_rates_base_id", "base", "id"),
    )

    base: Mapped[str] = mapped_column(String(3))
    quote: Mapped[str] = mapped_column(String(3))
    rate: Mapped[Decimal] = mapped_column(DecimalText())
    rate_date: Mapped[date]
    source: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
