"""Customer tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin
from oms_api.kit.db_types import TagSet


class Customer(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "customers"

    email: Mapped[str | None] = mapped_column(String(254), unique=True, doc="Stored lower-cased")
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    company: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    addresses: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(TagSet, default=list)
    external_refs: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)
    vat_id: Mapped[str | None] = mapped_column(String(32), default=None, doc="Normalised by kit.vat (e.g. DE123456789)")
    payment_terms: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None, doc="customers.domain.PaymentTerms.to_json(); null: pays at checkout"
    )
    credit_limit_minor: Mapped[int | None] = mapped_column(
        BigInteger, default=None, doc="In the base currency's minor units; null: no limit"
    )
