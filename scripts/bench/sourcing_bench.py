"""Sourcing benchmark: the engine alone, and batch allocation on PostgreSQL.

    python scripts/bench/sourcing_bench.py [--orders 1000] [--warehouses 50] [--rounds 3] [--engine-only]

1. Engine (pure Python, no database): one plan of 20 lines over 50 warehouses spread over Germany,
   with its explanation, for three stock pictures (one warehouse holds everything; a split is needed;
   the split limit is hit and the plan refused). Prints median and p99 per plan. Target: <= 2 ms.
   Then ``plan_batch`` of ``--orders`` orders in memory.
2. PostgreSQL (``--pg``, default postgresql://postgres@127.0.0.1:5432): (re)creates the database
   ``oms_bench_sourcing``, migrates it, seeds a channel, the warehouses, ``--skus`` SKUs stocked
   everywhere (with their receipt rows in the ledger) and ``--orders`` confirmed orders of 1-5 lines
   to German towns (10 % VIP) that hold no stock yet. Then, ``--rounds`` times, one transaction runs
   ``allocation.service.allocate_batch`` over all of them: orders, lines, stock levels (row-locked) and
   reservations read in bulk, VIP first then by placement time, every order planned and explained,
   old reservations released and new ones made, ledger rows, plans and events written, commit. The
   first round reserves from scratch, later rounds re-source orders that already hold stock. Prints
   orders per second per round (target >= 1,000 orders in one batch per second) and checks that the
   ledger replays to every stock level.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
import uuid
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import make_url

from oms_api.allocation import service as allocation
from oms_api.allocation.domain import BatchOrder, Destination, Holding, LineRequest, Policy, Site, plan_batch, source
from oms_api.catalog.models import Sku
from oms_api.channels.models import Channel
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.ids import uuid7
from oms_api.kit.migrations import upgrade
from oms_api.kit.outbox import flush_events
from oms_api.orders.models import Order, OrderLine
from oms_api.settings import Settings
from oms_api.stock.models import Reservation, StockLevel, StockMovement, Warehouse

DB_NAME = "oms_bench_sourcing"
TOWNS = [  # (city, latitude, longitude): destinations and warehouse sites
    ("Berlin", 52.52, 13.405),
    ("Hamburg", 53.551, 9.994),
    ("München", 48.137, 11.575),
    ("Köln", 50.938, 6.960),
    ("Frankfurt am Main", 50.110, 8.682),
    ("Stuttgart", 48.776, 9.183),
    ("Düsseldorf", 51.227, 6.773),
    ("Leipzig", 51.340, 12.375),
    ("Dortmund", 51.514, 7.466),
    ("Essen", 51.456, 7.012),
    ("Bremen", 53.075, 8.808),
    ("Dresden", 51.050, 13.738),
    ("Hannover", 52.375, 9.732),
    ("Nürnberg", 49.452, 11.077),
    ("Duisburg", 51.433, 6.766),
    ("Bochum", 51.482, 7.216),
    ("Wuppertal", 51.256, 7.150),
    ("Bielefeld", 52.030, 8.532),
    ("Bonn", 50.733, 7.099),
    ("Münster", 51.961, 7.628),
]


# --- 1. the engine ----------------------------------------------------------------------------------------------


def _sites(count: int, rng: random.Random) -> list[Site]:
    return [
        Site(
            uuid.UUID(int=i + 1),
            f"WH-{i:02d}",
            rng.randint(0, 10),
            True,
            47.5 + rng.random() * 7,
            6.0 + rng.random() * 8.5,
        )
        for i in range(count)
    ]


def _time(fn: Any, runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def bench_engine(warehouses: int, orders: int) -> list[str]:
    rng = random.Random(7)
    sites = _sites(warehouses, rng)
    skus = [uuid.UUID(int=1000 + i) for i in range(20)]
    lines = [LineRequest(i + 1, skus[i], rng.randint(1, 3)) for i in range(20)]
    munich = Destination("DE", 48.137, 11.575, "city", "Munich, DE")
    pictures = {
        "one warehouse holds every line": [
            Holding(k, s.warehouse_id, rng.randint(0, 12) if s.code != "WH-17" else 50, rng.randint(0, 2))
            for s in sites
            for k in skus
        ],
        "a split is needed": [
            Holding(k, s.warehouse_id, rng.randint(0, 6), rng.randint(0, 2))
            for s in sites
            for k in skus
            if rng.random() < 0.8
        ],
        "refused at the split limit": [
            Holding(k, s.warehouse_id, rng.randint(0, 3), 0) for s in sites for k in skus if rng.random() < 0.3
        ],
    }
    out = [f"engine: one plan of {len(lines)} lines over {warehouses} warehouses (with explanation; target <= 2 ms)"]
    for name, holdings in pictures.items():
        plan = source(lines, sites, holdings, munich, Policy())
        assert plan.explanation is not None
        median, p99 = _time(lambda h=holdings: source(lines, sites, h, munich, Policy()), 2000)
        out.append(
            f"  {name:32s} median {median:.3f} ms  p99 {p99:.3f} ms  "
            f"({plan.explanation.decision}, {plan.explanation.shipments} shipment(s))"
        )
    holdings = [Holding(k, s.warehouse_id, 10_000) for s in sites for k in skus]
    batch = [
        BatchOrder(
            n,
            [LineRequest(i + 1, rng.choice(skus), rng.randint(1, 3)) for i in range(rng.randint(1, 5))],
            Destination("DE", *rng.choice(TOWNS)[1:], "city"),
            vip=rng.random() < 0.1,
        )
        for n in range(orders)
    ]
    start = time.perf_counter()
    plans = plan_batch(batch, sites, holdings)
    took = time.perf_counter() - start
    done = sum(p.complete for p in plans.values())
    out.append(f"engine: plan_batch of {orders} orders in memory: {took * 1000:.0f} ms ({done} sourced)")
    return out


# --- 2. PostgreSQL ------------------------------------------------------------------------------------------------


async def recreate(admin_dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    finally:
        await conn.close()


async def seed(url: str, warehouses: int, skus: int, orders: int, stock: int) -> list[uuid.UUID]:
    rng = random.Random(11)
    engine = create_engine(url)
    now = utcnow()
    try:
        async with session_factory(engine)() as session:
            channel_id = uuid7()
            await session.execute(
                insert(Channel).values(
                    id=channel_id,
                    code="bench-web",
                    name="Bench",
                    type="web",
                    default_currency="EUR",
                    active=True,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            site_rows = []
            for i in range(warehouses):
                city, lat, lon = TOWNS[i % len(TOWNS)]
                site_rows.append(
                    {
                        "id": uuid7(),
                        "code": f"WH-{i:02d}",
                        "name": f"Warehouse {city} {i}",
                        "address": {"line1": "1 Dock Road", "city": city, "country": "DE"},
                        "latitude": lat + rng.uniform(-0.2, 0.2),
                        "longitude": lon + rng.uniform(-0.2, 0.2),
                        "active": True,
                        "priority": rng.randint(0, 10),
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            await session.execute(insert(Warehouse), site_rows)
            sku_rows = [
                {"id": uuid7(), "sku": f"SRC-{n:05d}", "name": f"Product {n}", "active": True} for n in range(skus)
            ]
            await session.execute(insert(Sku), sku_rows)
            levels, ledger = [], []
            for site in site_rows:
                for sku in sku_rows:
                    if rng.random() < 0.6:  # not every warehouse stocks every SKU
                        continue
                    on_hand = rng.randint(stock // 2, stock)
                    levels.append(
                        {
                            "id": uuid7(),
                            "sku_id": sku["id"],
                            "warehouse_id": site["id"],
                            "on_hand": on_hand,
                            "reserved": 0,
                            "safety_stock": rng.choice((0, 0, 1, 2)),
                            "version": 1,
                            "updated_at": now,
                        }
                    )
                    ledger.append(
                        {
                            "id": uuid7(),
                            "sku_id": sku["id"],
                            "warehouse_id": site["id"],
                            "type": "receipt",
                            "on_hand_delta": on_hand,
                            "reserved_delta": 0,
                            "on_hand_after": on_hand,
                            "reserved_after": 0,
                            "reference": "bench-seed",
                            "actor": "bench",
                            "created_at": now,
                        }
                    )
            await session.execute(insert(StockLevel), levels)
            await session.execute(insert(StockMovement), ledger)
            order_ids, order_rows, line_rows = [], [], []
            for n in range(orders):
                oid = uuid7()
                order_ids.append(oid)
                city, _, _ = rng.choice(TOWNS)
                order_rows.append(
                    {
                        "id": oid,
                        "channel_id": channel_id,
                        "external_ref": f"B-{n:06d}",
                        "currency": "EUR",
                        "status": "confirmed",
                        "shipping_address": {"line1": "1 Main St", "city": city, "country": "DE"},
                        "tags": ["vip"] if rng.random() < 0.1 else [],
                        "subtotal_minor": 0,
                        "discount_total_minor": 0,
                        "shipping_total_minor": 0,
                        "tax_total_minor": 0,
                        "grand_total_minor": 0,
                        "placed_at": now,
                        "created_at": now,
                        "updated_at": now,
                        "version": 1,
                    }
                )
                for line_no, sku in enumerate(rng.sample(sku_rows, rng.randint(1, 5)), start=1):
                    line_rows.append(
                        {
                            "id": uuid7(),
                            "order_id": oid,
                            "line_no": line_no,
                            "sku_id": sku["id"],
                            "sku": sku["sku"],
                            "name": sku["name"],
                            "quantity": rng.randint(1, 3),
                            "unit_price_minor": 1000,
                            "discount_minor": 0,
                            "tax_rate": "",
                            "tax_minor": 0,
                            "total_minor": 1000,
                        }
                    )
            await session.execute(insert(Order), order_rows)
            await session.execute(insert(OrderLine), line_rows)
            await session.commit()
            return order_ids
    finally:
        await engine.dispose()


async def allocate_round(url: str, order_ids: list[uuid.UUID], settings: Settings) -> tuple[float, int, int]:
    engine = create_engine(url)
    actor = Principal(uuid.UUID(int=1), "bench", frozenset({"admin"}))
    try:
        async with session_factory(engine)() as session:
            await session.execute(select(Order.id).limit(1))  # connect and configure the ORM outside the timing
            await session.commit()
            start = time.perf_counter()
            result = await allocation.allocate_batch(session, actor, order_ids, reason="bench", settings=settings)
            await flush_events(session)
            await session.commit()
            return time.perf_counter() - start, len(result.allocated), len(result.unchanged)
    finally:
        await engine.dispose()


async def close_warehouses(url: str, round_no: int) -> None:
    """Between rounds: a different fifth of the warehouses is closed, so the orders held there must move."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            codes = [f"WH-{i:02d}" for i in range(50) if i % 5 == round_no % 5]
            await session.execute(update(Warehouse).values(active=Warehouse.code.not_in(codes)))
            await session.commit()
    finally:
        await engine.dispose()


async def check(url: str) -> str:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            levels = {
                (r.sku_id, r.warehouse_id): (r.on_hand, r.reserved)
                for r in await session.execute(
                    select(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
                )
            }
            sums = {
                (r.sku_id, r.warehouse_id): (int(r.o), int(r.r))
                for r in await session.execute(
                    select(
                        StockMovement.sku_id,
                        StockMovement.warehouse_id,
                        func.sum(StockMovement.on_hand_delta).label("o"),
                        func.sum(StockMovement.reserved_delta).label("r"),
                    ).group_by(StockMovement.sku_id, StockMovement.warehouse_id)
                )
            }
            active = {
                (r.sku_id, r.warehouse_id): int(r.q)
                for r in await session.execute(
                    select(Reservation.sku_id, Reservation.warehouse_id, func.sum(Reservation.quantity).label("q"))
                    .where(Reservation.status == "active")
                    .group_by(Reservation.sku_id, Reservation.warehouse_id)
                )
            }
            ledger_ok = all(sums.get(k, (0, 0)) == v for k, v in levels.items())
            reserved_ok = all(active.get(k, 0) == v[1] for k, v in levels.items())
            over = sum(1 for on_hand, reserved in levels.values() if reserved > on_hand)
            return (
                f"ledger replays: {ledger_ok}; reserved = active reservations: {reserved_ok}; oversold levels: {over}"
            )
    finally:
        await engine.dispose()


async def bench_postgres(args: argparse.Namespace) -> list[str]:
    base = make_url(args.pg.replace("postgresql+asyncpg://", "postgresql://", 1))
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    url = base.set(drivername="postgresql+asyncpg", database=DB_NAME).render_as_string(hide_password=False)
    await recreate(admin)
    await asyncio.to_thread(upgrade, url)
    order_ids = await seed(url, args.warehouses, args.skus, args.orders, args.stock)
    settings = Settings(database_url=url)
    await asyncio.to_thread(allocation.geocoder().warm_up)  # once per process, not part of a batch
    out = [
        f"postgresql: allocate_batch of {args.orders} orders (1-5 lines) over {args.warehouses} warehouses, "
        f"{args.skus} SKUs (target >= 1,000 orders per second)"
    ]
    for n in range(1, args.rounds + 1):
        if n > 1:
            await close_warehouses(url, n)
        took, allocated, unchanged = await allocate_round(url, order_ids, settings)
        kind = "from scratch" if n == 1 else "re-sourcing held stock, 10 warehouses closed"
        out.append(
            f"  round {n} ({kind}): {took * 1000:.0f} ms -> {args.orders / took:,.0f} orders/s "
            f"({allocated} (re)sourced, {unchanged} unchanged)"
        )
    out.append("  " + await check(url))
    return out


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--warehouses", type=int, default=50)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--stock", type=int, default=40, help="Most units per stock level (contested stock)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--engine-only", action="store_true")
    parser.add_argument(
        "--pg",
        default=os.environ.get("OMS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (default postgresql://postgres@127.0.0.1:5432)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    for line in bench_engine(args.warehouses, args.orders):
        print(line, flush=True)
    if not args.engine_only:
        for line in asyncio.run(bench_postgres(args)):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
