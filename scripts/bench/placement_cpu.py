"""CPU cost of placing one order, in process and one at a time: a quiet figure to optimise against.

    python scripts/bench/placement_cpu.py [--orders 1000] [--profile out.pstats]

The load benchmark (``orders_bench.py``) is the figure that counts, but with 64 connections on 2 cores
its run-to-run noise hides changes of a few percent. This seeds the same ``oms_bench`` database, then
places ``--orders`` 3-line orders through the real app (httpx ``ASGITransport``, so no HTTP parsing and no
socket; the client's own CPU is included) against PostgreSQL, sequentially, and prints the process CPU
time and the wall time per order. ``--profile`` writes a cProfile dump of the measured orders.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import random
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import orders_bench as bench

from oms_api.app import create_app
from oms_api.kit.migrations import upgrade
from oms_api.settings import Settings


async def place(url: str, seeded: bench.Seeded, orders: int, warmup: int, profile: Path | None) -> tuple[float, float]:
    app = create_app(Settings(database_url=url, log_level="warning", rate_limit_per_second=0))  # never throttled
    rng = random.Random(7)
    third = seeded.skus // 3

    def body(n: int) -> dict[str, object]:
        lines = [(rng.randint(1 + k * third, (k + 1) * third), rng.randint(1, 3)) for k in range(3)]
        return bench.order_body(f"cpu-{n}", rng.randint(1, seeded.customers), lines)

    profiler = cProfile.Profile() if profile else None
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {seeded.secret}"}
        ) as client:

            async def one(n: int) -> None:
                response = await client.post("/v1/orders", json=body(n), headers={"Idempotency-Key": f"cpu-{n}"})
                if response.status_code != 201:
                    raise SystemExit(f"order {n} refused: {response.status_code} {response.text[:300]}")

            for n in range(warmup):
                await one(n)
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for n in range(warmup, warmup + orders):
                await one(n)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await app.state.db.engine.dispose()
    if profiler and profile:
        profiler.dump_stats(profile)
    return cpu * 1000 / orders, wall * 1000 / orders


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--db-name", default="oms_bench")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--profile", type=Path, help="write a cProfile dump of the measured orders here")
    args = parser.parse_args()
    admin_dsn, url, _ = bench.urls(args.pg, args.db_name)
    asyncio.run(bench.recreate_database(admin_dsn, args.db_name))
    upgrade(url)
    seeded = asyncio.run(bench.seed(url, 500, 1000))
    cpu, wall = asyncio.run(place(url, seeded, args.orders, args.warmup, args.profile))
    print(f"{args.orders} orders, one at a time, in process: CPU {cpu:.2f} ms/order, wall {wall:.2f} ms/order")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
