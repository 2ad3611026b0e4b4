"""Stripe behind the gateway port, on Stripe's official library: PaymentIntents with manual capture.

- ``authorize``: create and confirm a PaymentIntent with ``capture_method=manual`` and the payment method
  (``pm_…``), asking for multicapture where the card allows it (``request_multicapture=if_available``), so that
  each shipment can capture its share;
- ``capture``: ``/capture`` with ``amount_to_capture``; a capture that more will follow sends
  ``final_capture=false`` (Stripe refuses that when multicapture is not available on the card: the capture
  fails and says so);
- ``void``: ``/cancel`` (releases what is authorised and not captured);
- ``refund``: ``/v1/refunds`` with the PaymentIntent and an amount (partial and repeated refunds);
- ``parse_webhook``: ``stripe.Webhook.construct_event`` verifies ``Stripe-Signature`` (HMAC-SHA256 of
  ``"{t}.{body}"`` with the endpoint's secret) with a five-minute tolerance.

Every call sends the OMS's ``Idempotency-Key``; the library's own retries are off (``max_network_retries=0``):
a call that gets no answer raises ``GatewayTimeout`` and the payments context repeats it later with the same key,
which Stripe answers with the first result. Amounts are sent in the currency's ISO 4217 minor unit, which is
Stripe's smallest unit for every currency it settles except a few it documents as special cases (e.g. HUF, ISK,
UGX, TWD): those need Stripe's own rule before a channel charges in them.

The HTTP client is ``httpx`` through a small ``stripe.HTTPClient`` subclass (the library's documented extension
point), so that the base URL (``OMS_STRIPE_API_BASE``) and the time limit are the service's, and tests serve
recorded exchanges on a local stub server: they never reach Stripe.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import stripe

from oms_api.integrations.payments.base import (
    GatewayEvent,
    GatewayNotConfigured,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    InvalidSignature,
    MalformedEvent,
)
from oms_api.kit.money import CurrencyError, Money

WEBHOOK_TOLERANCE_SECONDS = 300
_INTENT_STATUS = {
    "requires_capture": GatewayStatus.SUCCEEDED,  # authorised (manual capture)
    "succeeded": GatewayStatus.SUCCEEDED,  # captured in full
    "processing": GatewayStatus.PENDING,
    "requires_action": GatewayStatus.REQUIRES_ACTION,
    "requires_confirmation": GatewayStatus.REQUIRES_ACTION,
    "requires_payment_method": GatewayStatus.FAILED,  # the attempt failed: a new method is needed
    "canceled": GatewayStatus.FAILED,
}
_REFUND_STATUS = {
    "succeeded": GatewayStatus.SUCCEEDED,
    # Stripe has taken the refund and counts it against the charge; some methods settle it later.
    "pending": GatewayStatus.SUCCEEDED,
    "requires_action": GatewayStatus.PENDING,
    "failed": GatewayStatus.FAILED,
    "canceled": GatewayStatus.FAILED,
}


class HttpxClient(stripe.HTTPClient):
    """Stripe's HTTP client interface over an ``httpx.AsyncClient`` (async only)."""

    name = "oms-httpx"

    def __init__(self, client: httpx.AsyncClient) -> None:
        super().__init__()
        self._client = client

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        try:
            response = await self._client.request(method, url, headers=dict(headers), content=post_data)
        except httpx.HTTPError as exc:  # no answer: time-out, refused, dropped
            message = f"no answer from Stripe ({type(exc).__name__})"
            raise stripe.APIConnectionError(message) from exc  # type: ignore[no-untyped-call]
        return response.content, response.status_code, response.headers

    def sleep_async(self, secs: float) -> Awaitable[None]:
        return asyncio.sleep(secs)

    async def close_async(self) -> None:
        await self._client.aclose()

    def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        post_data: Any = None,
        *,
        _usage: list[str] | None = None,
    ) -> tuple[str, int, Mapping[str, str]]:
        raise RuntimeError("the OMS calls Stripe asynchronously only")

    def close(self) -> None:
        return None


def _money(minor: Any, currency: Any) -> Money | None:
    if not isinstance(minor, int) or not isinstance(currency, str):
        return None
    try:
        return Money.from_minor(minor, currency.upper())
    except CurrencyError:
        return None


def _method_summary(intent: Mapping[str, Any]) -> str | None:
    charge = intent.get("latest_charge")
    if isinstance(charge, Mapping):
        card = (charge.get("payment_method_details") or {}).get("card") or {}
        if card.get("last4"):
            return f"{card.get('brand') or 'card'} •••• {card['last4']}"
    method = intent.get("payment_method")
    return method if isinstance(method, str) else None


def _intent_result(intent: Mapping[str, Any], amount: Money | None = None) -> GatewayResult:
    status = _INTENT_STATUS.get(str(intent.get("status")), GatewayStatus.PENDING)
    error = intent.get("last_payment_error") or {}
    failed = status == GatewayStatus.FAILED
    return GatewayResult(
        status=status,
        reference=str(intent["id"]),
        amount=amount or _money(intent.get("amount"), intent.get("currency")),
        error_code=(error.get("decline_code") or error.get("code") or intent.get("status")) if failed else None,
        error_message=(error.get("message") or f"the PaymentIntent is {intent.get('status')}") if failed else None,
        method_summary=_method_summary(intent),
    )


def _refused(exc: stripe.StripeError, reference: str | None) -> GatewayResult:
    """A call Stripe answered with an error: nothing moved."""
    body = exc.json_body if isinstance(exc.json_body, dict) else {}
    error = body.get("error") if isinstance(body.get("error"), dict) else {}
    assert isinstance(error, dict)
    intent = error.get("payment_intent")
    if isinstance(intent, dict) and intent.get("id"):
        reference = str(intent["id"])
    return GatewayResult(
        GatewayStatus.FAILED,
        reference=reference,
        error_code=str(error.get("decline_code") or exc.code or type(exc).__name__),
        error_message=str(exc.user_message or "Stripe refused the request")[:500],
    )


class StripeGateway:
    """Stripe with one API key; a new HTTP connection per call (calls are few: one per payment step)."""

    name = "stripe"

    def __init__(
        self,
        api_key: str | None,
        webhook_secret: str | None,
        *,
        api_base: str = "https://api.stripe.com",
        timeout_seconds: float = 20.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self._api_key = api_key
        self._webhook_secret = webhook_secret
        self._api_base = api_base.rstrip("/")
        self._timeout = timeout_seconds
        self._http = http

    async def _call(
        self, call: Callable[[stripe.StripeClient], Awaitable[GatewayResult]], reference: str | None = None
    ) -> GatewayResult:
        if not self._api_key:
            raise GatewayNotConfigured("Stripe has no API key: set OMS_STRIPE_API_KEY")
        own = self._http is None
        http = self._http or httpx.AsyncClient(timeout=self._timeout)
        client = stripe.StripeClient(
            self._api_key,
            base_addresses={"api": self._api_base},
            http_client=HttpxClient(http),
            max_network_retries=0,
        )
        try:
            return await call(client)
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise GatewayTimeout(f"Stripe did not answer: {type(exc).__name__}") from exc
        except stripe.APIError as exc:  # a 5xx: Stripe may have acted
            raise GatewayTimeout(f"Stripe answered {exc.http_status}: outcome unknown") from exc
        except stripe.StripeError as exc:
            return _refused(exc, reference)
        finally:
            if own:
                await http.aclose()

    async def authorize(
        self, amount: Money, method: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> GatewayResult:
        async def call(client: stripe.StripeClient) -> GatewayResult:
            intent = await client.v1.payment_intents.create_async(
                {
                    "amount": amount.minor,
                    "currency": amount.currency.lower(),
                    "payment_method": method,
                    # a server-side confirmation: no method that would redirect the customer (no return_url)
                    "automatic_payment_methods": {"enabled": True, "allow_redirects": "never"},
                    "confirm": True,
                    "capture_method": "manual",
                    "payment_method_options": {"card": {"request_multicapture": "if_available"}},
                    "metadata": dict(metadata),
                    "expand": ["latest_charge"],
                },
                {"idempotency_key": idempotency_key},
            )
            return _intent_result(intent.to_dict(), amount)

        return await self._call(call)

    async def confirm(self, reference: str, idempotency_key: str) -> GatewayResult:
        """The customer acts in the browser (Stripe.js): this reads what the PaymentIntent has become."""

        async def call(client: stripe.StripeClient) -> GatewayResult:
            intent = await client.v1.payment_intents.retrieve_async(reference, {"expand": ["latest_charge"]})
            return _intent_result(intent.to_dict())

        return await self._call(call, reference)

    async def capture(self, reference: str, amount: Money, idempotency_key: str, final: bool) -> GatewayResult:
        async def call(client: stripe.StripeClient) -> GatewayResult:
            intent = await client.v1.payment_intents.capture_async(
                reference,
                {"amount_to_capture": amount.minor}
                if final
                else {"amount_to_capture": amount.minor, "final_capture": False},
                {"idempotency_key": idempotency_key},
            )
            data = intent.to_dict()
            if data.get("status") not in ("requires_capture", "succeeded"):
                return _intent_result(data)
            return GatewayResult(GatewayStatus.SUCCEEDED, reference=reference, amount=amount)

        return await self._call(call, reference)

    async def void(self, reference: str, idempotency_key: str) -> GatewayResult:
        async def call(client: stripe.StripeClient) -> GatewayResult:
            intent = await client.v1.payment_intents.cancel_async(reference, None, {"idempotency_key": idempotency_key})
            data = intent.to_dict()
            if data.get("status") != "canceled":
                return GatewayResult(
                    GatewayStatus.FAILED,
                    reference=reference,
                    error_code="payment_intent_unexpected_state",
                    error_message=f"the PaymentIntent is {data.get('status')}",
                )
            return GatewayResult(GatewayStatus.SUCCEEDED, reference=reference)

        return await self._call(call, reference)

    async def refund(self, reference: str, amount: Money, idempotency_key: str, reason: str) -> GatewayResult:
        async def call(client: stripe.StripeClient) -> GatewayResult:
            refund = await client.v1.refunds.create_async(
                {"payment_intent": reference, "amount": amount.minor, "metadata": {"reason": reason[:500]}},
                {"idempotency_key": idempotency_key},
            )
            data = refund.to_dict()
            status = _REFUND_STATUS.get(str(data.get("status")), GatewayStatus.PENDING)
            failed = status == GatewayStatus.FAILED
            return GatewayResult(
                status,
                reference=reference,
                amount=amount,
                error_code=str(data.get("failure_reason") or data.get("status")) if failed else None,
                error_message=f"the refund {data.get('id')} is {data.get('status')}" if failed else None,
            )

        return await self._call(call, reference)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        if not self._webhook_secret:
            raise GatewayNotConfigured("Stripe webhooks have no secret: set OMS_STRIPE_WEBHOOK_SECRET")
        signature = next((v for k, v in headers.items() if k.lower() == "stripe-signature"), None)
        try:
            stripe.Webhook.construct_event(
                payload, signature, self._webhook_secret, WEBHOOK_TOLERANCE_SECONDS, api_key="sk_unused"
            )
        except stripe.SignatureVerificationError as exc:
            raise InvalidSignature(str(exc.user_message or "Stripe-Signature does not match")) from exc
        except (ValueError, KeyError, IndexError, TypeError) as exc:  # verified, but not JSON or not an event
            raise MalformedEvent(f"not a Stripe event: {type(exc).__name__}") from exc
        return read_event(payload)


def read_event(payload: bytes) -> GatewayEvent:
    """A Stripe event (already verified) as the port's ``GatewayEvent``."""
    try:
        event = json.loads(payload)
        kind, event_id, created = str(event["type"]), str(event["id"]), int(event["created"])
        obj = event["data"]["object"]
        if not isinstance(obj, dict):
            raise TypeError("data.object is not an object")
    except (ValueError, KeyError, TypeError) as exc:
        raise MalformedEvent(f"not a Stripe event: {type(exc).__name__}") from exc
    currency = obj.get("currency")
    # a PaymentIntent is the reference; a charge or a refund names its PaymentIntent
    reference = obj.get("id") if obj.get("object") == "payment_intent" else obj.get("payment_intent")
    error = obj.get("last_payment_error") or {}
    return GatewayEvent(
        id=event_id,
        type=kind,
        created=datetime.fromtimestamp(created, UTC),
        reference=str(reference) if reference else None,
        currency=currency.upper() if isinstance(currency, str) else None,
        amount=_money(obj.get("amount"), currency),
        amount_capturable=_money(obj.get("amount_capturable"), currency),
        amount_received=_money(obj.get("amount_received"), currency),
        amount_refunded=_money(obj.get("amount_refunded"), currency),
        error_code=(error.get("decline_code") or error.get("code")) if isinstance(error, dict) else None,
        error_message=error.get("message") if isinstance(error, dict) else None,
        payload=event,
    )
