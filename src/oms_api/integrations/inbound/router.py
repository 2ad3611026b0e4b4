"""Storefront webhooks in (signed by the platform) and ``/v1/inbound-events`` to see and retry them (API key)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Header, Path, Query, Request, Response, Security
from fastapi.security import APIKeyHeader

from oms_api.integrations import tasks
from oms_api.integrations.base import SIGNED_BY_PLATFORM
from oms_api.integrations.inbound import service
from oms_api.integrations.inbound.domain import Outcome
from oms_api.integrations.inbound.schemas import (
    InboundEvent,
    InboundEventList,
    InboundEventSummary,
    InboundReceipt,
    OutcomeName,
    Source,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.errors import Problem
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.kit.schemas import Code
from oms_api.settings import Settings

router = APIRouter(tags=["integrations"], route_class=OmsRoute)

ChannelRef = Annotated[
    str,
    Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", description="The channel's code or its id"),
]
DeliveryHeader = Annotated[str | None, Header(max_length=255, description="The delivery's id: dedupes retries")]
TopicHeader = Annotated[str | None, Header(max_length=100, description="What happened (the webhook's topic)")]

shopify_hmac = APIKeyHeader(
    name="X-Shopify-Hmac-Sha256",
    scheme_name="ShopifyHmac",
    description="Base64 HMAC-SHA256 of the raw body, keyed with the channel's Shopify webhook secret",
    auto_error=False,
)
woocommerce_hmac = APIKeyHeader(
    name="X-WC-Webhook-Signature",
    scheme_name="WooCommerceHmac",
    description="Base64 HMAC-SHA256 of the raw body, keyed with the channel's WooCommerce webhook secret",
    auto_error=False,
)

_ORDER_JSON = {"type": "object", "additionalProperties": True}
_WEBHOOK_RESPONSES: dict[int | str, dict[str, Any]] = {
    **errors(404),
    401: {"model": Problem, "description": "Signature missing or wrong, or the channel has no secret"},
}


def _signed(platform: str, body: dict[str, Any], security: list[dict[str, list[str]]] | None = None) -> dict[str, Any]:
    """openapi_extra of a platform-signed route: the raw body it reads, and the flag the contract tests honour."""
    extra: dict[str, Any] = {SIGNED_BY_PLATFORM: platform, "requestBody": {"required": True, "content": body}}
    if security:
        extra["security"] = security
    return extra


async def _receive(
    request: Request, session: Session, background: BackgroundTasks, source: str, channel: str
) -> InboundReceipt:
    body = await request.body()  # the body exactly as signed; kit.limits refuses it past the inbound limit (413)
    receipt = await service.receive(session, source, channel, request.headers.items(), body)
    if receipt.id is not None and receipt.outcome == Outcome.PENDING:
        settings: Settings = request.app.state.settings
        background.add_task(tasks.process_stored, request.app.state.db.sessions, receipt.id, settings)
    return InboundReceipt.model_validate(receipt, from_attributes=True)


@router.post(
    "/v1/integrations/shopify/{channel}/webhooks",
    response_model=InboundReceipt,
    responses=_WEBHOOK_RESPONSES,
    openapi_extra=_signed(
        "shopify", {"application/json": {"schema": {**_ORDER_JSON, "description": "A Shopify order resource"}}}
    ),
)
async def shopify_webhooks_receive(
    channel: ChannelRef,
    request: Request,
    session: Session,
    background: BackgroundTasks,
    _signature: Annotated[str | None, Security(shopify_hmac)],
    x_shopify_topic: TopicHeader = None,
    x_shopify_webhook_id: DeliveryHeader = None,
) -> InboundReceipt:
    """Receive a Shopify webhook (``orders/create``, ``orders/cancelled``) for the channel.

    Authenticated by ``X-Shopify-Hmac-Sha256`` with the channel's ``integrations.shopify.webhook_secret``, not
    by an API key. The delivery is stored raw and answered at once; it becomes an order (or cancels one) right
    after. A repeated ``X-Shopify-Webhook-Id`` is answered 200 with ``duplicate: true`` and changes nothing. An
    order that cannot be served as sent (unknown SKU, out of stock) is created ``on_hold`` with the reason.
    401 ``invalid_signature`` or ``integration_not_configured``; 400 ``malformed_json``, ``malformed_delivery``,
    ``missing_header``.
    """
    return await _receive(request, session, background, "shopify", channel)


@router.post(
    "/v1/integrations/woocommerce/{channel}/webhooks",
    response_model=InboundReceipt,
    responses=_WEBHOOK_RESPONSES,
    openapi_extra=_signed(
        "woocommerce",
        {
            "application/json": {"schema": {**_ORDER_JSON, "description": "A WooCommerce order resource"}},
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "properties": {"webhook_id": {"type": "string", "pattern": "^[0-9]{1,20}$"}},
                    "required": ["webhook_id"],
                    "description": "The unsigned ping WooCommerce sends when a webhook is saved",
                }
            },
        },
        security=[{}],  # the ping comes unsigned
    ),
)
async def woocommerce_webhooks_receive(
    channel: ChannelRef,
    request: Request,
    session: Session,
    background: BackgroundTasks,
    _signature: Annotated[str | None, Security(woocommerce_hmac)],
    x_wc_webhook_topic: TopicHeader = None,
    x_wc_webhook_delivery_id: DeliveryHeader = None,
) -> InboundReceipt:
    """Receive a WooCommerce webhook (``order.created``, ``order.updated``) for the channel.

    Authenticated by ``X-WC-Webhook-Signature`` with the channel's ``integrations.woocommerce.webhook_secret``,
    not by an API key; the unsigned ping sent when the webhook is saved (``webhook_id=<id>``, form-encoded) is
    answered 200 and not stored. Stored raw and answered at once, applied right after; a repeated
    ``X-WC-Webhook-Delivery-ID`` changes nothing. ``order.updated`` to ``cancelled`` cancels the order; other
    updates are recorded and ignored. 401 ``invalid_signature`` or ``integration_not_configured``; 400
    ``malformed_json``, ``malformed_delivery``, ``missing_header``.
    """
    return await _receive(request, session, background, "woocommerce", channel)


@router.get("/v1/inbound-events", response_model=InboundEventList)
async def inbound_events_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    source: Annotated[Source | None, Query()] = None,
    outcome: Annotated[OutcomeName | None, Query()] = None,
    channel: Annotated[Code | None, Query(description="Channel code or id")] = None,
    _: Principal = require(Scope.ORDERS_READ),
) -> InboundEventList:
    """Storefront deliveries, oldest first, with their outcome (without headers and body; get one for those)."""
    result = await service.list_events(session, page, source=source, outcome=outcome, channel=channel)
    return paginate(request, response, result, InboundEventList, InboundEventSummary)


@router.get("/v1/inbound-events/{event_id}", response_model=InboundEvent, responses=errors(404))
async def inbound_events_get(
    event_id: uuid.UUID, session: Session, _: Principal = require(Scope.ORDERS_READ)
) -> InboundEvent:
    """One delivery with its headers and raw body, its outcome and the order it made."""
    return InboundEvent.model_validate(await service.get_event(session, event_id))


@router.post("/v1/inbound-events/{event_id}/reprocess", response_model=InboundEvent, responses=errors(404))
async def inbound_events_reprocess(
    event_id: uuid.UUID,
    request: Request,
    session: Session,
    _principal: Principal = write_access(Scope.ORDERS_WRITE),
) -> InboundEvent:
    """Apply a delivery again now, whatever its outcome, and answer with the new outcome.

    Never creates a second order: an order already taken in is found. An order held at intake is confirmed
    if it can be served now (its SKUs exist, its stock is there); a cancellation that waited for its order
    is applied once the order exists.
    """
    settings: Settings = request.app.state.settings
    return InboundEvent.model_validate(await service.reprocess(session, event_id, settings))
