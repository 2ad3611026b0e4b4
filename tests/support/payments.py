"""Helpers of the payment tests: a shop whose channel takes payments, shipping a shipment, the worker's job."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.payments.models import PaymentTransaction
from oms_api.settings import Settings
from tests.support.factories import make_carrier, make_channel, make_sku, make_warehouse, receive

APPROVE = "4242424242424242"
DECLINE = "4000000000000002"
NO_FUNDS = "4000000000009995"
THREE_DS = "4000002500003155"
TIMES_OUT = "4000000000000119"


async def paying_shop(api: httpx.AsyncClient, policy: str = "authorize_at_placement", **channel: Any) -> dict[str, Any]:
    """A channel with ``policy`` on the test gateway, two warehouses (BIG preferred), a mug at BIG only and a
    tee at SMALL only (10.00 EUR each in orders), and a carrier."""
    made = await make_channel(api, payment_policy=policy, payment_gateway="test", **channel)
    big = await make_warehouse(api, priority=10)
    small = await make_warehouse(api, priority=1)
    mug = await make_sku(api, weight_g=400)
    tee = await make_sku(api, weight_g=200)
    await receive(api, mug["sku"], big["code"], 50)
    await receive(api, tee["sku"], small["code"], 50)
    carrier = await make_carrier(api)
    return {
        "channel": made["code"],
        "channel_id": made["id"],
        "big": big["code"],
        "small": small["code"],
        "mug": mug["sku"],
        "tee": tee["sku"],
        "carrier": carrier["code"],
    }


async def ship(api: httpx.AsyncClient, shipment_id: str, carrier: str) -> dict[str, Any]:
    for action in ("start-picking", "pack"):
        response = await api.post(f"/v1/shipments/{shipment_id}/{action}", json={})
        assert response.status_code == 200, response.text
    shipped = await api.post(f"/v1/shipments/{shipment_id}/ship", json={"carrier": carrier, "service": "standard"})
    assert shipped.status_code == 200, shipped.text
    body: dict[str, Any] = shipped.json()
    return body


async def order_payments(api: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/orders/{order_id}/payments")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def run_reconciliation(settings: Settings) -> int:
    """Run the payments reconciliation job once, in its own transaction (as the worker does)."""
    from oms_api.payments.tasks import reconcile_pending

    engine = create_engine(settings.database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            return await reconcile_pending(session, settings)
    finally:
        await engine.dispose()


async def gateway_keys(database_url: str, payment_id: str) -> list[tuple[str, str]]:
    """(kind, idempotency key) of a payment's requests, oldest first, read from the database."""
    import uuid

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            rows = await session.execute(
                select(PaymentTransaction.kind, PaymentTransaction.idempotency_key)
                .where(
                    PaymentTransaction.payment_id == uuid.UUID(payment_id),
                    PaymentTransaction.request_id.is_(None),
                )
                .order_by(PaymentTransaction.id)
            )
            return [(str(kind), str(key)) for kind, key in rows]
    finally:
        await engine.dispose()
