"""Stripe's webhooks through HTTP, on SQLite and PostgreSQL: payloads built as Stripe documents them, signed with
Stripe's scheme; payments on the Stripe gateway, served by a local stub of Stripe's API."""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from oms_api.kit.db import create_engine, session_factory
from oms_api.payments.models import GatewayEventRow, PaymentTransaction
from oms_api.settings import Settings
from tests.support.factories import make_sku, make_warehouse, place_order, receive, recorded_events
from tests.support.keys import TEST_SECRET_KEY
from tests.support.payments import order_payments
from tests.support.stripe_stub import StripeStub, fixture, sign

SECRET = "whsec_oms_test_8d1f"
URL = "/v1/integrations/stripe/webhooks"
THREE_DS_PI = "pi_3QxOmt2eZvKYlo2C0P3dsReq"
PI = "pi_3QxOms2eZvKYlo2C1qQ7kA2d"


@pytest.fixture
def stripe_stub() -> Iterator[StripeStub]:
    stub = StripeStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def settings(database_url: str, stripe_stub: StripeStub) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="warning",
        db_pool_size=5,
        db_max_overflow=5,
        secret_key=SecretStr(TEST_SECRET_KEY),
        rate_limit_per_second=0,
        stripe_api_key=SecretStr("sk_test_oms"),
        stripe_webhook_secret=SecretStr(SECRET),
        stripe_api_base=stripe_stub.url,
    )


async def post_event(client: httpx.AsyncClient, event: dict[str, Any], secret: str = SECRET) -> httpx.Response:
    payload = json.dumps(event).encode()
    headers = {"Stripe-Signature": sign(payload, secret), "Content-Type": "application/json"}
    return await client.post(URL, content=payload, headers=headers)


async def held_order_with_a_stripe_payment(api: httpx.AsyncClient, stub: StripeStub, intent: str) -> dict[str, Any]:
    """An order on a Stripe channel that authorises at placement, placed without a method (held for payment),
    then a payment by the API that Stripe answers with ``intent`` (a recorded PaymentIntent)."""
    channel = (
        await api.post(
            "/v1/channels",
            json={
                "code": "stripe-web",
                "name": "Stripe web shop",
                "type": "web",
                "default_currency": "EUR",
                "payment_policy": "authorize_at_placement",
                "payment_gateway": "stripe",
            },
        )
    ).json()
    warehouse = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], warehouse["code"], 10)
    order = await place_order(api, channel["code"], [(sku["sku"], 3)])  # 30.00 EUR
    assert (order["status"], order["hold_type"]) == ("on_hold", "payment")
    stub.on("POST", "/v1/payment_intents", fixture(intent))
    payment = await api.post(f"/v1/orders/{order['id']}/payments", json={"method": "pm_card_visa"})
    assert payment.status_code == 201, payment.text
    return {"order": order, "payment": payment.json()}


async def ledger_size(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return int((await session.execute(select(func.count()).select_from(PaymentTransaction))).scalar_one())
    finally:
        await engine.dispose()


async def stored_events(database_url: str) -> list[tuple[str, str, str]]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(GatewayEventRow.event_id, GatewayEventRow.type, GatewayEventRow.outcome).order_by(
                    GatewayEventRow.id
                )
            )
            return [(str(a), str(b), str(c)) for a, b, c in rows]
    finally:
        await engine.dispose()


def for_intent(name: str, intent: str, event_id: str | None = None) -> dict[str, Any]:
    event = copy.deepcopy(fixture(name))
    event["data"]["object"]["id"] = intent
    if event_id:
        event["id"] = event_id
    return event


async def test_a_signed_payment_intent_succeeded_releases_the_payment_hold_and_a_replay_changes_nothing(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub, database_url: str
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_action")
    assert made["payment"]["status"] == "requires_action"
    assert made["payment"]["gateway_reference"] == THREE_DS_PI
    order_id = made["order"]["id"]
    assert (await api.get(f"/v1/orders/{order_id}")).json()["status"] == "on_hold"

    event = for_intent("event_payment_intent_succeeded", THREE_DS_PI)
    response = await post_event(client, event)  # no API key: Stripe signs it
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event["id"], "outcome": "processed", "duplicate": False, "note": None}
    order = (await api.get(f"/v1/orders/{order_id}")).json()
    assert (order["status"], order["hold_type"], order["payment_status"]) == ("confirmed", None, "paid")
    [payment] = (await order_payments(api, order_id))["data"]
    assert (payment["status"], payment["authorized"], payment["captured"]) == (
        "captured",
        {"amount": "30.00", "currency": "EUR"},
        {"amount": "30.00", "currency": "EUR"},
    )
    captured = [t for t in payment["transactions"] if t["kind"] == "capture" and t["request_id"] is None]
    assert [(t["reason"], t["idempotency_key"]) for t in captured] == [
        ("captured at Stripe", f"evt_{event['id']}:capture")
    ]
    entries, events = await ledger_size(database_url), await recorded_events(database_url, payment["id"])

    replay = await post_event(client, event)
    assert replay.status_code == 200
    assert (replay.json()["outcome"], replay.json()["duplicate"]) == ("processed", True)
    assert await ledger_size(database_url) == entries
    assert await recorded_events(database_url, payment["id"]) == events
    assert await stored_events(database_url) == [(event["id"], "payment_intent.succeeded", "processed")]


async def test_a_wrong_signature_is_400_and_stores_nothing(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub, database_url: str
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_action")
    event = for_intent("event_payment_intent_succeeded", THREE_DS_PI)
    forged = await post_event(client, event, secret="whsec_not_ours")
    assert forged.status_code == 400
    assert forged.headers["content-type"] == "application/problem+json"
    assert forged.json()["code"] == "invalid_signature"
    stale = json.dumps(event).encode()
    old_signature = sign(stale, SECRET, int(time.time()) - 301)  # past the five-minute tolerance
    replayed_late = await client.post(URL, content=stale, headers={"Stripe-Signature": old_signature})
    assert (replayed_late.status_code, replayed_late.json()["code"]) == (400, "invalid_signature")
    unsigned = await client.post(URL, content=json.dumps(event).encode())
    assert (unsigned.status_code, unsigned.json()["code"]) == (401, "missing_signature")
    assert await stored_events(database_url) == []
    assert (await api.get(f"/v1/orders/{made['order']['id']}")).json()["status"] == "on_hold"


async def test_an_authorisation_reported_capturable_releases_the_hold_without_capturing(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_action")
    response = await post_event(client, for_intent("event_payment_intent_amount_capturable_updated", THREE_DS_PI))
    assert response.json()["outcome"] == "processed"
    order = (await api.get(f"/v1/orders/{made['order']['id']}")).json()
    assert (order["status"], order["payment_status"]) == ("confirmed", "authorized")


async def test_a_failed_payment_intent_fails_the_waiting_authorisation_and_the_order_stays_held(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_action")
    response = await post_event(client, for_intent("event_payment_intent_payment_failed", THREE_DS_PI))
    assert response.json()["outcome"] == "processed"
    [payment] = (await order_payments(api, made["order"]["id"]))["data"]
    assert (payment["status"], payment["last_error"]["code"]) == ("failed", "insufficient_funds")
    assert (await api.get(f"/v1/orders/{made['order']['id']}")).json()["status"] == "on_hold"


async def test_a_refund_made_at_stripe_reaches_the_ledger(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_capture")
    payment_id = made["payment"]["id"]
    assert made["payment"]["status"] == "authorized"
    stripe_stub.on("POST", f"/v1/payment_intents/{PI}/capture", fixture("payment_intent_succeeded"))
    captured = await api.post(f"/v1/payments/{payment_id}/capture", json={})
    assert captured.json()["status"] == "captured"

    refunded = await post_event(client, fixture("event_charge_refunded"))
    assert refunded.json()["outcome"] == "processed"
    after = (await api.get(f"/v1/payments/{payment_id}")).json()
    assert (after["status"], after["refunded"]) == ("partially_refunded", {"amount": "10.00", "currency": "EUR"})
    assert (await api.get(f"/v1/orders/{made['order']['id']}")).json()["payment_status"] == "partially_refunded"
    same = await post_event(client, for_intent("event_charge_refunded", PI, "evt_another_delivery_of_the_same"))
    assert same.json()["note"] == "already recorded: nothing to change"  # Stripe's figure is the ledger's already


async def test_a_payment_intent_cancelled_at_stripe_voids_what_was_authorised(
    api: httpx.AsyncClient, client: httpx.AsyncClient, stripe_stub: StripeStub
) -> None:
    made = await held_order_with_a_stripe_payment(api, stripe_stub, "payment_intent_requires_capture")
    response = await post_event(client, fixture("event_payment_intent_canceled"))
    assert response.json()["outcome"] == "processed"
    after = (await api.get(f"/v1/payments/{made['payment']['id']}")).json()
    assert (after["status"], after["voided"], after["capturable"]) == (
        "voided",
        {"amount": "30.00", "currency": "EUR"},
        {"amount": "0.00", "currency": "EUR"},
    )
    assert (await api.get(f"/v1/orders/{made['order']['id']}")).json()["payment_status"] == "unpaid"


async def test_events_of_other_types_or_intents_are_stored_and_ignored(
    client: httpx.AsyncClient, database_url: str
) -> None:
    other = copy.deepcopy(fixture("event_payment_intent_succeeded"))
    other["id"], other["type"] = "evt_customer", "customer.created"
    ignored = await post_event(client, other)
    assert (ignored.status_code, ignored.json()["outcome"]) == (200, "ignored")
    unknown = await post_event(client, for_intent("event_payment_intent_succeeded", "pi_not_ours", "evt_x"))
    assert unknown.json() == {
        "id": "evt_x",
        "outcome": "ignored",
        "duplicate": False,
        "note": "no payment has the PaymentIntent pi_not_ours",
    }
    assert [row[2] for row in await stored_events(database_url)] == ["ignored", "ignored"]


async def test_without_a_webhook_secret_stripe_is_told_to_come_back_later(
    database_url: str, stripe_stub: StripeStub
) -> None:
    from oms_api.app import create_app

    app = create_app(Settings(database_url=database_url, log_level="warning", secret_key=SecretStr(TEST_SECRET_KEY)))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as bare:
            response = await post_event(bare, fixture("event_payment_intent_succeeded"))
    finally:
        await app.state.db.engine.dispose()
    assert response.status_code == 401
    assert response.json()["code"] == "stripe_webhooks_not_configured"
