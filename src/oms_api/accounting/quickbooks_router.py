"""``POST /v1/integrations/quickbooks/webhooks``: QuickBooks' change notifications, signed by Intuit (not by an
API key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Security
from fastapi.security import APIKeyHeader

from oms_api.accounting import service
from oms_api.accounting.schemas import QuickBooksReceipt
from oms_api.kit.auth import Session
from oms_api.kit.errors import Problem
from oms_api.kit.openapi import errors
from oms_api.kit.route_marks import SIGNED_BY_PLATFORM
from oms_api.kit.routing import OmsRoute
from oms_api.settings import Settings

router = APIRouter(tags=["accounting"], route_class=OmsRoute)

intuit_signature = APIKeyHeader(
    name="intuit-signature",
    scheme_name="IntuitSignature",
    description="base64 of the HMAC-SHA256 of the raw body keyed with the webhook's verifier token",
    auto_error=False,
)
_NOTIFICATION = {
    "type": "object",
    "additionalProperties": True,
    "description": "An Intuit change notification: eventNotifications[].dataChangeEvent.entities[]",
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    **errors(400, 502),
    401: {
        "model": Problem,
        "description": "No intuit-signature header, or no OMS_QUICKBOOKS_VERIFIER_TOKEN to verify it with (a signature "
        "that does not verify is 400)",
    },
}


@router.post(
    "/v1/integrations/quickbooks/webhooks",
    response_model=QuickBooksReceipt,
    responses=_RESPONSES,
    openapi_extra={
        SIGNED_BY_PLATFORM: "quickbooks",
        "requestBody": {"required": True, "content": {"application/json": {"schema": _NOTIFICATION}}},
    },
)
async def quickbooks_webhooks_receive(
    request: Request, session: Session, _signature: Annotated[str | None, Security(intuit_signature)]
) -> QuickBooksReceipt:
    """Receive a QuickBooks Online change notification. A ``Payment`` created or updated is read from the
    QuickBooks API and recorded against each of our invoices it pays (by invoice number), which marks them paid or
    partially paid; other entities are acknowledged and ignored. Each entity change applies once (a retry answers
    it under ``duplicates``). 502 ``quickbooks_unavailable`` when the API cannot be read (Intuit retries)."""
    settings: Settings = request.app.state.settings
    body = await request.body()
    return await service.receive_quickbooks(session, settings, request.headers.items(), body)
