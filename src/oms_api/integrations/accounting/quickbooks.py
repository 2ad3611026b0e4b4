"""QuickBooks Online at the edge: its webhook notifications verified and read, its payments fetched.

Intuit's webhooks (developer.intuit.com, "Webhooks"): a POST whose body is a change notification,
``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
"lastUpdated"}]}}]}``, signed in the ``intuit-signature`` header with base64(HMAC-SHA256(verifier token, raw
body)). A notification says only what changed: the payment itself is read from the Accounting API
(``GET /v3/company/{realmId}/payment/{id}``), and each invoice it pays (``Line[].LinkedTxn[]`` of ``TxnType``
``Invoice``) from ``GET /v3/company/{realmId}/invoice/{id}`` for its ``DocNumber``, which is our invoice number.

Amounts are read as ``Decimal`` (JSON numbers parsed without a float).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

TIMEOUT_SECONDS = 15.0
MINOR_VERSION = "75"


class QuickBooksError(Exception):
    """QuickBooks could not be asked, or answered something unusable."""


class NotConfigured(QuickBooksError):
    """No verifier token (webhooks), or no realm and access token (API)."""


class InvalidSignature(QuickBooksError):
    pass


class MalformedNotification(QuickBooksError):
    pass


@dataclass(frozen=True, slots=True)
class ChangedEntity:
    realm_id: str
    name: str
    id: str
    operation: str
    last_updated: str

    @property
    def key(self) -> str:
        """What identifies this change across retries and overlapping notifications."""
        return f"{self.realm_id}:{self.name}:{self.id}:{self.operation}:{self.last_updated}"[:255]


@dataclass(frozen=True, slots=True)
class PaidInvoice:
    number: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class ReportedPayment:
    """A payment as QuickBooks records it: the invoices it pays (by our number) and how much of each."""

    id: str
    txn_date: date
    currency: str | None
    reference: str | None
    invoices: tuple[PaidInvoice, ...]


def verify_signature(verifier_token: str, body: bytes, signature: str | None) -> None:
    """Raise ``InvalidSignature`` unless ``signature`` is base64(HMAC-SHA256(verifier_token, body))."""
    if not signature:
        raise InvalidSignature("no intuit-signature header")
    expected = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()
    if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
        raise InvalidSignature("intuit-signature does not match the body")


def sign(verifier_token: str, body: bytes) -> str:
    """The ``intuit-signature`` of ``body`` (what Intuit sends; tests sign with it)."""
    return base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise MalformedNotification(f"{what} is missing or not a string")
    return str(value)[:100]


def parse_notification(body: bytes) -> list[ChangedEntity]:
    """The entity changes of a notification, in order; ``MalformedNotification`` when it is not one."""
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedNotification("the body is not JSON") from exc
    notifications = data.get("eventNotifications") if isinstance(data, dict) else None
    if not isinstance(notifications, list):
        raise MalformedNotification("eventNotifications is missing")
    changes = []
    for notification in notifications:
        if not isinstance(notification, dict):
            raise MalformedNotification("an event notification is not an object")
        realm = _text(notification.get("realmId"), "realmId")
        event = notification.get("dataChangeEvent") or {}
        entities = event.get("entities") if isinstance(event, dict) else None
        if not isinstance(entities, list):
            raise MalformedNotification("dataChangeEvent.entities is missing")
        for entity in entities:
            if not isinstance(entity, dict):
                raise MalformedNotification("an entity is not an object")
            changes.append(
                ChangedEntity(
                    realm_id=realm,
                    name=_text(entity.get("name"), "name"),
                    id=_text(entity.get("id"), "id"),
                    operation=_text(entity.get("operation"), "operation"),
                    last_updated=_text(entity.get("lastUpdated", "-"), "lastUpdated"),
                )
            )
    return changes


_transport: httpx.AsyncBaseTransport | None = None


def use_transport(transport: httpx.AsyncBaseTransport | None) -> None:
    """Send the API calls through ``transport`` (tests: an ``httpx.MockTransport``; None: the network)."""
    global _transport
    _transport = transport


class QuickBooksClient:
    """The few reads of the Accounting API the inbound payments need."""

    def __init__(self, base_url: str, realm_id: str | None, access_token: str | None) -> None:
        if not realm_id or not access_token:
            raise NotConfigured("OMS_QUICKBOOKS_REALM_ID and OMS_QUICKBOOKS_ACCESS_TOKEN are needed to read payments")
        self.base_url = base_url.rstrip("/")
        self.realm_id = realm_id
        self.access_token = access_token

    async def _get(self, client: httpx.AsyncClient, entity: str, entity_id: str) -> dict[str, Any]:
        url = f"{self.base_url}/v3/company/{self.realm_id}/{entity.lower()}/{entity_id}"
        try:
            response = await client.get(
                url,
                params={"minorversion": MINOR_VERSION},
                headers={"Authorization": f"Bearer {self.access_token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise QuickBooksError(f"QuickBooks did not answer ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise QuickBooksError(f"QuickBooks answered {response.status_code} for {entity} {entity_id}")
        try:
            data = json.loads(response.content, parse_float=Decimal)
        except ValueError as exc:
            raise QuickBooksError(f"QuickBooks answered no JSON for {entity} {entity_id}") from exc
        found = data.get(entity) if isinstance(data, dict) else None
        if not isinstance(found, dict):
            raise QuickBooksError(f"QuickBooks' answer holds no {entity}")
        return found

    async def payment(self, payment_id: str) -> ReportedPayment:
        """The payment and the numbers of the invoices it pays (one read per invoice)."""
        async with httpx.AsyncClient(transport=_transport, timeout=TIMEOUT_SECONDS) as client:
            payment = await self._get(client, "Payment", payment_id)
            paid: list[PaidInvoice] = []
            for line in payment.get("Line") or []:
                if not isinstance(line, dict):
                    continue
                for linked in line.get("LinkedTxn") or []:
                    if not isinstance(linked, dict) or linked.get("TxnType") != "Invoice":
                        continue
                    invoice = await self._get(client, "Invoice", str(linked.get("TxnId")))
                    number = invoice.get("DocNumber")
                    if not isinstance(number, str) or not number:
                        raise QuickBooksError(f"QuickBooks invoice {linked.get('TxnId')} has no DocNumber")
                    paid.append(PaidInvoice(number=number, amount=Decimal(str(line.get("Amount", 0)))))
        try:
            txn_date = date.fromisoformat(str(payment.get("TxnDate")))
        except ValueError as exc:
            raise QuickBooksError("the payment has no TxnDate") from exc
        currency = (payment.get("CurrencyRef") or {}).get("value")
        reference = payment.get("PaymentRefNum")
        return ReportedPayment(
            id=payment_id,
            txn_date=txn_date,
            currency=currency if isinstance(currency, str) else None,
            reference=str(reference)[:200] if reference else None,
            invoices=tuple(paid),
        )
