"""Hundreds of clients racing three API processes on one PostgreSQL database never oversell.

Each scenario seeds its own channel, warehouses and SKUs through the API, fires its requests at
once (spread over the processes), then checks the answers against the database: what was sold,
what is reserved, and that the ledger replays to every stock level.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict

import pytest
from sqlalchemy import Select, func, select

from oms_api.kit.idempotency import IdempotencyKey
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine
from oms_api.stock.models import Reservation
from tests.support.factories import make_sku, receive
from tests.support.ledger import assert_ledger_replays
from tests.support.servers import (
    Call,
    Outcome,
    Shop,
    assert_clean,
    count,
    fire,
    levels_of,
    order_body,
    post,
    query,
    reserved_of,
)

pytestmark = pytest.mark.slow


def orders_in(shop: Shop) -> Select[uuid.UUID]:
    return select(OrderRow.id).where(OrderRow.channel_id == shop.channel_id)


async def stocked_sku(shop: Shop, first: int, second: int) -> str:
    seed = shop.clients[0]
    sku: str = (await make_sku(seed))["sku"]
    for warehouse, quantity in ((shop.first, first), (shop.second, second)):
        if quantity:
            await receive(seed, sku, warehouse, quantity)
    return sku


def place(shop: Shop, n: int, ref: str, lines: list[tuple[str, int]]) -> tuple[str, Call]:
    return ref, post(
        shop.client(n), "/v1/orders", order_body(shop.channel, ref, lines), {"Idempotency-Key": f"key-{ref}"}
    )


async def test_hundreds_of_racing_orders_sell_exactly_the_hot_stock_and_no_more(shop: Shop) -> None:
    database_url = shop.database_url
    hot = await stocked_sku(shop, 30, 20)
    plenty = await stocked_sku(shop, 5_000, 5_000)
    rng = random.Random(7)
    calls = []
    for n in range(300):
        lines = [(hot, 1)] if n % 3 else [(hot, 1), (plenty, rng.randint(1, 4))]
        calls.append(place(shop, n, f"HOT-{n}", lines))

    outcomes = await fire(calls)

    assert_clean(outcomes)
    placed = [o.body for o in outcomes if o.status == 201]
    refused = [o for o in outcomes if o.status != 201]
    assert {(o.status, o.code) for o in refused} == {(409, "out_of_stock")}
    assert sum(reserved_of(order, hot) for order in placed) == 50
    assert len(placed) == 50
    assert all(
        line["quantity"] == sum(a["quantity"] for a in line["allocations"])
        for order in placed
        for line in order["lines"]
    )
    sold_plenty = sum(reserved_of(order, plenty) for order in placed)
    assert sorted((await levels_of(database_url, hot)).values()) == [(20, 20), (30, 30)]
    plenty_levels = (await levels_of(database_url, plenty)).values()
    assert [on_hand for on_hand, _ in plenty_levels] == [5_000, 5_000]
    assert sum(reserved for _, reserved in plenty_levels) == sold_plenty
    assert await count(database_url, orders_in(shop)) == 50
    keys = await query(
        database_url,
        select(IdempotencyKey.response_status, func.count())
        .where(IdempotencyKey.key.like("key-HOT-%"))
        .group_by(IdempotencyKey.response_status),
    )
    assert {row[0]: row[1] for row in keys} == {201: 50}  # refused requests rolled their claim back
    await assert_ledger_replays(database_url)


async def test_cancels_racing_new_orders_give_back_exactly_what_they_held(shop: Shop) -> None:
    database_url = shop.database_url
    sku = await stocked_sku(shop, 40, 40)
    plenty = await stocked_sku(shop, 5_000, 0)
    rng = random.Random(11)

    def lines(n: int) -> list[tuple[str, int]]:
        ordered = [(sku, rng.randint(1, 3))]
        return ordered if n % 4 else [*ordered, (plenty, 1)]

    first_wave = await fire([place(shop, n, f"A-{n}", lines(n)) for n in range(30)])
    assert_clean(first_wave)
    assert {o.status for o in first_wave} == {201}
    orders = {o.body["id"]: o.body for o in first_wave}
    doomed = list(orders)[:15]
    calls: list[tuple[str, Call]] = []
    for n, order_id in enumerate(doomed):
        cancel = f"/v1/orders/{order_id}/cancel"
        calls.append((f"cancel:{order_id}", post(shop.client(n), cancel, {"reason": "race"}, {"If-Match": '"1"'})))
        if n % 3 == 0:  # the same order cancelled twice at once, through another process
            calls.append((f"again:{order_id}", post(shop.client(n + 1), cancel, {"reason": "race twice"})))
    calls += [place(shop, n, f"B-{n}", lines(n)) for n in range(120)]
    rng.shuffle(calls)

    outcomes = await fire(calls)

    assert_clean(outcomes)
    by_order: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        if ":" in outcome.label:
            by_order[outcome.label.split(":", 1)[1]].append(outcome)
    for order_id, tries in by_order.items():
        assert [o.status for o in tries].count(200) == 1, (order_id, tries)
        assert all(
            (o.status, o.code) in {(200, None), (409, "illegal_transition"), (412, "stale_version")} for o in tries
        ), tries
    new_orders = [o for o in outcomes if o.label.startswith("B-")]
    assert {(o.status, o.code) for o in new_orders} <= {(201, None), (409, "out_of_stock")}
    orders.update({o.body["id"]: o.body for o in new_orders if o.status == 201})
    active = {i: order for i, order in orders.items() if i not in doomed}
    expected = sum(reserved_of(order, sku) for order in active.values())

    on_hand, reserved = map(sum, zip(*(await levels_of(database_url, sku)).values(), strict=True))
    assert on_hand == 80
    assert reserved == expected
    rows = await query(
        database_url,
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(OrderRow, OrderRow.id == OrderLine.order_id)
        .where(OrderRow.status != "cancelled", OrderLine.sku == sku),
    )
    assert rows[0][0] == expected
    held = await query(
        database_url,
        select(Reservation.status, func.sum(Reservation.quantity))
        .where(Reservation.order_id.in_([*orders]))
        .group_by(Reservation.status),
    )
    totals = {row[0]: row[1] for row in held}
    assert totals["released"] == sum(sum(line["quantity"] for line in orders[i]["lines"]) for i in doomed)
    statuses = await query(
        database_url,
        select(OrderRow.status, func.count()).where(OrderRow.id.in_(orders_in(shop))).group_by(OrderRow.status),
    )
    assert {row[0]: row[1] for row in statuses} == {"cancelled": len(doomed), "confirmed": len(active)}
    await assert_ledger_replays(database_url)


async def test_one_idempotency_key_sent_at_once_by_many_clients_creates_one_order(shop: Shop) -> None:
    database_url = shop.database_url
    sku = await stocked_sku(shop, 1_000, 0)
    bodies = {f"same-{k}": order_body(shop.channel, f"IDEM-{k}", [(sku, 2)]) for k in range(5)}
    calls = [
        (key, post(shop.client(n), "/v1/orders", bodies[key], {"Idempotency-Key": key}))
        for key in bodies
        for n in range(10)
    ]
    random.Random(3).shuffle(calls)

    outcomes = await fire(calls)

    assert_clean(outcomes)
    for key in bodies:
        tries = [o for o in outcomes if o.label == key]
        assert {(o.status, o.code) for o in tries} <= {(201, None), (409, "idempotency_in_progress")}
        created = [o for o in tries if o.status == 201]
        assert len([o for o in created if "idempotent-replayed" not in o.headers]) == 1, tries
        assert len({o.body["id"] for o in created}) == 1
        again = await shop.client(1).post("/v1/orders", json=bodies[key], headers={"Idempotency-Key": key})
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == created[0].body["id"]
        other = await shop.client(2).post(
            "/v1/orders", json={**bodies[key], "notes": "changed"}, headers={"Idempotency-Key": key}
        )
        assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert await count(database_url, orders_in(shop)) == len(bodies)
    assert await count(database_url, select(Reservation.id).where(Reservation.order_id.in_(orders_in(shop)))) == len(
        bodies
    )
    assert list((await levels_of(database_url, sku)).values()) == [(1_000, 2 * len(bodies))]
    await assert_ledger_replays(database_url)
