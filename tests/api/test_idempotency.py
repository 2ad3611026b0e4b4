"""``Idempotency-Key`` on SQLite and PostgreSQL: the claim lives and dies with the request's own transaction.

A claim whose transaction never commits (the request failed, or its connection dropped with its process) leaves
no trace, so a retry runs at once; a duplicate sent while the first request runs is 409 on PostgreSQL and waits
its turn on SQLite (one writer); a success is stored and replayed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select, text, update

from oms_api.kit import idempotency
from oms_api.kit.auth import ApiKey
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.idempotency import IdempotencyKey
from oms_api.orders.models import Order
from tests.support.factories import make_channel, make_sku, make_warehouse, receive

WAIT_SECONDS = 30.0


def order_body(channel: str, sku: str, quantity: int, ref: str) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_ref": ref,
        "currency": "EUR",
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [{"sku": sku, "quantity": quantity, "unit_price": {"amount": "4.00", "currency": "EUR"}}],
    }


@pytest.fixture
async def shop(api: httpx.AsyncClient) -> dict[str, str]:
    channel, warehouse, sku = await make_channel(api), await make_warehouse(api), await make_sku(api)
    await receive(api, sku["sku"], warehouse["code"], 10)
    return {"channel": channel["code"], "sku": sku["sku"]}


def place(api: httpx.AsyncClient, body: dict[str, Any], key: str) -> Any:
    return api.post("/v1/orders", json=body, headers={"Idempotency-Key": key})


async def scalar(database_url: str, stmt: Any) -> Any:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return (await session.execute(stmt)).scalar_one()
    finally:
        await engine.dispose()


async def orders_with_ref(database_url: str, ref: str) -> int:
    return int(await scalar(database_url, select(func.count()).where(Order.external_ref == ref)))


async def keys_named(database_url: str, key: str) -> int:
    return int(await scalar(database_url, select(func.count()).where(IdempotencyKey.key == key)))


def pg_dsn(database_url: str) -> str:
    return database_url.replace("postgresql+asyncpg://", "postgresql://", 1)


@asynccontextmanager
async def stock_locked(database_url: str, sku: str) -> AsyncIterator[None]:
    """Hold the SKU's stock levels row-locked, so that a placement blocks after its claim, mid-transaction."""
    conn = await asyncpg.connect(pg_dsn(database_url))
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT stock_levels.id FROM stock_levels JOIN skus ON skus.id = stock_levels.sku_id "
                "WHERE skus.sku = $1 FOR UPDATE OF stock_levels",
                sku,
            )
            yield
    finally:
        await conn.close()


async def a_backend_waits_for_a_lock(database_url: str) -> int:
    """The pid of the backend (of this database) that is waiting on a lock, once there is one."""
    conn = await asyncpg.connect(pg_dsn(database_url))
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            while True:
                pid = await conn.fetchval(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
                if pid is not None:
                    return int(pid)
                await asyncio.sleep(0.02)
    finally:
        await conn.close()


async def test_a_failed_request_leaves_its_key_free_for_a_corrected_retry(
    api: httpx.AsyncClient, shop: dict[str, str], database_url: str
) -> None:
    unknown = await place(api, order_body(shop["channel"], "NO-SUCH-SKU", 1, "F-1"), "fix-me")
    too_many = await place(api, order_body(shop["channel"], shop["sku"], 11, "F-1"), "fix-me")
    assert (unknown.status_code, unknown.json()["code"]) == (422, "validation_error")
    assert (too_many.status_code, too_many.json()["code"]) == (409, "out_of_stock")
    assert await keys_named(database_url, "fix-me") == 0

    corrected = order_body(shop["channel"], shop["sku"], 2, "F-1")
    placed = await place(api, corrected, "fix-me")
    replayed = await place(api, corrected, "fix-me")
    reused = await place(api, order_body(shop["channel"], shop["sku"], 3, "F-1"), "fix-me")

    assert placed.status_code == 201, placed.text
    assert "idempotent-replayed" not in placed.headers
    assert (replayed.status_code, replayed.headers["idempotent-replayed"]) == (201, "true")
    assert replayed.json() == placed.json()
    assert replayed.headers["location"] == placed.headers["location"]
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert await orders_with_ref(database_url, "F-1") == 1


async def test_a_key_whose_result_expired_is_taken_by_the_next_request(
    api: httpx.AsyncClient, shop: dict[str, str], database_url: str
) -> None:
    first = await place(api, order_body(shop["channel"], shop["sku"], 1, "E-1"), "old-key")
    assert first.status_code == 201, first.text
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            expired = update(IdempotencyKey).where(IdempotencyKey.key == "old-key")
            await session.execute(expired.values(expires_at=utcnow() - timedelta(seconds=1)))
            await session.commit()
    finally:
        await engine.dispose()

    second = await place(api, order_body(shop["channel"], shop["sku"], 1, "E-2"), "old-key")
    again = await place(api, order_body(shop["channel"], shop["sku"], 1, "E-2"), "old-key")

    assert second.status_code == 201, second.text
    assert "idempotent-replayed" not in second.headers
    assert second.json()["id"] != first.json()["id"]
    assert (again.headers["idempotent-replayed"], again.json()["id"]) == ("true", second.json()["id"])
    assert await keys_named(database_url, "old-key") == 1


async def test_a_claim_whose_connection_drops_frees_the_key_at_once(
    api: httpx.AsyncClient, shop: dict[str, str], database_url: str, db_kind: str
) -> None:
    """A process that dies mid-request takes its claim with it: the retry is not refused as in progress."""
    body = order_body(shop["channel"], shop["sku"], 1, "C-1")
    raw = json.dumps(body).encode()
    api_key_id = await scalar(database_url, select(ApiKey.id).where(ApiKey.name == "admin"))
    fingerprint = idempotency.request_hash("POST", "/v1/orders", raw)
    engine = create_engine(database_url)
    try:
        session = session_factory(engine)()
        await idempotency.claim(session, api_key_id, "crash-me", fingerprint, timedelta(hours=24))
        if db_kind == "postgresql":  # the connection drops as its process dies: the server rolls it back
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            admin = await asyncpg.connect(pg_dsn(database_url))
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            await session.invalidate()
        else:  # SQLite: the connection closes without a commit
            await session.close()
    finally:
        await engine.dispose()

    retried = await api.post(
        "/v1/orders", content=raw, headers={"Content-Type": "application/json", "Idempotency-Key": "crash-me"}
    )

    assert retried.status_code == 201, retried.text
    assert "idempotent-replayed" not in retried.headers
    assert await orders_with_ref(database_url, "C-1") == 1


async def test_duplicates_sent_at_once_place_one_order(
    api: httpx.AsyncClient, shop: dict[str, str], database_url: str, db_kind: str
) -> None:
    body = order_body(shop["channel"], shop["sku"], 1, "D-1")
    responses = await asyncio.gather(*(place(api, body, "burst") for _ in range(6)))

    outcomes = [(r.status_code, r.json().get("code"), r.headers.get("idempotent-replayed")) for r in responses]
    assert outcomes.count((201, None, None)) == 1, outcomes
    if db_kind == "sqlite":  # one writer at a time: every duplicate waited its turn and got the stored result
        assert outcomes.count((201, None, "true")) == 5, outcomes
    else:
        assert set(outcomes) <= {(201, None, None), (201, None, "true"), (409, "idempotency_in_progress", None)}
    assert len({r.json()["id"] for r in responses if r.status_code == 201}) == 1
    assert await orders_with_ref(database_url, "D-1") == 1


@pytest.mark.postgres_only
async def test_a_duplicate_sent_while_the_first_runs_is_409_and_then_replays(
    api: httpx.AsyncClient, shop: dict[str, str], database_url: str, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent connections")
    body = order_body(shop["channel"], shop["sku"], 1, "R-1")
    changed = order_body(shop["channel"], shop["sku"], 2, "R-1")
    async with stock_locked(database_url, shop["sku"]):
        first = asyncio.create_task(place(api, body, "running"))
        await a_backend_waits_for_a_lock(database_url)  # the first has claimed the key and waits for the stock
        duplicate = await place(api, body, "running")
        different = await place(api, changed, "running")
    placed = await first

    assert (duplicate.status_code, duplicate.json()["code"]) == (409, "idempotency_in_progress")
    assert duplicate.headers["retry-after"] == "1"
    assert (different.status_code, different.json()["code"]) == (409, "idempotency_in_progress")
    assert placed.status_code == 201, placed.text
    again = await place(api, body, "running")
    assert (again.status_code, again.headers["idempotent-replayed"]) == (201, "true")
    assert again.json()["id"] == placed.json()["id"]
    reused = await place(api, changed, "running")
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    assert await orders_with_ref(database_url, "R-1") == 1
