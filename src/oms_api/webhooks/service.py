"""Webhook use cases: endpoints and their secrets, the event catalogue, deliveries, redelivery and replay."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, Unprocessable, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.event_types import EventType, catalogue
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.settings import Settings
from oms_api.webhooks import domain, netguard, repository, signing
from oms_api.webhooks.domain import DeliveryStatus
from oms_api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from oms_api.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from oms_api.webhooks.snapshots import snapshot

REPLAY_CHUNK = 1000


# --- the catalogue ----------------------------------------------------------------------------------------------


def event_types() -> list[EventType]:
    """Every declared event type, by name."""
    return [catalogue()[name] for name in sorted(catalogue())]


def get_event_type(name: str) -> EventType:
    found = catalogue().get(name)
    if found is None:
        raise NotFound(f"No event type {name!r}", code="event_type_not_found")
    return found


def _patterns(patterns: list[str]) -> list[str]:
    try:
        return domain.check_patterns(patterns, catalogue())
    except ValueError as exc:
        raise field_error("/body/event_types", str(exc), "unknown_event_type") from exc


async def _check_reachable(url: str, settings: Settings) -> None:
    """Refuse a URL that resolves to an address deliveries may not reach (the delivery checks again)."""
    target = domain.parse_url(url)
    try:
        await netguard.allowed_addresses(target, allow_private=settings.webhooks_allow_private_networks)
    except netguard.ForbiddenAddress as exc:
        raise field_error(
            "/body/url",
            f"{exc}; webhooks only reach public addresses (OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS)",
            "url_not_allowed",
        ) from exc
    except netguard.Unresolvable as exc:
        raise field_error("/body/url", str(exc), "url_unresolvable") from exc


def _record(
    session: AsyncSession, type_: str, endpoint: WebhookEndpoint, actor: Principal, reason: str | None = None
) -> None:
    outbox.record(session, type_, "webhook_endpoint", endpoint.id, snapshot(endpoint), actor=actor.actor, reason=reason)


# --- endpoints --------------------------------------------------------------------------------------------------


async def get_endpoint(session: AsyncSession, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}", code="webhook_endpoint_not_found")
    return endpoint


async def list_endpoints(session: AsyncSession, page: PageParams, *, active: bool | None) -> Slice[WebhookEndpoint]:
    return await repository.list_endpoints(session, page, active=active)


async def create_endpoint(
    session: AsyncSession, actor: Principal, data: WebhookEndpointCreate, settings: Settings
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (the only time the API shows it)."""
    patterns = _patterns(data.event_types)
    await _check_reachable(data.url, settings)
    now = utcnow()
    secret = signing.new_secret()
    endpoint = WebhookEndpoint(
        id=uuid7(),
        url=data.url,
        description=data.description,
        event_types=patterns,
        active=data.active,
        disabled_reason=None if data.active else "created disabled",
        disabled_at=None if data.active else now,
        secret=secret,
        consecutive_failures=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(endpoint)
    await session.flush()
    _record(session, "webhook_endpoint.created", endpoint, actor)
    return endpoint, secret


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.active = True
    endpoint.disabled_reason = None
    endpoint.disabled_at = None
    endpoint.consecutive_failures = 0


def _disable(endpoint: WebhookEndpoint, reason: str) -> None:
    endpoint.active = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = utcnow()


async def update_endpoint(
    session: AsyncSession,
    actor: Principal,
    endpoint_id: uuid.UUID,
    data: WebhookEndpointUpdate,
    if_match: str | None,
    settings: Settings,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    check_if_match(if_match, endpoint.version)
    changes = data.model_dump(exclude_unset=True)
    if "event_types" in changes:
        changes["event_types"] = _patterns(changes["event_types"])
    if "url" in changes and changes["url"] != endpoint.url:
        await _check_reachable(changes["url"], settings)
    events: list[str] = []
    active = changes.pop("active", None)
    if any(getattr(endpoint, field) != value for field, value in changes.items()):
        events.append("webhook_endpoint.updated")
    for field, value in changes.items():
        setattr(endpoint, field, value)
    if active is True and not endpoint.active:
        _enable(endpoint)
        events.append("webhook_endpoint.enabled")
    elif active is False and endpoint.active:
        _disable(endpoint, "disabled through the API")
        events.append("webhook_endpoint.disabled")
    if events:
        endpoint.version += 1
        endpoint.updated_at = utcnow()
        await session.flush()
        for type_ in events:
            _record(session, type_, endpoint, actor)
    return endpoint


async def set_active(
    session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID, active: bool, reason: str | None
) -> WebhookEndpoint:
    """Enable (failures forgotten, pending deliveries resume) or disable (nothing is sent) an endpoint."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    if endpoint.active == active:
        return endpoint
    if active:
        _enable(endpoint)
    else:
        _disable(endpoint, reason or "disabled through the API")
    endpoint.version += 1
    endpoint.updated_at = utcnow()
    await session.flush()
    type_ = "webhook_endpoint.enabled" if active else "webhook_endpoint.disabled"
    _record(session, type_, endpoint, actor, reason)
    return endpoint


async def delete_endpoint(session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID) -> None:
    """Delete an endpoint with its delivery history; nothing more is sent to it."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    data = snapshot(endpoint)
    await repository.delete_endpoint(session, endpoint.id)
    outbox.record(session, "webhook_endpoint.deleted", "webhook_endpoint", endpoint_id, data, actor=actor.actor)


async def rotate_secret(
    session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID, overlap_hours: int | None, settings: Settings
) -> tuple[WebhookEndpoint, str]:
    """A new secret; the current one keeps signing (second signature) for the overlap, then stops."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    hours = settings.webhooks_secret_overlap_hours if overlap_hours is None else overlap_hours
    now = utcnow()
    secret = signing.new_secret()
    endpoint.previous_secret = endpoint.secret if hours > 0 else None
    endpoint.previous_secret_expires_at = now + timedelta(hours=hours) if hours > 0 else None
    endpoint.secret = secret
    endpoint.secret_rotated_at = now
    endpoint.version += 1
    endpoint.updated_at = now
    await session.flush()
    _record(session, "webhook_endpoint.secret_rotated", endpoint, actor)
    return endpoint, secret


# --- deliveries -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryView:
    """A delivery with its attempts (and, for one delivery, the body it sends)."""

    delivery: WebhookDelivery
    attempts: list[WebhookAttempt]
    payload: dict[str, Any] | None = None


async def list_deliveries(
    session: AsyncSession,
    endpoint_id: uuid.UUID,
    page: PageParams,
    *,
    status: DeliveryStatus | None,
    event_type: str | None,
    event_id: uuid.UUID | None,
) -> Slice[DeliveryView]:
    await get_endpoint(session, endpoint_id)
    found = await repository.list_deliveries(
        session, endpoint_id, page, status=status, event_type=event_type, event_id=event_id
    )
    attempts = await repository.attempts_of(session, [d.id for d in found.items])
    items = [DeliveryView(d, attempts.get(d.id, [])) for d in found.items]
    return Slice(items=items, has_more=found.has_more, next_after=found.next_after)


async def get_delivery(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    await get_endpoint(session, endpoint_id)
    delivery = await repository.get_delivery(session, endpoint_id, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for this endpoint", code="delivery_not_found")
    attempts = await repository.attempts_of(session, [delivery.id])
    event = await repository.event_by_id(session, delivery.event_id)
    payload = domain.envelope(str(event.id), event.type, event.occurred_at, event.data) if event else {}
    return DeliveryView(delivery, attempts.get(delivery.id, []), payload)


def _delivery_row(endpoint_id: uuid.UUID, event: Any, origin: str, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid7(),
        "endpoint_id": endpoint_id,
        "event_id": event.id,
        "event_seq": event.seq,
        "event_type": event.type,
        "aggregate_type": event.aggregate_type,
        "aggregate_id": event.aggregate_id,
        "origin": origin,
        "status": DeliveryStatus.PENDING.value,
        "attempt_count": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def _require_active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.active:
        raise Conflict(
            "The endpoint is disabled: enable it first (POST …/enable)",
            code="webhook_endpoint_disabled",
            disabled_reason=endpoint.disabled_reason,
        )


async def redeliver(session: AsyncSession, endpoint_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryView:
    """Send one event again: a finished delivery gets a new one; a pending one is made due now."""
    endpoint = await get_endpoint(session, endpoint_id)
    _require_active(endpoint)
    delivery = await repository.get_delivery(session, endpoint_id, delivery_id)
    if delivery is None:
        raise NotFound(f"No delivery {delivery_id} for this endpoint", code="delivery_not_found")
    now = utcnow()
    if delivery.status == DeliveryStatus.PENDING:
        await repository.make_due(session, delivery.id, now)
        await session.refresh(delivery)
        return DeliveryView(delivery, (await repository.attempts_of(session, [delivery.id])).get(delivery.id, []))
    event = await repository.event_by_id(session, delivery.event_id)
    if event is None:  # events are never deleted; only a hand-edited database gets here
        raise Conflict("The event of this delivery no longer exists", code="event_missing")
    row = _delivery_row(endpoint.id, event, "redelivery", now)
    await repository.insert_deliveries(session, [row])
    created = await repository.get_delivery(session, endpoint.id, row["id"])
    assert created is not None
    return DeliveryView(created, [])


async def replay(
    session: AsyncSession, endpoint_id: uuid.UUID, since: datetime, until: datetime | None, settings: Settings
) -> tuple[int, datetime]:
    """Queue every event of ``[since, until)`` the endpoint subscribes to, again, in the order they happened."""
    endpoint = await get_endpoint(session, endpoint_id)
    _require_active(endpoint)
    now = utcnow()
    end = min(until or now, now)
    if end <= since:
        raise field_error("/body/since", "must be before until (and not in the future)", "empty_range")
    total = await repository.count_replayable(session, since, end)
    if total > settings.webhooks_replay_max_events:
        raise Unprocessable(
            f"The range holds {total} events, more than {settings.webhooks_replay_max_events}: replay shorter ranges",
            code="replay_too_large",
            events_in_range=total,
        )
    queued, after = 0, 0
    while True:
        events = await repository.replayable_events(session, since, end, after, REPLAY_CHUNK)
        if not events:
            break
        after = events[-1].seq
        rows = [
            _delivery_row(endpoint.id, e, "replay", now) for e in events if domain.matches(endpoint.event_types, e.type)
        ]
        await repository.insert_deliveries(session, rows)
        queued += len(rows)
    return queued, end
