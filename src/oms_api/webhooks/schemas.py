"""HTTP contract of webhook endpoints, their deliveries and the event catalogue."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints, field_validator, model_validator

from oms_api.kit.schemas import MULTI_LINE, SINGLE_LINE, OutModel, Page, StrictModel
from oms_api.webhooks.domain import ALL_EVENTS, Circuit, DeliveryStatus, Resolution, parse_url


def _url(value: str) -> str:
    parse_url(value)
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:
        raise ValueError("is outside the range of dates this API stores") from exc


UtcTimestamp = Annotated[AwareDatetime, AfterValidator(_in_utc)]
WebhookUrl = Annotated[
    str,
    StringConstraints(min_length=1, max_length=2048),
    AfterValidator(_url),
    Field(
        description="http(s) URL that receives the events by POST; it must reach a public address "
        "(unless the service allows private networks) and redirects are not followed",
        examples=["https://partner.example.com/webhooks/oms"],
    ),
]
Description = Annotated[str, StringConstraints(max_length=500, pattern=SINGLE_LINE)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500, pattern=MULTI_LINE)]
EventTypePattern = Annotated[
    str,
    StringConstraints(min_length=1, max_length=80, pattern=r"^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$"),
    Field(description="An event type name, `prefix.*` (e.g. `order.*`) or `*` for every type"),
]
EventTypes = Annotated[list[EventTypePattern], Field(min_length=1, max_length=100)]


class WebhookEndpointCreate(StrictModel):
    url: WebhookUrl
    description: Description | None = None
    event_types: EventTypes = Field(
        default_factory=lambda: [ALL_EVENTS], examples=[["order.*", "stock.changed"]], description="Default: `*`"
    )
    active: bool = True


class WebhookEndpointUpdate(StrictModel):
    """Fields to change; absent fields stay as they are."""

    url: WebhookUrl | None = None
    description: Description | None = None
    event_types: EventTypes | None = None
    active: bool | None = Field(None, description="false disables the endpoint (nothing is sent); true enables it")

    @field_validator("url", "event_types", "active")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("cannot be null; leave the field out to keep its value")
        return value


class WebhookEndpoint(OutModel):
    id: uuid.UUID
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    disabled_reason: str | None = Field(description="Why the endpoint is disabled (410 Gone, failures, by hand)")
    disabled_at: datetime | None
    consecutive_failures: int = Field(
        description="Deliveries failed in a row (every retry spent, no success between); "
        "`OMS_WEBHOOKS_DISABLE_AFTER_FAILURES` of them disable the endpoint"
    )
    pending_deliveries: int = Field(
        description="Deliveries waiting to be sent (while the endpoint is disabled they wait until it is enabled)"
    )
    failed_deliveries: int = Field(
        description="Dead letters not yet redelivered or skipped: the later events of their resources wait behind "
        "them (`POST …/redeliver-failed`, or `…/deliveries/{id}/redeliver` or `/skip`)"
    )
    circuit: Circuit = Field(
        description="closed: deliveries go; open: attempts kept timing out or failing to connect, nothing is sent "
        "until `circuit_retry_at`; half_open: one delivery probes the endpoint"
    )
    circuit_retry_at: datetime | None = Field(description="When an open circuit lets one probe delivery through")
    secret_rotated_at: datetime | None
    previous_secret_expires_at: datetime | None = Field(
        description="Until then deliveries are also signed with the previous secret"
    )
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookEndpointCreated(WebhookEndpoint):
    secret: str = Field(
        description="The signing secret (Standard Webhooks `whsec_…`). Shown only now: store it", examples=["whsec_…"]
    )


class WebhookEndpointList(Page[WebhookEndpoint]):
    pass


class DisableBody(StrictModel):
    reason: Reason | None = None


class SecretRotate(StrictModel):
    overlap_hours: Annotated[int, Field(ge=0, le=720)] | None = Field(
        None, description="How long the old secret keeps signing (default: the service setting, 24 h)"
    )


class SecretRotation(OutModel):
    secret: str = Field(description="The new signing secret. Shown only now: store it")
    previous_secret_expires_at: datetime | None = Field(
        description="Until then both signatures are sent (none: the old secret stopped at once)"
    )


class WebhookAttempt(OutModel):
    id: uuid.UUID
    attempt_no: int
    attempted_at: datetime
    duration_ms: int | None = Field(description="None while the attempt is in flight or was abandoned")
    outcome: str = Field(
        description="in_flight (sent, no answer recorded yet), succeeded, http_error, timeout, network_error, "
        "refused, or abandoned (the worker died or stopped before the answer; another one took the delivery over)"
    )
    status_code: int | None
    error: str | None
    response_excerpt: str | None = Field(description="The start of the receiver's answer")
    next_attempt_at: datetime | None = Field(description="When the delivery was rescheduled (none: it ended)")


class WebhookDelivery(OutModel):
    id: uuid.UUID
    endpoint_id: uuid.UUID
    event_id: uuid.UUID = Field(description="The envelope's id and the `webhook-id` header")
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    origin: str = Field(description="fanout (the event happened), redelivery or replay")
    status: DeliveryStatus = Field(description="pending, succeeded, or failed (a dead letter: every retry spent)")
    resolution: Resolution | None = Field(
        description="For a dead letter: redelivered or skipped by hand; none: it holds back the later events of "
        "its resource for this endpoint"
    )
    resolved_at: datetime | None
    attempt_count: int = Field(description="Attempts started, including one cut short by a crashed worker")
    next_attempt_at: datetime | None = Field(description="When a pending delivery is tried next")
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[WebhookAttempt] = Field(description="Every attempt, oldest first")


class WebhookDeliveryDetail(WebhookDelivery):
    payload: dict[str, Any] = Field(description="The body that is (or was) sent: the event envelope")


class WebhookDeliveryList(Page[WebhookDelivery]):
    pass


class ReplayRequest(StrictModel):
    since: UtcTimestamp = Field(description="Events that happened at or after this instant")
    until: UtcTimestamp | None = Field(None, description="…and before this one (default: now)")

    @model_validator(mode="after")
    def _order(self) -> ReplayRequest:
        if self.until is not None and self.until <= self.since:
            raise ValueError("until must be after since")
        return self


class RedeliveryResult(OutModel):
    queued: int = Field(description="Dead letters redelivered (each as a new delivery, in event order)")


class ReplayResult(OutModel):
    queued: int = Field(description="Deliveries queued: one per matching event of the range")
    since: datetime
    until: datetime


class EventType(OutModel):
    name: str
    description: str
    data_schema: dict[str, Any] = Field(description="JSON Schema of the envelope's `data`")


class EventTypeList(OutModel):
    data: list[EventType]
