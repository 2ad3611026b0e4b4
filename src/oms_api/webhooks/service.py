"""Webhook use cases: endpoints and their secrets, the event catalogue; deliveries, redelivery, skipping dead
letters and replay live in ``deliveries`` and are re-exported here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.event_types import EventType, catalogue
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.resealing import Resealed, reseal
from oms_api.settings import Settings
from oms_api.webhooks import domain, netguard, repository, signing
from oms_api.webhooks.deliveries import (
    DeliveryView,
    get_delivery,
    list_deliveries,
    redeliver,
    redeliver_failed,
    replay,
    skip,
)
from oms_api.webhooks.domain import Breaker, Circuit
from oms_api.webhooks.models import WebhookEndpoint
from oms_api.webhooks.schemas import WebhookEndpointCreate, WebhookEndpointUpdate
from oms_api.webhooks.snapshots import snapshot

__all__ = [
    "DeliveryView",
    "EndpointView",
    "create_endpoint",
    "delete_endpoint",
    "describe",
    "event_types",
    "get_delivery",
    "get_endpoint",
    "get_event_type",
    "list_deliveries",
    "list_endpoints",
    "redeliver",
    "redeliver_failed",
    "replay",
    "reseal_secrets",
    "rotate_secret",
    "set_active",
    "skip",
    "update_endpoint",
]


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


async def _counts(session: AsyncSession, endpoint_id: uuid.UUID) -> tuple[int, int]:
    return (await repository.delivery_counts(session, [endpoint_id])).get(endpoint_id, (0, 0))


async def _record(
    session: AsyncSession, type_: str, endpoint: WebhookEndpoint, actor: Principal, reason: str | None = None
) -> None:
    data = snapshot(endpoint, await _counts(session, endpoint.id))
    outbox.record(session, type_, "webhook_endpoint", endpoint.id, data, actor=actor.actor, reason=reason)


# --- endpoints --------------------------------------------------------------------------------------------------


async def get_endpoint(session: AsyncSession, endpoint_id: uuid.UUID, *, for_update: bool = False) -> WebhookEndpoint:
    endpoint = await repository.get_endpoint(session, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(f"No webhook endpoint {endpoint_id}", code="webhook_endpoint_not_found")
    return endpoint


@dataclass(frozen=True)
class EndpointView:
    """An endpoint with what it has waiting (pending deliveries, unresolved dead letters) and its circuit."""

    endpoint: WebhookEndpoint
    pending: int
    failed: int
    circuit: Circuit


async def _views(session: AsyncSession, endpoints: Sequence[WebhookEndpoint]) -> list[EndpointView]:
    counts = await repository.delivery_counts(session, [e.id for e in endpoints])
    now = utcnow()
    return [
        EndpointView(e, *counts.get(e.id, (0, 0)), Breaker(e.circuit_failures, e.circuit_open_until).state(now))
        for e in endpoints
    ]


async def describe(session: AsyncSession, endpoint: WebhookEndpoint) -> EndpointView:
    """The endpoint as the API shows it (so that a disabled endpoint's stuck deliveries are visible)."""
    await session.refresh(endpoint)
    return (await _views(session, [endpoint]))[0]


async def list_endpoints(session: AsyncSession, page: PageParams, *, active: bool | None) -> Slice[EndpointView]:
    found = await repository.list_endpoints(session, page, active=active)
    return Slice(items=await _views(session, found.items), has_more=found.has_more, next_after=found.next_after)


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
    await _record(session, "webhook_endpoint.created", endpoint, actor)
    return endpoint, secret


def _enable(endpoint: WebhookEndpoint) -> None:
    endpoint.active = True
    endpoint.disabled_reason = None
    endpoint.disabled_at = None
    endpoint.consecutive_failures = 0
    endpoint.circuit_failures = 0
    endpoint.circuit_open_until = None


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
            await _record(session, type_, endpoint, actor)
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
    await _record(session, type_, endpoint, actor, reason)
    return endpoint


async def delete_endpoint(session: AsyncSession, actor: Principal, endpoint_id: uuid.UUID) -> None:
    """Delete an endpoint with its delivery history; nothing more is sent to it."""
    endpoint = await get_endpoint(session, endpoint_id, for_update=True)
    data = snapshot(endpoint, await _counts(session, endpoint.id))
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
    await _record(session, "webhook_endpoint.secret_rotated", endpoint, actor)
    return endpoint, secret


async def reseal_secrets(sessions: async_sessionmaker[AsyncSession], batch_size: int) -> Resealed:
    """Re-encrypt the endpoints' signing secrets under the current key (``oms-api secrets rotate``); the
    secrets themselves do not change, so receivers notice nothing."""
    return await reseal(sessions, WebhookEndpoint, batch_size=batch_size)
