"""``/v1/webhook-endpoints``: partners' subscriptions, their secrets and deliveries; ``/v1/event-types``."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.event_types import EventType as CatalogEntry
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.webhooks import service
from oms_api.webhooks.domain import DeliveryStatus
from oms_api.webhooks.schemas import (
    DisableBody,
    EventType,
    EventTypeList,
    RedeliveryResult,
    ReplayRequest,
    ReplayResult,
    SecretRotate,
    SecretRotation,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryDetail,
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointCreate,
    WebhookEndpointCreated,
    WebhookEndpointList,
    WebhookEndpointUpdate,
)

router = APIRouter(prefix="/v1/webhook-endpoints", tags=["webhooks"], route_class=OmsRoute)
event_types_router = APIRouter(prefix="/v1/event-types", tags=["webhooks"], route_class=OmsRoute)

EndpointId = Annotated[uuid.UUID, Path(description="The endpoint's id")]
DeliveryId = Annotated[uuid.UUID, Path(description="The delivery's id")]


def _endpoint_view(view: service.EndpointView) -> WebhookEndpoint:
    e = view.endpoint
    return WebhookEndpoint(
        id=e.id,
        url=e.url,
        description=e.description,
        event_types=list(e.event_types),
        active=e.active,
        disabled_reason=e.disabled_reason,
        disabled_at=e.disabled_at,
        consecutive_failures=e.consecutive_failures,
        pending_deliveries=view.pending,
        failed_deliveries=view.failed,
        circuit=view.circuit,
        circuit_retry_at=e.circuit_open_until,
        secret_rotated_at=e.secret_rotated_at,
        previous_secret_expires_at=e.previous_secret_expires_at,
        version=e.version,
        created_at=e.created_at,
        updated_at=e.updated_at,
    )


def _endpoint(response: Response, view: service.EndpointView) -> WebhookEndpoint:
    out = _endpoint_view(view)
    set_etag(response, out.version)
    return out


def _delivery(item: service.DeliveryView) -> WebhookDelivery:
    d = item.delivery
    return WebhookDelivery(
        id=d.id,
        endpoint_id=d.endpoint_id,
        event_id=d.event_id,
        event_type=d.event_type,
        aggregate_type=d.aggregate_type,
        aggregate_id=d.aggregate_id,
        origin=d.origin,
        status=DeliveryStatus(d.status),
        resolution=d.resolution,
        resolved_at=d.resolved_at,
        attempt_count=d.attempt_count,
        next_attempt_at=d.next_attempt_at if d.status == DeliveryStatus.PENDING else None,
        last_status_code=d.last_status_code,
        last_error=d.last_error,
        created_at=d.created_at,
        finished_at=d.finished_at,
        attempts=[WebhookAttempt.model_validate(a) for a in item.attempts],
    )


@router.post("", status_code=201, response_model=WebhookEndpointCreated)
async def webhook_endpoints_create(
    body: WebhookEndpointCreate,
    request: Request,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookEndpointCreated:
    """Subscribe a URL to event types. The answer holds the signing `secret`: it is shown only this once.

    Refused with 422 `url_not_allowed` when the URL resolves to a private, loopback or link-local address,
    `url_unresolvable` when its host has no address, `unknown_event_type` for a type not in `/v1/event-types`.
    """
    endpoint, secret = await service.create_endpoint(session, principal, body, request.app.state.settings)
    response.headers["Location"] = f"/v1/webhook-endpoints/{endpoint.id}"
    view = _endpoint(response, await service.describe(session, endpoint))
    return WebhookEndpointCreated(**view.model_dump(), secret=secret)


@router.get("", response_model=WebhookEndpointList)
async def webhook_endpoints_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Scope.WEBHOOKS_READ),
) -> WebhookEndpointList:
    """List endpoints, oldest first (secrets are never listed), each with its pending deliveries and dead letters."""
    result = await service.list_endpoints(session, page, active=active)
    return paginate(request, response, result, WebhookEndpointList, _endpoint_view)


@router.get("/{endpoint_id}", response_model=WebhookEndpoint, responses=errors(404))
async def webhook_endpoints_get(
    endpoint_id: EndpointId, session: Session, response: Response, _: Principal = require(Scope.WEBHOOKS_READ)
) -> WebhookEndpoint:
    """One endpoint, with its pending deliveries, unresolved dead letters and circuit breaker."""
    endpoint = await service.get_endpoint(session, endpoint_id)
    return _endpoint(response, await service.describe(session, endpoint))


@router.patch("/{endpoint_id}", response_model=WebhookEndpoint, responses=errors(404, 412))
async def webhook_endpoints_update(
    endpoint_id: EndpointId,
    body: WebhookEndpointUpdate,
    request: Request,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookEndpoint:
    """Change the URL, description, event types or `active` (send `If-Match` to avoid lost updates)."""
    endpoint = await service.update_endpoint(
        session, principal, endpoint_id, body, if_match, request.app.state.settings
    )
    return _endpoint(response, await service.describe(session, endpoint))


@router.delete("/{endpoint_id}", status_code=204, response_class=Response, responses=errors(404))
async def webhook_endpoints_delete(
    endpoint_id: EndpointId, session: Session, principal: Principal = write_access(Scope.WEBHOOKS_WRITE)
) -> Response:
    """Delete an endpoint and its delivery history; nothing more is sent to it."""
    await service.delete_endpoint(session, principal, endpoint_id)
    return Response(status_code=204)


@router.post("/{endpoint_id}/disable", response_model=WebhookEndpoint, responses=errors(404))
async def webhook_endpoints_disable(
    endpoint_id: EndpointId,
    session: Session,
    response: Response,
    body: Annotated[DisableBody | None, Body()] = None,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookEndpoint:
    """Stop sending to the endpoint. Deliveries stay pending (`pending_deliveries`) and resume when it is enabled
    again; a `webhook_endpoint.disabled` event says so to the other endpoints subscribed to it."""
    reason = body.reason if body else None
    endpoint = await service.set_active(session, principal, endpoint_id, False, reason)
    return _endpoint(response, await service.describe(session, endpoint))


@router.post("/{endpoint_id}/enable", response_model=WebhookEndpoint, responses=errors(404))
async def webhook_endpoints_enable(
    endpoint_id: EndpointId,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookEndpoint:
    """Enable a disabled endpoint: its failure count and circuit restart and pending deliveries resume.

    Events that happened while it was disabled were not queued for it: replay their time range. Dead letters
    keep the later events of their resources waiting: `POST …/redeliver-failed` (or skip them one by one).
    """
    endpoint = await service.set_active(session, principal, endpoint_id, True, None)
    return _endpoint(response, await service.describe(session, endpoint))


@router.post("/{endpoint_id}/rotate-secret", response_model=SecretRotation, responses=errors(404))
async def webhook_endpoints_rotate_secret(
    endpoint_id: EndpointId,
    request: Request,
    session: Session,
    body: Annotated[SecretRotate | None, Body()] = None,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> SecretRotation:
    """A new signing secret, shown only this once. The old one keeps signing (a second `v1,` signature in
    `webhook-signature`) for `overlap_hours`, so receivers can switch without missing a message."""
    overlap = body.overlap_hours if body else None
    endpoint, secret = await service.rotate_secret(session, principal, endpoint_id, overlap, request.app.state.settings)
    return SecretRotation(secret=secret, previous_secret_expires_at=endpoint.previous_secret_expires_at)


@router.get("/{endpoint_id}/deliveries", response_model=WebhookDeliveryList, responses=errors(404))
async def webhook_deliveries_list(
    endpoint_id: EndpointId,
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[DeliveryStatus | None, Query(description="failed: the dead letters")] = None,
    event_type: Annotated[str | None, Query(max_length=80)] = None,
    event_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Scope.WEBHOOKS_READ),
) -> WebhookDeliveryList:
    """Deliveries to this endpoint, oldest first, each with every attempt (time, status code, duration, error)."""
    result = await service.list_deliveries(
        session, endpoint_id, page, status=status, event_type=event_type, event_id=event_id
    )
    return paginate(request, response, result, WebhookDeliveryList, _delivery)


@router.get("/{endpoint_id}/deliveries/{delivery_id}", response_model=WebhookDeliveryDetail, responses=errors(404))
async def webhook_deliveries_get(
    endpoint_id: EndpointId, delivery_id: DeliveryId, session: Session, _: Principal = require(Scope.WEBHOOKS_READ)
) -> WebhookDeliveryDetail:
    """One delivery with its attempts and the body it sends."""
    item = await service.get_delivery(session, endpoint_id, delivery_id)
    return WebhookDeliveryDetail(**_delivery(item).model_dump(), payload=item.payload or {})


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    response_model=WebhookDelivery,
    responses=errors(404, 409),
)
async def webhook_deliveries_redeliver(
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    session: Session,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookDelivery:
    """Send this delivery's event again: a new delivery (same `webhook-id`) if it ended, else it is made due now.

    A redelivered dead letter no longer holds back its resource's later events: its redelivery does, in its
    place, until it is delivered. 409 `webhook_endpoint_disabled` while the endpoint is disabled."""
    return _delivery(await service.redeliver(session, endpoint_id, delivery_id))


@router.post(
    "/{endpoint_id}/deliveries/{delivery_id}/skip",
    response_model=WebhookDelivery,
    responses=errors(404, 409),
)
async def webhook_deliveries_skip(
    endpoint_id: EndpointId,
    delivery_id: DeliveryId,
    session: Session,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> WebhookDelivery:
    """Give up a dead letter: the later events of its resource, which wait behind it, are sent without it.

    409 `delivery_not_dead_letter` for a delivery that is not failed, `dead_letter_redelivered` for one already
    redelivered (skip the redelivery if it failed too)."""
    return _delivery(await service.skip(session, endpoint_id, delivery_id))


@router.post(
    "/{endpoint_id}/redeliver-failed", status_code=202, response_model=RedeliveryResult, responses=errors(404, 409)
)
async def webhook_endpoints_redeliver_failed(
    endpoint_id: EndpointId,
    session: Session,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> RedeliveryResult:
    """Redeliver every dead letter of the endpoint not yet redelivered or skipped, in the order the events
    happened (after an outage: enable the endpoint, then this). 409 `webhook_endpoint_disabled` while disabled."""
    return RedeliveryResult(queued=await service.redeliver_failed(session, endpoint_id))


@router.post("/{endpoint_id}/replay", status_code=202, response_model=ReplayResult, responses=errors(404, 409))
async def webhook_endpoints_replay(
    endpoint_id: EndpointId,
    body: ReplayRequest,
    request: Request,
    session: Session,
    principal: Principal = write_access(Scope.WEBHOOKS_WRITE),
) -> ReplayResult:
    """Queue again every event of `[since, until)` that the endpoint subscribes to (e.g. after an outage),
    in the order they happened. 422 `replay_too_large` when the range holds too many events."""
    queued, until = await service.replay(session, endpoint_id, body.since, body.until, request.app.state.settings)
    return ReplayResult(queued=queued, since=body.since, until=until)


# --- the catalogue ----------------------------------------------------------------------------------------------


def _event_type(found: CatalogEntry) -> EventType:
    return EventType(name=found.name, description=found.description, data_schema=found.schema.model_json_schema())


@event_types_router.get("", response_model=EventTypeList)
async def event_types_list(_: Principal = require(Scope.WEBHOOKS_READ)) -> EventTypeList:
    """Every event type an endpoint can subscribe to, with the JSON Schema of its `data`.

    Every delivery body is the envelope `{"id", "type", "created_at", "data"}`; `id` is also the
    `webhook-id` header. The OpenAPI document lists the same types under `webhooks`."""
    return EventTypeList(data=[_event_type(t) for t in service.event_types()])


@event_types_router.get("/{name}", response_model=EventType, responses=errors(404))
async def event_types_get(
    name: Annotated[str, Path(max_length=80)], _: Principal = require(Scope.WEBHOOKS_READ)
) -> EventType:
    """One event type."""
    return _event_type(service.get_event_type(name))
