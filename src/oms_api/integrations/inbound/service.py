"""Inbound storefront deliveries: verify, store raw, then apply to orders in a transaction of their own.

Receiving does as little as possible (verify the signature, check the body is a JSON object, store it) so that
the platform gets its 2xx within its timeout and nothing it sent can be lost to a failure further on. Applying
happens after the answer (``tasks``) and is safe to repeat: a delivery is locked while it is applied, and an
order is keyed by (channel, external_ref), so neither a platform's retry, nor a worker, nor a reprocess can
create a second order.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.integrations.base import (
    Action,
    CancelOrder,
    CreateOrder,
    Ignore,
    MalformedDelivery,
    MappingError,
    Storefront,
    platform_actor,
    signature_matches,
)
from oms_api.integrations.inbound import domain, repository
from oms_api.integrations.inbound.domain import Outcome
from oms_api.integrations.inbound.models import InboundEvent
from oms_api.integrations.shopify import Shopify
from oms_api.integrations.woocommerce import WooCommerce
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import BadRequest, Conflict, NotFound, OmsError, Unauthorized
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.orders import service as orders
from oms_api.orders.domain import OrderStatus
from oms_api.settings import Settings

log = structlog.get_logger("oms_api.integrations")

STOREFRONTS: dict[str, Storefront] = {"shopify": Shopify(), "woocommerce": WooCommerce()}
TEXT_MAX = 2000
INBOUND_DELIVERIES = Counter(
    "oms_inbound_deliveries_total",
    "Storefront deliveries applied, by source and outcome",
    ["source", "outcome"],
)


@dataclass(frozen=True)
class Receipt:
    id: uuid.UUID | None
    outcome: str
    duplicate: bool


class Deferred(Exception):
    """The delivery cannot be applied yet (a cancellation before its order): retry later."""


async def receive(
    session: AsyncSession, source: str, channel_ref: str, headers: Iterable[tuple[str, str]], body: bytes
) -> Receipt:
    """Verify and store one delivery (not applied yet): 401 bad signature, 400 malformed, 404 unknown channel."""
    storefront = STOREFRONTS[source]
    channel = await channels.get_channel(session, channel_ref)
    received = list(headers)
    given = {name.lower(): value for name, value in received}
    signature = given.get(storefront.signature_header.lower())
    if storefront.is_ping(body, signature):
        return Receipt(None, Outcome.IGNORED.value, duplicate=False)
    secret = channels.webhook_secret(channel, source)
    if secret is None:
        raise Unauthorized(
            f"Channel {channel.code!r} has no {source} webhook secret: set integrations.{source} on the channel",
            code="integration_not_configured",
        )
    if not signature_matches(secret, body, signature):
        raise Unauthorized(
            f"{storefront.signature_header} is missing or does not match the body", code="invalid_signature"
        )
    delivery_id = _header(given, storefront.delivery_header, 255)
    topic = _header(given, storefront.topic_header, 100)
    text = _text(body)
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadRequest("The body is not valid JSON", code="malformed_json") from exc
    try:
        storefront.check(topic, payload)
    except MalformedDelivery as exc:
        raise BadRequest(f"The delivery cannot be used: {exc}", code="malformed_delivery") from exc
    event_id = uuid7()
    values = {
        "id": event_id,
        "source": source,
        "channel_id": channel.id,
        "external_id": delivery_id,
        "topic": topic,
        "headers": domain.kept_headers(received),
        "body": text,
        "received_at": utcnow(),
        "outcome": Outcome.PENDING.value,
        "attempts": 0,
    }
    if await repository.insert(session, values):
        return Receipt(event_id, Outcome.PENDING.value, duplicate=False)
    stored = await repository.get_by_delivery(session, source, channel.id, delivery_id)
    if stored is None:  # the unique key is the only conflict: a vanished row would be a bug
        raise RuntimeError(f"inbound delivery {source}/{delivery_id} is neither new nor stored")
    return Receipt(stored.id, stored.outcome, duplicate=True)


def _header(headers: Mapping[str, str], name: str, max_length: int) -> str:
    value = (headers.get(name.lower()) or "").strip()
    if not value or len(value) > max_length or not value.isprintable():
        raise BadRequest(f"Send the {name} header (1 to {max_length} printable characters)", code="missing_header")
    return value


def _text(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest("The body is not UTF-8", code="malformed_json") from exc
    if "\x00" in text:
        raise BadRequest("The body contains a NUL character", code="malformed_json")
    return text


async def process(session: AsyncSession, event: InboundEvent, settings: Settings) -> None:
    """Apply one stored delivery (locked by the caller) and record the outcome on it.

    The work runs in a savepoint: whatever the delivery makes of it (an order it cannot become, a cancellation
    the order refuses, even a bug) is recorded on the event and undone, never raised, so that one delivery
    cannot stop the others nor lose its own record. Events the work recorded go with it when it is undone.
    """
    event.attempts += 1
    source, attempts = event.source, event.attempts
    try:
        async with outbox.savepoint(session):
            outcome, order_id, note = await _apply(session, event, settings)
    except (MappingError, OmsError) as exc:  # the delivery cannot become what it says, as it is
        _finish(event, Outcome.FAILED, error=_message(exc))
    except Deferred as exc:
        _retry_later(event, attempts, str(exc))
    except Exception as exc:  # a bug or a lost database: retried a few times, then failed, always recorded
        log.exception("inbound_delivery_crashed", source=source, event_id=str(event.id))
        _retry_later(event, attempts, f"unexpected error: {type(exc).__name__}: {exc}")
    else:
        _finish(event, outcome, order_id=order_id, note=note)
    INBOUND_DELIVERIES.labels(source, event.outcome).inc()
    await session.flush()


async def _apply(
    session: AsyncSession, event: InboundEvent, settings: Settings
) -> tuple[Outcome, uuid.UUID | None, str | None]:
    storefront = STOREFRONTS[event.source]
    channel = await channels.get_channel(session, str(event.channel_id))
    action: Action = storefront.interpret(event.topic, json.loads(event.body), channel.code)
    actor = platform_actor(event.source)
    if isinstance(action, CreateOrder):
        return await _create(session, actor, action, settings)
    if isinstance(action, CancelOrder):
        return await _cancel(session, actor, channel.code, action)
    assert isinstance(action, Ignore)
    return Outcome.IGNORED, None, action.note


async def _create(
    session: AsyncSession, actor: Principal, action: CreateOrder, settings: Settings
) -> tuple[Outcome, uuid.UUID | None, str | None]:
    intake = action.intake
    result = await orders.take_in(
        session,
        actor,
        intake.order,
        settings,
        line_names=intake.line_names,
        problems=intake.problems,
        expected_total=intake.expected_total,
    )
    order = result.order
    held = order.status == OrderStatus.ON_HOLD
    note = order.status_reason if held else None
    if not result.created:
        note = f"the order was already there ({order.status})" + (f": {note}" if note else "")
    return (Outcome.HELD if held else Outcome.PROCESSED), order.id, note


async def _cancel(
    session: AsyncSession, actor: Principal, channel: str, action: CancelOrder
) -> tuple[Outcome, uuid.UUID | None, str | None]:
    order_id = await orders.find_order(session, channel, action.external_ref)
    if order_id is None:  # platforms deliver concurrently: the order's creation may still be on its way
        raise Deferred(f"no order {action.external_ref!r} in channel {channel!r} yet")
    try:
        await orders.cancel_order(session, actor, order_id, action.reason, None)
    except Conflict as exc:
        if exc.extra.get("current_status") != OrderStatus.CANCELLED:
            raise
        return Outcome.PROCESSED, order_id, "the order was already cancelled"
    return Outcome.PROCESSED, order_id, action.reason


def _message(exc: Exception) -> str:
    return (exc.detail if isinstance(exc, OmsError) else str(exc))[:TEXT_MAX]


def _finish(
    event: InboundEvent,
    outcome: Outcome,
    *,
    order_id: uuid.UUID | None = None,
    note: str | None = None,
    error: str | None = None,
) -> None:
    event.outcome = outcome.value
    event.processed_at = utcnow()
    event.next_attempt_at = None
    event.error = error[:TEXT_MAX] if error else None
    event.note = note[:TEXT_MAX] if note else None
    if order_id is not None:
        event.order_id = order_id


def _retry_later(event: InboundEvent, attempts: int, error: str) -> None:
    if domain.gives_up(attempts):
        _finish(event, Outcome.FAILED, error=f"{error} (gave up after {attempts} attempts)")
        return
    event.outcome = Outcome.PENDING.value
    event.next_attempt_at = utcnow() + domain.retry_delay(attempts)
    event.error = error[:TEXT_MAX]


async def reprocess(session: AsyncSession, event_id: uuid.UUID, settings: Settings) -> InboundEvent:
    """Apply a stored delivery again, now, whatever its outcome (an order is never created twice)."""
    event = await repository.get(session, event_id, for_update=True)
    if event is None:
        raise NotFound(f"No inbound event {event_id}", code="inbound_event_not_found")
    await process(session, event, settings)
    return event


async def get_event(session: AsyncSession, event_id: uuid.UUID) -> InboundEvent:
    event = await repository.get(session, event_id)
    if event is None:
        raise NotFound(f"No inbound event {event_id}", code="inbound_event_not_found")
    return event


async def list_events(
    session: AsyncSession,
    page: PageParams,
    *,
    source: str | None = None,
    outcome: str | None = None,
    channel: str | None = None,
) -> Slice[InboundEvent]:
    channel_id = None
    if channel:
        try:
            channel_id = (await channels.get_channel(session, channel)).id
        except NotFound:  # an unknown channel filters everything out, like any other filter
            return Slice(items=[], has_more=False, next_after=None)
    return await repository.list_events(session, page, source=source, outcome=outcome, channel_id=channel_id)
