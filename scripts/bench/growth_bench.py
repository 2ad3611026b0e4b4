"""Lists as the store grows: the p50 of every list endpoint at a small and a large number of orders, and the ratio.

    python scripts/bench/growth_bench.py [--scales 10000,1000000] [--rounds 30] [--keep]

For each scale, a dedicated PostgreSQL database (``oms_growth_<orders>``, dropped at the end unless ``--keep``) is
migrated and filled by ``tests.support.growth.load``: with ``generate_series``, orders in the shape placement
writes them (order, lines, a reservation ledger row per line, ~4 outbox events) and what grows with them
(shipments, carts, storefront deliveries, pick lists, a month of webhook deliveries), the rows a filter asks for
being the recent and rare ones. Then VACUUM ANALYZE, as autovacuum would have done.

Every request of ``tests.support.growth.cases`` (the same requests whose plans ``tests/integration/
test_list_plans.py`` pins) then goes through the real app in process (httpx's ASGI transport: routing, auth,
validation, the queries and the JSON), page 1 with the default limit. The scales are measured in alternation,
round after round (each round: every request once at every scale), so that whatever else runs on the machine
weighs on both alike; each app has one database connection, so its prepared statements reach the point where
PostgreSQL may switch them to generic plans (after five runs) within the warm-up. A webhook replay of ~400 events
is timed too (a write: it is run ``--rounds // 5`` times, last). Done when every ratio is at most 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # tests.support.growth: the loader and the requests, shared with the plan test

from tests.support import growth  # noqa: E402

from oms_api.app import create_app  # noqa: E402
from oms_api.bootstrap import bootstrap  # noqa: E402
from oms_api.kit.auth import Scope, create_api_key  # noqa: E402
from oms_api.kit.clock import utcnow  # noqa: E402
from oms_api.kit.db import create_engine, session_factory, session_scope  # noqa: E402
from oms_api.kit.migrations import upgrade  # noqa: E402
from oms_api.settings import Settings  # noqa: E402

ADMIN_DSN = os.environ.get("OMS_BENCH_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
WARMUP = 8  # runs of every request before timing (more than the five after which a plan may turn generic)
TARGET = 1.5


@dataclass
class Scale:
    orders: int
    database: str
    app: Any
    client: httpx.AsyncClient
    store: growth.Store
    load_seconds: float


def _quiet_environment() -> None:
    """One client asking as fast as it can is no abuse: no rate limits. A throwaway key for secrets at rest
    (32 random bytes, URL-safe base64, as ``oms-api secrets generate-key`` prints)."""
    for name in ("RATE_LIMIT_PER_SECOND", "AUTH_FAILURE_RATE_PER_SECOND", "INBOUND_RATE_LIMIT_PER_SECOND"):
        os.environ.setdefault(f"OMS_{name}", "0")
    os.environ.setdefault("OMS_SECRET_KEY", base64.urlsafe_b64encode(os.urandom(32)).decode())


def _url(database: str) -> str:
    return f"{ADMIN_DSN.rsplit('/', 1)[0].replace('postgresql://', 'postgresql+asyncpg://', 1)}/{database}"


def _dsn(database: str) -> str:
    return f"{ADMIN_DSN.rsplit('/', 1)[0]}/{database}"


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


async def _open(database: str) -> tuple[Any, httpx.AsyncClient]:
    """The app on ``database`` (one connection) and an admin client of it."""
    url = _url(database)
    engine = create_engine(url)
    try:
        async with session_scope(session_factory(engine)) as session:
            _, token = await create_api_key(session, "growth-bench", [Scope.ADMIN.value])
    finally:
        await engine.dispose()
    settings = Settings(
        database_url=url, log_level="warning", webhooks_allow_private_networks=True, db_pool_size=1, db_max_overflow=0
    )
    app = create_app(settings)
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://oms.bench",
        headers={"Authorization": f"Bearer {token}"},
        timeout=120,
    )
    return app, client


async def _grow(orders: int, keep: bool, reuse: bool) -> Scale:
    """A database of ``orders`` orders, loaded now (or, with ``reuse``, as an earlier ``--keep`` left it)."""
    database = f"oms_growth_{orders}"
    if reuse:
        app, client = await _open(database)
        conn = await asyncpg.connect(_dsn(database))
        try:
            store = await growth.reopen(conn, orders)
        finally:
            await conn.close()
        _say(f"{orders:>9,} orders: reusing {database}: {store.counts}")
        return Scale(orders, database, app, client, store, 0.0)
    await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    await _admin(f'CREATE DATABASE "{database}"')
    try:
        await asyncio.to_thread(upgrade, _url(database))
        app, client = await _open(database)
        return await _fill(orders, database, app, client)
    except BaseException:
        if not keep:
            await _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        raise


async def _fill(orders: int, database: str, app: Any, client: httpx.AsyncClient) -> Scale:
    endpoints = []
    for types in (["*"], ["order.*"]):
        made = await client.post("/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": types})
        made.raise_for_status()
        endpoints.append(uuid.UUID(made.json()["id"]))
    started = time.monotonic()
    conn = await asyncpg.connect(_dsn(database))
    try:
        store = await growth.load(
            conn,
            orders,
            utcnow(),
            (endpoints[0], endpoints[1]),
            lambda step: _say(f"{orders:>9,} orders: {step} ({time.monotonic() - started:.0f} s)"),
        )
        _say(f"{orders:>9,} orders: vacuum analyze ({time.monotonic() - started:.0f} s)")
        await conn.execute("VACUUM ANALYZE")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
    finally:
        await conn.close()
    seconds = time.monotonic() - started
    _say(f"{orders:>9,} orders loaded in {seconds:.0f} s: {size}, {store.counts}")
    return Scale(orders, database, app, client, store, seconds)


async def _request(scale: Scale, case: growth.Case) -> tuple[float, int]:
    headers = {"Idempotency-Key": str(uuid.uuid4())} if case.method != "GET" else {}
    started = time.perf_counter()
    response = await scale.client.request(case.method, case.path, params=case.params, json=case.body, headers=headers)
    elapsed = time.perf_counter() - started
    if response.status_code >= 300:
        raise RuntimeError(f"{case.name}: {response.status_code} {response.text[:300]}")
    body = response.json()
    return elapsed, len(body["data"]) if isinstance(body.get("data"), list) else int(body.get("queued", 0))


async def _measure(scales: list[Scale], rounds: int) -> dict[str, list[tuple[float, int]]]:
    """{case name: [(p50 seconds, rows) per scale]}: GETs round after round, every scale in each round."""
    names = [c.name for c in growth.cases(scales[0].store)]
    timings: dict[tuple[str, int], list[float]] = {(n, s.orders): [] for n in names for s in scales}
    rows: dict[tuple[str, int], int] = {}
    for round_no in range(WARMUP + rounds):
        for scale in scales if round_no % 2 else scales[::-1]:  # each scale goes first in every other round
            for case in growth.cases(scale.store):
                elapsed, count = await _request(scale, case)
                if round_no >= WARMUP:
                    timings[(case.name, scale.orders)].append(elapsed)
                    rows[(case.name, scale.orders)] = count
        if round_no == WARMUP - 1:
            _say(f"warmed up ({WARMUP} rounds); timing {rounds} rounds")
    replays = max(rounds // 5, 3)
    for scale in scales:
        case = growth.replay_case(scale.store)
        for _ in range(replays):
            elapsed, count = await _request(scale, case)
            timings.setdefault((case.name, scale.orders), []).append(elapsed)
            rows[(case.name, scale.orders)] = count
    names.append(growth.replay_case(scales[0].store).name)
    return {
        name: [(statistics.median(timings[(name, s.orders)]), rows[(name, s.orders)]) for s in scales] for name in names
    }


def _report(scales: list[Scale], results: dict[str, list[tuple[float, int]]]) -> bool:
    small, large = scales[0].orders, scales[-1].orders
    print()
    print(f"p50 of page 1 (ms), rows on the page; ratio = p50 at {large:,} / p50 at {small:,} orders")
    header = f"{'request':<36} {f'{small:,}':>10} {'rows':>5} {f'{large:,}':>10} {'rows':>5} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name, measured in results.items():
        (p_small, r_small), (p_large, r_large) = measured[0], measured[-1]
        ratio = p_large / p_small
        worst = max(worst, ratio)
        flag = "" if ratio <= TARGET else "  > 1.5"
        print(
            f"{name:<36} {p_small * 1000:>10.1f} {r_small:>5} {p_large * 1000:>10.1f} {r_large:>5} {ratio:>6.2f}{flag}"
        )
    print(f"\nworst ratio {worst:.2f} (target: at most {TARGET})")
    return worst <= TARGET


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="10000,1000000", help="order counts, comma-separated (default 10k, 1M)")
    parser.add_argument("--rounds", type=int, default=30, help="timed requests of each list at each scale")
    parser.add_argument("--keep", action="store_true", help="keep the databases (dropped by default)")
    parser.add_argument("--reuse", action="store_true", help="measure the databases an earlier --keep run left")
    args = parser.parse_args()
    _quiet_environment()
    bootstrap()
    scales: list[Scale] = []
    try:
        for orders in sorted(int(part) for part in args.scales.split(",")):
            scales.append(await _grow(orders, args.keep or args.reuse, args.reuse))
        ok = _report(scales, await _measure(scales, args.rounds))
    finally:
        for scale in scales:
            await scale.client.aclose()
            await scale.app.state.db.engine.dispose()
            if not (args.keep or args.reuse):
                await _admin(f'DROP DATABASE IF EXISTS "{scale.database}" WITH (FORCE)')
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
