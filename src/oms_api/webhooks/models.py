"""Webhook tables: endpoints (subscriptions), deliveries (one per event and endpoint) and their attempts."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin, TimestampMixin, VersionMixin
from oms_api.kit.secrets import EncryptedString

_PENDING = text("status = 'pending'")
# Deliveries that keep their resource's later events waiting (``domain.holds_order``): pending ones, and dead
# letters nobody redelivered or skipped yet.
HOLDS_ORDER = "status = 'pending' OR (status = 'failed' AND resolution IS NULL)"
_HOLDS_ORDER = text(HOLDS_ORDER)
_CLAIMED = text("claim_token IS NOT NULL")


class WebhookEndpoint(IdMixin, VersionMixin, TimestampMixin, Base):
    """A partner's URL and the event types it wants; signs with ``secret`` (and, for a while, the previous one)."""

    __tablename__ = "webhook_endpoints"

    url: Mapped[str] = mapped_column(String(2048))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(default=True)
    disabled_reason: Mapped[str | None] = mapped_column(String(500))
    disabled_at: Mapped[datetime | None]
    secret: Mapped[str] = mapped_column(EncryptedString(), doc="Sealed at rest (kit.secrets)")
    previous_secret: Mapped[str | None] = mapped_column(EncryptedString(), doc="Sealed at rest (kit.secrets)")
    previous_secret_expires_at: Mapped[datetime | None]
    secret_rotated_at: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(
        default=0, doc="Deliveries failed in a row (every retry spent); a success resets it"
    )
    circuit_failures: Mapped[int] = mapped_column(
        default=0, doc="Attempts in a row that got no answer (timeout, no connection); any answer resets it"
    )
    circuit_open_until: Mapped[datetime | None] = mapped_column(
        doc="The circuit breaker: None closed; until then open (nothing sent); after it half-open (one probe)"
    )


class WebhookDelivery(IdMixin, Base):
    """One event to send to one endpoint, retried until it succeeds or its schedule runs out."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
        # The claim: pending deliveries that are due, all of them and per endpoint.
        Index("ix_webhook_deliveries_due", "next_attempt_at", sqlite_where=_PENDING, postgresql_where=_PENDING),
        Index(
            "ix_webhook_deliveries_endpoint_due",
            "endpoint_id",
            "next_attempt_at",
            "event_seq",
            sqlite_where=_PENDING,
            postgresql_where=_PENDING,
        ),
        # The ordering rule: is an earlier delivery for this endpoint and aggregate pending or dead unresolved?
        Index(
            "ix_webhook_deliveries_in_order",
            "endpoint_id",
            "aggregate_id",
            "event_seq",
            sqlite_where=_HOLDS_ORDER,
            postgresql_where=_HOLDS_ORDER,
        ),
        # Deliveries in flight (claimed) per endpoint: its concurrency budget, and the worker's heartbeat.
        Index("ix_webhook_deliveries_claimed", "endpoint_id", sqlite_where=_CLAIMED, postgresql_where=_CLAIMED),
        # The deliveries list (``GET …/deliveries``) and its filters, each ending in ``id`` (the list's order).
        Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
        Index("ix_webhook_deliveries_endpoint_id_status_id", "endpoint_id", "status", "id"),
        Index("ix_webhook_deliveries_endpoint_id_event_type_id", "endpoint_id", "event_type", "id"),
        Index("ix_webhook_deliveries_finished", "finished_at"),
    )

    endpoint_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    event_id: Mapped[uuid.UUID] = mapped_column(index=True, doc="events.id: the envelope id and webhook-id header")
    event_seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    event_type: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[uuid.UUID]
    origin: Mapped[str] = mapped_column(String(16), doc="fanout, redelivery or replay")
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(doc="A worker's lease; expired leases are taken over")
    claim_token: Mapped[uuid.UUID | None]
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(
        String(16), doc="A dead letter redelivered or skipped by hand; None: it holds its resource's later events"
    )
    resolved_at: Mapped[datetime | None]


class WebhookAttempt(IdMixin, Base):
    """One HTTP request of a delivery: when, what came back, how long it took, what went wrong.

    The row is written when the delivery is claimed (``in_flight``) and completed when the answer comes, so an
    attempt cut short by a crashed worker stays visible (``abandoned`` once another worker takes over).
    """

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "attempt_no"),)

    delivery_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    attempt_no: Mapped[int]
    attempted_at: Mapped[datetime]
    duration_ms: Mapped[int | None] = mapped_column(doc="None while in flight, or when no answer was recorded")
    outcome: Mapped[str] = mapped_column(String(16))
    status_code: Mapped[int | None]
    error: Mapped[str | None] = mapped_column(String(500))
    response_excerpt: Mapped[str | None] = mapped_column(String(500))
    next_attempt_at: Mapped[datetime | None] = mapped_column(doc="When the delivery is tried again (None: it ended)")
    worker: Mapped[str | None] = mapped_column(String(120))
