"""Head-of-line blocking benchmark: a healthy endpoint's delivery delay, alone and beside a hung one.

    python scripts/bench/webhook_hol_bench.py                      # PostgreSQL on 127.0.0.1 (scratch databases)
    python scripts/bench/webhook_hol_bench.py --events 600 --rate 20
    python scripts/bench/webhook_hol_bench.py --database sqlite

One receiver process listens on two ports: a healthy receiver that answers 204 at once and notes when each
webhook-id arrived, and a hung one that accepts connections, reads the request and never answers (it counts
the connections it holds open). One ``oms-api worker`` process runs with the service's defaults (32 slots,
15 s per attempt, ``OMS_WEBHOOKS_ENDPOINT_CONCURRENCY``, the circuit breaker); only the idle poll is
``--poll``.

Two phases, each on a fresh, migrated database: the healthy endpoint alone, then the healthy endpoint and a
hung endpoint both subscribed to everything. Events are committed one transaction at a time at ``--rate``
per second (one aggregate each); the delay of each is its arrival at the healthy receiver minus its commit
(both clocks are this machine's). Reported: p50, p90, p99 and max of the delay, and the most connections
the hung receiver held at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from webhooks_bench import drop_database, fresh_database  # same folder: scripts/bench

from oms_api.kit import outbox, secrets
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.migrations import upgrade
from oms_api.settings import Settings
from oms_api.webhooks import signing
from oms_api.webhooks.models import WebhookEndpoint

PG_ADMIN = os.environ.get("OMS_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")

RECEIVERS = r"""
import asyncio, json, sys, time
arrivals, hung = {}, {"open": 0, "max": 0, "total": 0}

async def healthy(reader, writer):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:] if l)}
            await reader.readexactly(int(headers.get("content-length", "0")))
            if lines[0].startswith("GET /stats"):
                payload = json.dumps({"arrivals": arrivals, "hung": hung}).encode()
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

async def stuck(reader, writer):
    hung["open"] += 1
    hung["total"] += 1
    hung["max"] = max(hung["max"], hung["open"])
    try:
        while await reader.read(65536):  # read the request, never answer, until the client gives up
            pass
    except ConnectionError:
        pass
    finally:
        hung["open"] -= 1
        writer.close()

async def main():
    a = await asyncio.start_server(healthy, "127.0.0.1", int(sys.argv[1]), backlog=1024)
    b = await asyncio.start_server(stuck, "127.0.0.1", int(sys.argv[2]), backlog=1024)
    async with a, b:
        await asyncio.gather(a.serve_forever(), b.serve_forever())
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/stats")
    result: dict[str, Any] = response.json()
    return result


def start_worker(database_url: str, key: str, args: argparse.Namespace, logdir: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env.update(
        OMS_DATABASE_URL=database_url,
        OMS_SECRET_KEY=key,
        OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true",
        OMS_WORKER_POLL_INTERVAL_SECONDS=str(args.poll),
        OMS_LOG_LEVEL="warning",
    )
    if args.endpoint_concurrency is not None:
        env["OMS_WEBHOOKS_ENDPOINT_CONCURRENCY"] = str(args.endpoint_concurrency)
    log = (logdir / "worker.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "oms_api.cli", "worker"], env=env, stdout=log, stderr=log)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)  # a second signal: do not wait for the hung requests
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


def quantile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def run_phase(urls: list[str], args: argparse.Namespace, receiver: str, workdir: Path) -> dict[str, Any]:
    key = secrets.generate_key()
    database_url, name = await fresh_database(args.database, workdir)
    try:
        upgrade(database_url)
        secrets.install(Settings(database_url=database_url, secret_key=key))
        engine = create_engine(database_url)
        sessions = session_factory(engine)
        async with sessions() as session:
            for url in urls:
                session.add(
                    WebhookEndpoint(
                        url=url, event_types=["*"], active=True, secret=signing.new_secret(), consecutive_failures=0
                    )
                )
            await session.commit()
        worker = start_worker(database_url, key, args, workdir)
        try:
            async with httpx.AsyncClient(base_url=receiver, timeout=30) as client:
                await asyncio.sleep(3)  # the worker is up and idle
                before = await stats(client)
                commits: dict[str, float] = {}
                for n in range(args.events):
                    async with sessions() as session:
                        outbox.record(session, "order.updated", "order", uuid.uuid4(), {"n": n, "note": "x" * 300})
                        event_id = str(session.info[outbox._PENDING][0]["id"])
                        await outbox.flush_events(session)
                        await session.commit()
                    commits[event_id] = time.time()
                    await asyncio.sleep(1 / args.rate)
                deadline = time.monotonic() + args.timeout
                while True:
                    got = await stats(client)
                    if all(e in got["arrivals"] for e in commits) or time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.2)
        finally:
            stop(worker)
            await engine.dispose()
    finally:
        await drop_database(name)
    delays = sorted(got["arrivals"][e] - t for e, t in commits.items() if e in got["arrivals"])
    return {
        "endpoints": len(urls),
        "events": len(commits),
        "delivered_to_healthy": len(delays),
        "delay_s_p50": round(statistics.median(delays), 3),
        "delay_s_p90": round(quantile(delays, 90), 3),
        "delay_s_p99": round(quantile(delays, 99), 3),
        "delay_s_max": round(delays[-1], 3),
        "hung_connections_max": got["hung"]["max"],
        "hung_connections_total": got["hung"]["total"] - before["hung"]["total"],
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=["postgresql", "sqlite"], default="postgresql")
    parser.add_argument("--events", type=int, default=400)
    parser.add_argument("--rate", type=float, default=20.0, help="events committed per second")
    parser.add_argument("--poll", type=float, default=0.5, help="OMS_WORKER_POLL_INTERVAL_SECONDS")
    parser.add_argument("--timeout", type=float, default=600.0, help="how long to wait for the last delivery")
    parser.add_argument(
        "--endpoint-concurrency", type=int, default=None, help="OMS_WEBHOOKS_ENDPOINT_CONCURRENCY (unset: default)"
    )
    parser.add_argument("--phases", default="alone,beside_a_hung_endpoint", help="which phases to run")
    return parser.parse_args()


async def run_all(args: argparse.Namespace, healthy_port: int, hung_port: int) -> None:
    healthy = f"http://127.0.0.1:{healthy_port}/hooks"
    hung = f"http://127.0.0.1:{hung_port}/hooks"
    receiver = f"http://127.0.0.1:{healthy_port}"
    phases = {"alone": [healthy], "beside_a_hung_endpoint": [healthy, hung]}
    for phase in args.phases.split(","):
        urls = phases[phase]
        workdir = Path(tempfile.mkdtemp(prefix=f"hol-bench-{phase}-"))
        result = await run_phase(urls, args, receiver, workdir)
        print(json.dumps({"phase": phase, "database": args.database, **result}), flush=True)


def main() -> None:
    args = parse_args()
    healthy_port, hung_port = free_port(), free_port()
    receivers = subprocess.Popen([sys.executable, "-c", RECEIVERS, str(healthy_port), str(hung_port)])
    try:
        time.sleep(1)
        asyncio.run(run_all(args, healthy_port, hung_port))
    finally:
        receivers.terminate()
        receivers.wait(timeout=10)


if __name__ == "__main__":
    main()
