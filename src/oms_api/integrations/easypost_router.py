"""``POST /v1/integrations/easypost/webhooks``: EasyPost ``tracker.updated`` deliveries, verified, stored raw and
applied to shipments (see ``easypost`` for the format and the status mapping)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request

from oms_api.fulfillment import service as fulfillment
from oms_api.fulfillment.schemas import CarrierWebhookReceipt
from oms_api.integrations.base import SIGNED_BY_PLATFORM, platform_actor
from oms_api.integrations.easypost import SOURCE, MalformedDelivery, parse, verify
from oms_api.kit.auth import Session
from oms_api.kit.errors import BadRequest, Unauthorized
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["integrations"], route_class=OmsRoute)


@router.post(
    "/v1/integrations/easypost/webhooks",
    response_model=CarrierWebhookReceipt,
    responses=errors(400, 401),
    openapi_extra={SIGNED_BY_PLATFORM: SOURCE},
)
async def easypost_webhooks_receive(
    request: Request,
    session: Session,
    x_hmac_signature: Annotated[
        str | None,
        Header(alias="X-Hmac-Signature", max_length=200, description="hmac-sha256-hex=<HMAC-SHA256 of the body>"),
    ] = None,
) -> CarrierWebhookReceipt:
    """EasyPost ``tracker.updated`` events, authenticated by their ``X-Hmac-Signature`` (not an API key).

    Stored raw and deduplicated by event id (a retry answers ``duplicate: true`` and changes nothing), then
    applied to the shipment whose package has the tracking code. 401 ``invalid_signature`` stores nothing.
    """
    secret = request.app.state.settings.easypost_webhook_secret
    if not secret:  # nothing can be verified: refused like a bad signature (EasyPost retries until configured)
        raise Unauthorized(
            "EasyPost webhooks are not configured: set OMS_EASYPOST_WEBHOOK_SECRET", code="easypost_not_configured"
        )
    body = await request.body()  # kit.limits refuses it past the inbound limit (413) before reading it all
    if not verify(secret, body, x_hmac_signature):
        raise Unauthorized("X-Hmac-Signature does not match the body", code="invalid_signature")
    try:
        event_id, kind, report = parse(body)
    except MalformedDelivery as exc:
        raise BadRequest(f"Not an EasyPost event: {exc}", code="malformed_delivery") from exc
    return await fulfillment.receive_carrier_report(
        session,
        platform_actor(SOURCE),
        source=SOURCE,
        external_id=event_id,
        type_=kind,
        body=body.decode("utf-8", "replace"),
        report=report,
    )
