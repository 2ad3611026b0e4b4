"""``POST /v1/integrations/stripe/webhooks``: Stripe's events, signed by Stripe (not by an API key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.security import APIKeyHeader

from oms_api.kit.auth import Session
from oms_api.kit.errors import Problem
from oms_api.kit.openapi import errors
from oms_api.kit.route_marks import SIGNED_BY_PLATFORM
from oms_api.kit.routing import OmsRoute
from oms_api.payments import service
from oms_api.payments.schemas import StripeReceipt
from oms_api.settings import Settings

router = APIRouter(tags=["payments"], route_class=OmsRoute)

stripe_signature = APIKeyHeader(
    name="Stripe-Signature",
    scheme_name="StripeSignature",
    description='t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the endpoint\'s signing secret>',
    auto_error=False,
)
_EVENT = {"type": "object", "additionalProperties": True, "description": "A Stripe event object"}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **errors(400),
    401: {
        "model": Problem,
        "description": "No Stripe-Signature header, or no OMS_STRIPE_WEBHOOK_SECRET to verify it with (a signature "
        "that does not verify is 400)",
    },
}


@router.post(
    "/v1/integrations/stripe/webhooks",
    response_model=StripeReceipt,
    responses=_RESPONSES,
    openapi_extra={
        SIGNED_BY_PLATFORM: "stripe",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _EVENT}}},
    },
)
async def stripe_webhooks_receive(
    request: Request, session: Session, _signature: Annotated[str | None, Security(stripe_signature)]
) -> StripeReceipt:
    """Receive a Stripe event: ``payment_intent.succeeded``, ``payment_intent.amount_capturable_updated``,
    ``payment_intent.payment_failed``, ``payment_intent.canceled``, ``charge.refunded`` (others are stored and
    ignored).

    Authenticated by ``Stripe-Signature`` with ``OMS_STRIPE_WEBHOOK_SECRET`` (five minutes' tolerance), not by an
    API key: 401 ``missing_signature`` without the header, 400 ``invalid_signature`` when it does not verify; 401
    ``stripe_webhooks_not_configured`` while no secret is set (Stripe retries for three days). The event is stored
    raw first and applied once: a replay of its id answers ``duplicate: true`` and changes nothing. A success on a
    payment resumes its order's payment hold."""
    settings: Settings = request.app.state.settings
    body = await request.body()  # exactly as signed; kit.limits refuses it past the inbound limit (413)
    receipt = await service.receive_stripe_event(session, settings, request.headers.items(), body)
    return StripeReceipt.model_validate(receipt, from_attributes=True)
