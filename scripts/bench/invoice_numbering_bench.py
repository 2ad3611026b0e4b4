"""Invoices issued per second in one gap-free series, by several API processes at once, on PostgreSQL.

    .venv/bin/python scripts/bench/invoice_numbering_bench.py                       # 300 invoices, 3 processes
    .venv/bin/python scripts/bench/invoice_numbering_bench.py --invoices 1000 --processes 4 \
        --postgres postgresql://postgres@127.0.0.1:5432/postgres

Makes a migrated database of its own, starts ``uvicorn`` processes on it (``tests.support.servers``), places the
orders, then issues one invoice per order, all at once, spread over the processes; checks that the numbers are
exactly 1..N and prints the rate. The database is dropped at the end. The same race, with a forced rollback in the
middle, is ``tests/integration/test_invoice_numbering.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.conftest import KeyMaker  # noqa: E402
from tests.integration.test_invoice_numbering import seeded_orders, series_numbers  # noqa: E402
from tests.support.servers import ApiServers, clients, fire, post  # noqa: E402

from oms_api.kit.auth import Scope  # noqa: E402
from oms_api.kit.migrations import upgrade  # noqa: E402


async def run(admin_dsn: str, invoices: int, processes: int) -> None:
    name = f"oms_bench_{uuid.uuid4().hex[:12]}"
    base = admin_dsn.rsplit("/", 1)[0]
    url = f"{base.replace('postgresql://', 'postgresql+asyncpg://', 1)}/{name}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        await asyncio.to_thread(upgrade, url)
        with tempfile.TemporaryDirectory() as workdir:
            servers = ApiServers(url, Path(workdir), count=processes)
            await asyncio.to_thread(servers.start)
            try:
                token = await KeyMaker(url)(Scope.ADMIN.value, name="bench")
                seed = clients(servers.urls, token)
                code, orders = await seeded_orders(seed, invoices)
                for client in seed:
                    await client.aclose()
                race = clients(servers.urls, token)
                calls = [
                    (str(i), post(race[i % len(race)], f"/v1/orders/{order_id}/invoices", {}))
                    for i, order_id in enumerate(orders)
                ]
                started = time.perf_counter()
                outcomes = await fire(calls, within=600.0)
                elapsed = time.perf_counter() - started
                for client in race:
                    await client.aclose()
            finally:
                servers.stop()
        failed = [o for o in outcomes if o.status != 201]
        conn = await asyncpg.connect(f"{base}/{name}")
        try:
            sequences = [r["sequence"] for r in await series_numbers(conn, code)]
        finally:
            await conn.close()
        print(f"{invoices} invoices, {processes} processes: {elapsed:.2f} s, {invoices / elapsed:.1f} invoices/s")
        print(f"failed requests: {len(failed)}; numbers exactly 1..N: {sequences == list(range(1, invoices + 1))}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--invoices", type=int, default=300)
    parser.add_argument("--processes", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(run(args.postgres, args.invoices, args.processes))


if __name__ == "__main__":
    main()
