"""EasyPost tracking webhooks: ``tracker.updated`` events become shipment tracking events.

EasyPost signs each delivery with the webhook's secret: ``X-Hmac-Signature: hmac-sha256-hex=<hex>``, the
HMAC-SHA256 of the raw body keyed with the NFKD-normalised secret (what EasyPost's own client libraries
check). The route (``easypost_router``) is authenticated by that signature instead of an API key.

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
from typing import Any

from oms_api.fulfillment.domain import Report, ShipmentStatus
from oms_api.integrations.base import text
from oms_api.kit.clock import utcnow

SOURCE = "easypost"
SIGNATURE_PREFIX = "hmac-sha256-hex="
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
