"""The built-in test gateway's own state: the payments it holds and the answers it gave, by idempotency key.

These are the gateway's tables, not the OMS's ledger (``payments``): they stand for the state a real gateway keeps
on its side, so that the test gateway can refuse what a real one refuses (capturing more than authorised,
refunding more than captured) and answer a repeated idempotency key with its first answer, across every API
process that serves the database.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base


class TestGatewayPayment(Base):
    __tablename__ = "test_gateway_payments"
    __test__ = False  # not a pytest test class, whatever its name

    reference: Mapped[str] = mapped_column(String(40), primary_key=True, doc="tgw_<hex>, the gateway's payment id")
    currency: Mapped[str] = mapped_column(String(3))
    card_last4: Mapped[str] = mapped_column(String(4))
    status: Mapped[str] = mapped_column(String(20), doc="requires_action, authorized, closed (final capture), voided")
    authorized_minor: Mapped[int] = mapped_column(BigInteger)
    captured_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    times_out: Mapped[bool] = mapped_column(
        default=False, doc="Its card makes the first call of each operation time out"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TestGatewayOperation(Base):
    __tablename__ = "test_gateway_operations"
    __test__ = False

    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), doc="authorize, confirm, capture, void or refund")
    reference: Mapped[str | None] = mapped_column(String(40), default=None)
    response: Mapped[dict[str, Any]] = mapped_column(JSON, doc="The answer given, repeated for the same key")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
