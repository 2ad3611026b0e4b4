"""Payment tables: payments, their append-only ledger of transactions, and the gateways' webhook events.

Money is integer minor units. A payment's authorised, captured, refunded and voided amounts are not columns: they
are derived from its transactions (``payments.domain``); ``status`` is derived too and kept on the row only so
that ``GET /v1/payments?status=`` can use an index.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin


class Payment(IdMixin, VersionMixin, TimestampMixin, Base):
    __tablename__ = "payments"
    # ``GET /v1/payments``'s filters, each in an index ending in ``id`` (the list's order).
    __table_args__ = (
        Index("ix_payments_order_id_id", "order_id", "id"),
        Index("ix_payments_status_id", "status", "id"),
        Index("ix_payments_gateway_reference", "gateway", "gateway_reference"),
        Index(
            "ix_payments_pending_since",
            "pending_since",
            sqlite_where=text("pending_since IS NOT NULL"),
            postgresql_where=text("pending_since IS NOT NULL"),
        ),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    channel_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("channels.id"))
    gateway: Mapped[str] = mapped_column(String(32), doc="test, stripe, or external (the storefront's own name)")
    gateway_reference: Mapped[str | None] = mapped_column(
        String(255), default=None, doc="The gateway's payment object (Stripe: the PaymentIntent id)"
    )
    currency: Mapped[str] = mapped_column(String(3))
    amount_minor: Mapped[int] = mapped_column(BigInteger, doc="The amount asked to be authorised")
    method: Mapped[str | None] = mapped_column(
        String(100), default=None, doc="What is kept of the payment method: a card's last four digits, or a token"
    )
    status: Mapped[str] = mapped_column(String(24), doc="Derived from the transactions (payments.domain)")
    pending_since: Mapped[datetime | None] = mapped_column(
        default=None, doc="An operation's outcome is unknown since then (the reconciliation job asks again)"
    )


class PaymentTransaction(IdMixin, Base):
    """One ledger entry, never changed: a request (``request_id`` null, with the idempotency key sent) or an
    outcome of the request it points at."""

    __tablename__ = "payment_transactions"
    __table_args__ = (Index("ix_payment_transactions_payment_id_id", "payment_id", "id"),)

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("payment_transactions.id"), default=None, doc="The request this is an outcome of"
    )
    kind: Mapped[str] = mapped_column(String(16), doc="authorization, capture, void or refund")
    status: Mapped[str] = mapped_column(String(16), doc="requested, succeeded, failed, pending or requires_action")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    final: Mapped[bool] = mapped_column(default=False, doc="A capture that releases what stays uncaptured")
    idempotency_key: Mapped[str | None] = mapped_column(
        String(255), unique=True, default=None, doc="The key sent to the gateway (requests only)"
    )
    gateway_reference: Mapped[str | None] = mapped_column(String(255), default=None)
    reason: Mapped[str | None] = mapped_column(String(500), default=None)
    lines: Mapped[list[dict[str, Any]] | None] = mapped_column(
        JSON(none_as_null=True), default=None, doc="A refund's order lines: [{order_line_id, quantity}]"
    )
    error_code: Mapped[str | None] = mapped_column(String(100), default=None)
    error_message: Mapped[str | None] = mapped_column(String(500), default=None)
    fx_rate: Mapped[str | None] = mapped_column(String(40), default=None, doc="Decimal rate to the base currency")
    fx_rate_date: Mapped[date | None] = mapped_column(default=None, doc="The date the rate was published for")
    base_currency: Mapped[str | None] = mapped_column(String(3), default=None)
    base_amount_minor: Mapped[int | None] = mapped_column(BigInteger, default=None)
    actor: Mapped[str | None] = mapped_column(String(80), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class GatewayEventRow(IdMixin, Base):
    """A gateway's webhook event (Stripe), stored raw before it is applied, once per event id."""

    __tablename__ = "gateway_events"
    __table_args__ = (UniqueConstraint("gateway", "event_id"),)

    gateway: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(255), doc="The gateway's event id (dedupes its retries)")
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text, doc="The raw body, exactly as signed")
    received_at: Mapped[datetime]
    processed_at: Mapped[datetime | None] = mapped_column(default=None)
    outcome: Mapped[str] = mapped_column(String(16), doc="pending, processed, ignored or failed")
    note: Mapped[str | None] = mapped_column(String(2000), default=None)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"), default=None)
