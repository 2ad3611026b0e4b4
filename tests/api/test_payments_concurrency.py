"""Concurrent refunds and captures on one payment (PostgreSQL: real row locks between connections)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import select

from oms_api.integrations.payments.models import TestGatewayPayment
from oms_api.kit.db import create_engine, session_factory
from tests.support.factories import place_order
from tests.support.payments import APPROVE, order_payments, paying_shop

pytestmark = pytest.mark.postgres_only


async def gateway_state(database_url: str, reference: str) -> tuple[int, int]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            row = (
                await session.execute(select(TestGatewayPayment).where(TestGatewayPayment.reference == reference))
            ).scalar_one()
            return row.captured_minor, row.refunded_minor
    finally:
        await engine.dispose()


async def test_twenty_concurrent_refunds_never_refund_more_than_was_captured(
    api: httpx.AsyncClient, db_kind: str, database_url: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent connections")
    shop = await paying_shop(api, "capture_at_placement")
    order = await place_order(api, shop["channel"], [(shop["mug"], 3)], payment={"method": APPROVE})  # 30.00
    [payment] = (await order_payments(api, order["id"]))["data"]
    assert payment["captured"] == {"amount": "30.00", "currency": "EUR"}
    url = f"/v1/payments/{payment['id']}/refund"
    body = {"reason": "race", "amount": {"amount": "4.00", "currency": "EUR"}}  # 20 x 4.00 asked, 30.00 captured

    answers = await asyncio.gather(*(api.post(url, json=body) for _ in range(20)))

    statuses = [a.status_code for a in answers]
    assert statuses.count(200) == 7, [a.text for a in answers if a.status_code not in (200, 409)]
    assert statuses.count(409) == 13
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"refund_exceeds_captured"}
    after = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert (after["refunded"], after["refundable"], after["status"]) == (
        {"amount": "28.00", "currency": "EUR"},
        {"amount": "2.00", "currency": "EUR"},
        "partially_refunded",
    )
    refunds = [t for t in after["transactions"] if t["kind"] == "refund" and t["request_id"] is None]
    assert len({t["idempotency_key"] for t in refunds}) == len(refunds) == 7  # one key each, none sent twice
    assert await gateway_state(database_url, payment["gateway_reference"]) == (3000, 2800)
    assert (await api.get(f"/v1/orders/{order['id']}")).json()["payment_status"] == "partially_refunded"
