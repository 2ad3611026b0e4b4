"""Carts racing on PostgreSQL (three API processes): holds never oversell, and checkouts racing the
expiry job hand every cart over exactly once (to an order or back to stock)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, text

from oms_api.carts.models import Cart
from oms_api.carts.tasks import expire_carts
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.outbox import Event
from oms_api.stock.models import Reservation
from tests.support.factories import make_sku, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import (
    Call,
    Shop,
    assert_clean,
    fire,
    levels_of,
    order_body,
    post,
    query,
)

pytestmark = pytest.mark.slow


async def stocked_sku(shop: Shop, first: int, second: int) -> str:
    seed = shop.clients[0]
    sku: str = (await make_sku(seed))["sku"]
    for warehouse, quantity in ((shop.first, first), (shop.second, second)):
        if quantity:
            await receive(seed, sku, warehouse, quantity)
    return sku


def cart(shop: Shop, n: int, lines: list[tuple[str, int]]) -> Call:
    body = {
        "channel": shop.channel,
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": "9.99", "currency": "EUR"}} for sku, qty in lines
        ],
    }
    return post(shop.client(n), "/v1/carts", body, {"Idempotency-Key": f"cart-{uuid.uuid4()}"})


def patch(client: httpx.AsyncClient, path: str, body: Any) -> Call:
    async def call() -> httpx.Response:
        return await client.patch(path, json=body)

    return call


def units(body: dict[str, Any], sku: str) -> int:
    """Units of ``sku`` a cart holds."""
    return sum(h["quantity"] for line in body["lines"] if line["sku"] == sku for h in line["holds"])


async def test_hundreds_of_racing_carts_hold_exactly_the_scarce_stock(shop: Shop) -> None:
    hot = await stocked_sku(shop, 30, 20)
    plenty = await stocked_sku(shop, 5_000, 0)
    calls = [(f"C-{n}", cart(shop, n, [(hot, 2), (plenty, 1)] if n % 4 == 0 else [(hot, 1)])) for n in range(200)]

    outcomes = await fire(calls)

    assert_clean(outcomes)
    held = [o.body for o in outcomes if o.status == 201]
    assert {(o.status, o.code) for o in outcomes if o.status != 201} == {(409, "out_of_stock")}
    assert sum(units(body, hot) for body in held) == 50
    assert all(line["quantity"] == sum(h["quantity"] for h in line["holds"]) for b in held for line in b["lines"])
    assert sorted((await levels_of(shop.database_url, hot)).values()) == [(20, 20), (30, 30)]
    assert sum(r for _, r in (await levels_of(shop.database_url, plenty)).values()) == sum(
        units(body, plenty) for body in held
    )
    await assert_ledger_replays(shop.database_url)


async def test_carts_line_changes_and_orders_racing_share_the_stock_without_overselling(shop: Shop) -> None:
    hot = await stocked_sku(shop, 25, 15)
    first_wave = await fire([(f"A-{n}", cart(shop, n, [(hot, 1)])) for n in range(20)])
    assert {o.status for o in first_wave} == {201}
    carts = [o.body for o in first_wave]
    calls: list[tuple[str, Call]] = []
    for n, body in enumerate(carts):
        lines = {"lines": [{"sku": hot, "quantity": 1 + n % 3}]}
        calls.append((f"grow:{body['id']}", patch(shop.client(n), f"/v1/carts/{body['id']}/lines", lines)))
    calls += [
        (f"order-{n}", post(shop.client(n), "/v1/orders", order_body(shop.channel, f"O-{n}", [(hot, 1)])))
        for n in range(30)
    ]
    calls += [(f"B-{n}", cart(shop, n, [(hot, 1)])) for n in range(20)]

    outcomes = await fire(calls)

    assert_clean(outcomes)
    assert {(o.status, o.code) for o in outcomes if o.status not in (200, 201)} <= {(409, "out_of_stock")}
    sold = sum(1 for o in outcomes if o.label.startswith("order-") and o.status == 201)
    latest = {body["id"]: body for body in carts}
    latest.update(
        {o.label.split(":", 1)[1]: o.body for o in outcomes if o.label.startswith("grow:") and o.status == 200}
    )
    latest.update({o.body["id"]: o.body for o in outcomes if o.label.startswith("B-") and o.status == 201})
    in_carts = sum(units(body, hot) for body in latest.values())
    on_hand, reserved = map(sum, zip(*(await levels_of(shop.database_url, hot)).values(), strict=True))
    assert on_hand == 40
    assert reserved == in_carts + sold <= 40
    rows = await query(
        shop.database_url,
        select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
            Reservation.cart_id.in_([uuid.UUID(i) for i in latest]), Reservation.status == "active"
        ),
    )
    assert rows[0][0] == in_carts
    await assert_ledger_replays(shop.database_url)


async def _expiry_worker(database_url: str, later: Any) -> int:
    """One worker process's expiry loop: small batches until nothing is left for it."""
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    total = 0
    try:
        while True:
            async with session_scope(session_factory(engine)) as session:
                done = await expire_carts(session, now=later, limit=3)
            total += done
            if done == 0:
                return total
    finally:
        await engine.dispose()


async def test_checkouts_racing_several_expiry_workers_hand_each_cart_over_exactly_once(shop: Shop) -> None:
    later = utcnow() + timedelta(days=1)  # the job sees every cart as due: it races each checkout
    await _expiry_worker(shop.database_url, later)  # carts of the module's earlier tests are out of the way
    sku = await stocked_sku(shop, 200, 0)
    made = await fire([(f"K-{n}", cart(shop, n, [(sku, 2)])) for n in range(40)])
    assert {o.status for o in made} == {201}
    ids = [o.body["id"] for o in made]
    checkouts = [
        (
            cart_id,
            post(
                shop.client(n),
                f"/v1/carts/{cart_id}/checkout",
                {
                    "external_ref": f"CO-{cart_id}",
                    "shipping_address": order_body(shop.channel, "x", [])["shipping_address"],
                },
            ),
        )
        for n, cart_id in enumerate(ids)
    ]

    workers = [asyncio.create_task(_expiry_worker(shop.database_url, later)) for _ in range(4)]
    outcomes = await fire(checkouts)
    expired_by_worker = [await worker for worker in workers]

    assert_clean(outcomes)
    converted = {o.label for o in outcomes if o.status == 201}
    refused = {o.label for o in outcomes if o.status != 201}
    assert {(o.status, o.code) for o in outcomes if o.status != 201} <= {(409, "cart_expired")}
    assert sum(expired_by_worker) == len(refused)
    statuses = {
        str(row[0]): row[1]
        for row in await query(
            shop.database_url, select(Cart.id, Cart.status).where(Cart.id.in_([uuid.UUID(i) for i in ids]))
        )
    }
    assert {i for i, s in statuses.items() if s == "converted"} == converted
    assert {i for i, s in statuses.items() if s == "expired"} == refused
    events = await query(
        shop.database_url,
        select(Event.aggregate_id, func.count())
        .where(Event.type == "cart.expired", Event.aggregate_id.in_([uuid.UUID(i) for i in ids]))
        .group_by(Event.aggregate_id),
    )
    assert {str(row[0]): row[1] for row in events} == dict.fromkeys(refused, 1)
    assert list((await levels_of(shop.database_url, sku)).values()) == [(200, 2 * len(converted))]
    await assert_ledger_replays(shop.database_url)


async def deadlocks(database_url: str) -> int:
    """Deadlocks PostgreSQL has detected in this database so far (each one cost a retried request)."""
    rows = await query(
        database_url,
        select(func.coalesce(func.sum(text("deadlocks")), 0))
        .select_from(text("pg_stat_database"))
        .where(text("datname = current_database()")),
    )
    return int(rows[0][0])


async def test_carts_trading_units_in_opposite_directions_do_not_deadlock(shop: Shop) -> None:
    a = await stocked_sku(shop, 100, 100)
    b = await stocked_sku(shop, 100, 100)
    made = await fire([(f"T-{n}", cart(shop, n, [(a, 3), (b, 3)])) for n in range(40)])
    assert {o.status for o in made} == {201}
    before = await deadlocks(shop.database_url)
    calls: list[tuple[str, Call]] = []
    for n, o in enumerate(made):
        lines = [{"sku": a, "quantity": 6}, {"sku": b, "quantity": 1}]
        if n % 2:
            lines = [{"sku": a, "quantity": 1}, {"sku": b, "quantity": 6}]
        calls.append((o.body["id"], patch(shop.client(n), f"/v1/carts/{o.body['id']}/lines", {"lines": lines})))

    outcomes = await fire(calls)

    assert_clean(outcomes)
    assert {o.status for o in outcomes} == {200}
    await asyncio.sleep(1)  # PostgreSQL publishes its statistics with a short delay
    assert await deadlocks(shop.database_url) == before
    for sku in (a, b):
        assert sum(r for _, r in (await levels_of(shop.database_url, sku)).values()) == 20 * 6 + 20 * 1
    await assert_ledger_replays(shop.database_url)
