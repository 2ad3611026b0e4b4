"""Standard Webhooks signing (https://www.standardwebhooks.com), done by the ``standardwebhooks`` package.

A secret is ``whsec_`` + base64 of 32 random bytes. Each delivery carries ``webhook-id`` (the event id,
stable across retries), ``webhook-timestamp`` (seconds, this attempt) and ``webhook-signature``: one
``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` per valid secret, space-separated, so that during
a rotation's overlap receivers holding either secret accept the message.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Sequence
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def new_secret() -> str:
    """A fresh signing secret in the Standard Webhooks format."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def signature_header(secrets_: Sequence[str], message_id: str, timestamp: datetime, body: str) -> str:
    """The ``webhook-signature`` value: one ``v1,…`` entry per secret, newest first."""
    return " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets_)


def headers(secrets_: Sequence[str], message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """Every header of one delivery attempt (the body is JSON)."""
    return {
        "content-type": "application/json",
        "user-agent": "oms-api-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature_header(secrets_, message_id, timestamp, body),
    }
