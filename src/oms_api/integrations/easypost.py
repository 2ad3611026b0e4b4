"""EasyPost tracking webhooks: ``tracker.updated`` events become shipment tracking events.

EasyPost signs each delivery with the webhook's secret: ``X-Hmac-Signature: hmac-sha256-hex=<hex>``, the
HMAC-SHA256 of the raw body keyed with the NFKD-normalised secret (what EasyPost's own client libraries
check). The route is authenticated by that signature instead of an API key (``x-signed-by-platform``).

Every verified delivery is stored raw and deduplicated by the event id before it is applied, so a retry
changes nothing. Tracker statuses map onto shipment states (``STATUSES``); ``pre_transit`` (label made,
parcel not yet scanned) and EasyPost's own ``unknown``, ``cancelled`` and ``error`` are kept as history only.
``available_for_pickup`` (waiting at a carrier pickup point) counts as out for delivery: the last mile.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request

from oms_api.fulfillment import tracking
from oms_api.fulfillment.domain import ShipmentStatus
from oms_api.fulfillment.schemas import CarrierWebhookReceipt
from oms_api.fulfillment.tracking import Report
from oms_api.integrations.base import SIGNED_BY_PLATFORM, platform_actor, text
from oms_api.kit.auth import Session
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import BadRequest, Unauthorized
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

SOURCE = "easypost"
SIGNATURE_PREFIX = "hmac-sha256-hex="
MAX_BODY_BYTES = 1_000_000
TRACKER_UPDATED = "tracker.updated"

S = ShipmentStatus
STATUSES: dict[str, ShipmentStatus | None] = {
    "pre_transit": None,
    "in_transit": S.IN_TRANSIT,
    "out_for_delivery": S.OUT_FOR_DELIVERY,
    "available_for_pickup": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "return_to_sender": S.RETURNED_TO_SENDER,
    "failure": S.EXCEPTION,
    "unknown": None,
    "cancelled": None,
    "error": None,
}


class MalformedDelivery(ValueError):
    """A signed body that is not an EasyPost event (answered 400, not stored)."""


def signature(secret: str, body: bytes) -> str:
    """The ``X-Hmac-Signature`` value EasyPost sends for ``body``."""
    key = unicodedata.normalize("NFKD", secret).encode()
    return SIGNATURE_PREFIX + hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """Constant-time check of the header against the body's signature."""
    if not header:
        return False
    return hmac.compare_digest(signature(secret, body).encode(), header.strip().encode("utf-8", "replace"))


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _location(detail: dict[str, Any]) -> str | None:
    place = detail.get("tracking_location")
    if not isinstance(place, dict):
        return None
    parts = [text(place.get(key), 60) for key in ("city", "state", "zip", "country")]
    return ", ".join(p for p in parts if p) or None


def parse(body: bytes) -> tuple[str, str, Report | None]:
    """(event id, event type, the tracking report it carries or None when it carries none)."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedDelivery("the body is not JSON") from exc
    if not isinstance(payload, dict):
        raise MalformedDelivery("the body is not a JSON object")
    event_id = text(payload.get("id"), 200)
    if not event_id:
        raise MalformedDelivery("the event has no id")
    kind = text(payload.get("description"), 64) or ""
    tracker = payload.get("result")
    if kind != TRACKER_UPDATED or not isinstance(tracker, dict):
        return event_id, kind, None
    status_name = text(tracker.get("status"), 64) or "unknown"
    details = [d for d in tracker.get("tracking_details") or [] if isinstance(d, dict)]
    last = details[-1] if details else {}
    report = Report(
        source=SOURCE,
        carrier_status=status_name,
        status=STATUSES.get(status_name),
        occurred_at=_datetime(last.get("datetime")) or _datetime(tracker.get("updated_at")) or utcnow(),
        description=text(last.get("message"), 500) or text(tracker.get("status_detail"), 500),
        location=_location(last),
        estimated_delivery_date=_date(tracker.get("est_delivery_date")),
        tracking_number=text(tracker.get("tracking_code"), 64),
    )
    return event_id, kind, report


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
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest("The body is larger than 1 MB", code="body_too_large")
    if not verify(secret, body, x_hmac_signature):
        raise Unauthorized("X-Hmac-Signature does not match the body", code="invalid_signature")
    try:
        event_id, kind, report = parse(body)
    except MalformedDelivery as exc:
        raise BadRequest(f"Not an EasyPost event: {exc}", code="malformed_delivery") from exc
    return await tracking.receive(
        session,
        platform_actor(SOURCE),
        source=SOURCE,
        external_id=event_id,
        type_=kind,
        body=body.decode("utf-8", "replace"),
        report=report,
    )
