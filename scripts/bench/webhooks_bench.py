"""Webhook delivery benchmark: deliveries per second with 1 and 2 workers, and commit-to-delivery delay.

    python scripts/bench/webhooks_bench.py                       # PostgreSQL on 127.0.0.1 (a scratch database)
    python scripts/bench/webhooks_bench.py --events 5000 --poll 0.1
    python scripts/bench/webhooks_bench.py --database sqlite     # one worker only on SQLite

A fast receiver (a bare asyncio HTTP/1.1 server in its own process, answering 204 at once and noting when
each webhook-id arrived) stands in for a partner. ``oms-api worker`` processes run against a fresh, migrated
database with one endpoint subscribed to everything.

- Throughput: the workers are started and idle; ``--events`` events (5 per aggregate, as an order's life
  makes them) are committed in one transaction; the figure is events / (last arrival - commit).
- Delay: one worker; events are committed one transaction at a time at ``--rate`` per second; the delay
  of each is its arrival minus its commit (both clocks are this machine's). The worker polls every
  ``--poll`` seconds when idle (``OMS_WORKER_POLL_INTERVAL_SECONDS``), which bounds the delay from below.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx

from oms_api.kit import outbox
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.migrations import upgrade
from oms_api.kit.secrets import Keyring, configure, generate_key
from oms_api.webhooks import signing
from oms_api.webhooks.models import WebhookEndpoint

PG_ADMIN = os.environ.get("OMS_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
SECRET_KEY = generate_key()  # each run's database is new: its endpoints' secrets are sealed with a key of its own
configure(Keyring(SECRET_KEY))  # endpoints are made in this process; the workers get the key in their environment

RECEIVER = r"""
import asyncio, json, sys, time
arrivals = {}
async def handle(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if lines[0].startswith("GET /stats"):
                payload = json.dumps(arrivals).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                             + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            else:
                arrivals.setdefault(headers.get("webhook-id", "?"), time.time())
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()
async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    async with server:
        await server.serve_forever()
asyncio.run(main())
"""


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def data_of(n: int) -> dict[str, Any]:
    """About 1 KB, like an order snapshot."""
    return {
        "id": str(uuid.uuid4()),
        "status": "confirmed",
        "lines": [
            {"sku": f"SKU-{i}", "quantity": i + 1, "unit_price": {"amount": "9.99", "currency": "EUR"}}
            for i in range(8)
        ],
        "note": "x" * 300,
        "n": n,
    }


async def commit_events(sessions: Any, count: int, per_aggregate: int = 5) -> float:
    """Commit ``count`` events in one transaction; returns the commit time."""
    async with sessions() as session:
        aggregate = uuid.uuid4()
        for n in range(count):
            if n % per_aggregate == 0:
                aggregate = uuid.uuid4()
            outbox.record(session, "order.updated", "order", aggregate, data_of(n))
        await outbox.flush_events(session)
        await session.commit()
    return time.time()


async def stats(client: httpx.AsyncClient) -> dict[str, float]:
    response = await client.get("/stats")
    result: dict[str, float] = response.json()
    return result


async def wait_for_all(client: httpx.AsyncClient, expected: int, within: float) -> dict[str, float]:
    deadline = time.monotonic() + within
    while True:
        got = await stats(client)
        if len(got) >= expected or time.monotonic() > deadline:
            return got
        await asyncio.sleep(0.2)


def start_workers(
    count: int, database_url: str, env_extra: dict[str, str], logdir: Path
) -> list[subprocess.Popen[bytes]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env.update(OMS_DATABASE_URL=database_url, OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true", OMS_LOG_LEVEL="warning")
    env.update(OMS_SECRET_KEY=SECRET_KEY)  # workers refuse PostgreSQL without one; they unseal what this run seals
    env.update(env_extra)
    processes = []
    for i in range(count):
        log = (logdir / f"worker-{i}.log").open("wb")
        processes.append(
            subprocess.Popen([sys.executable, "-m", "oms_api.cli", "worker"], env=env, stdout=log, stderr=log)
        )
    return processes


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        process.send_signal(signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


async def fresh_database(kind: str, workdir: Path) -> tuple[str, str | None]:
    if kind == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}", None
    name = f"oms_webhooks_bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{name}", name


async def drop_database(name: str | None) -> None:
    if name:
        conn = await asyncpg.connect(PG_ADMIN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def run_phase(
    database_url: str, receiver_url: str, workers: int, args: argparse.Namespace, workdir: Path
) -> dict[str, Any]:
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    env = {"OMS_WORKER_POLL_INTERVAL_SECONDS": str(args.poll), "OMS_WEBHOOKS_CONCURRENCY": str(args.concurrency)}
    processes = start_workers(workers, database_url, env, workdir)
    try:
        async with httpx.AsyncClient(base_url=receiver_url.rsplit("/", 1)[0], timeout=30) as client:
            await asyncio.sleep(3)  # workers up and idle
            before = len(await stats(client))
            committed = await commit_events(sessions, args.events)
            got = await wait_for_all(client, before + args.events, args.timeout)
            arrivals = sorted(got.values())[before:]
            elapsed = max(arrivals) - committed if arrivals else float("nan")
            delivered = len(got) - before
            result: dict[str, Any] = {
                "workers": workers,
                "events": args.events,
                "delivered": delivered,
                "seconds": round(elapsed, 2),
                "deliveries_per_second": round(delivered / elapsed, 1),
            }
            if workers == 1:
                result.update(await latency(sessions, client, args))
            return result
    finally:
        stop(processes)
        await engine.dispose()


async def latency(sessions: Any, client: httpx.AsyncClient, args: argparse.Namespace) -> dict[str, Any]:
    """Events committed one at a time at ``args.rate``/s; delay = arrival - commit."""
    commits: dict[str, float] = {}
    interval = 1 / args.rate
    for n in range(args.latency_events):
        async with sessions() as session:
            outbox.record(session, "order.updated", "order", uuid.uuid4(), data_of(n))
            event_id = str(session.info[outbox._PENDING][0]["id"])
            await outbox.flush_events(session)
            await session.commit()
        commits[event_id] = time.time()
        await asyncio.sleep(interval)
    deadline = time.monotonic() + args.timeout
    while True:
        got = await stats(client)
        if all(e in got for e in commits) or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.2)
    delays = sorted((got[e] - t) * 1000 for e, t in commits.items() if e in got)
    q = statistics.quantiles(delays, n=100)
    return {
        "latency_events": len(delays),
        "delay_ms_p50": round(statistics.median(delays), 1),
        "delay_ms_p99": round(q[98], 1),
        "delay_ms_max": round(delays[-1], 1),
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=3000)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0, help="events per second in the delay phase")
    parser.add_argument("--poll", type=float, default=0.5, help="OMS_WORKER_POLL_INTERVAL_SECONDS")
    parser.add_argument("--concurrency", type=int, default=32, help="OMS_WEBHOOKS_CONCURRENCY")
    parser.add_argument("--timeout", type=float, default=300.0)
    return parser.parse_args()


async def run_all(args: argparse.Namespace, receiver_url: str) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="webhooks-bench-"))
    counts = [1] if args.database == "sqlite" else [1, 2]
    for workers in counts:
        (workdir / f"w{workers}").mkdir(exist_ok=True)
        database_url, name = await fresh_database(args.database, workdir / f"w{workers}")
        try:
            upgrade(database_url)
            engine = create_engine(database_url)
            async with session_factory(engine)() as session:
                session.add(
                    WebhookEndpoint(
                        url=receiver_url,
                        event_types=["*"],
                        active=True,
                        secret=signing.new_secret(),
                        consecutive_failures=0,
                    )
                )
                await session.commit()
            await engine.dispose()
            result = await run_phase(database_url, receiver_url, workers, args, workdir / f"w{workers}")
            print(json.dumps({"database": args.database, "poll_seconds": args.poll, **result}), flush=True)
        finally:
            await drop_database(name)


def main() -> None:
    args = parse_args()
    port = free_port()
    receiver = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    try:
        asyncio.run(run_all(args, f"http://127.0.0.1:{port}/hooks"))
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)


if __name__ == "__main__":
    main()
