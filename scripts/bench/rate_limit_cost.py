"""What the per-key rate limit costs per request on PostgreSQL.

    .venv/bin/python scripts/bench/rate_limit_cost.py [--postgres DSN] [--duration 10] [--concurrency 16]

1. The bucket check alone: ``PostgresBuckets.hit`` (one autocommit statement on the limiter's own pool), timed
   sequentially and with ``--concurrency`` tasks on one key (the worst case: every check locks the same row).
2. End to end: ``oms-api serve`` (one process) on the same new database, alternately with the limit off
   (``OMS_RATE_LIMIT_PER_SECOND=0``) and on but never reached (10^6/s), each under ``--concurrency`` closed-loop
   clients sending ``GET /v1/skus?limit=1`` for ``--duration`` seconds; prints requests/s, p50/p99 and the
   server's CPU time per request (the figure a busy machine disturbs least).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from tempfile import TemporaryDirectory

import asyncpg
import httpx

from oms_api.kit.ratelimit import Policy, PostgresBuckets


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bucket_checks(url: str, count: int, concurrency: int) -> tuple[float, float, float]:
    """Mean microseconds per check: one at a time (wall and this process's CPU, which is what an API process
    spends on it), then ``concurrency`` at once on one bucket (wall)."""
    buckets = PostgresBuckets(url)
    policy = Policy("bench", 1e9, 1_000_000_000)
    try:
        await buckets.hit("bench:warm", policy)
        started, cpu = time.perf_counter(), time.process_time()
        for _ in range(count):
            await buckets.hit("bench:one", policy)
        sequential = (time.perf_counter() - started) / count * 1e6
        cpu_per_check = (time.process_time() - cpu) / count * 1e6

        async def worker() -> None:
            for _ in range(count // concurrency):
                await buckets.hit("bench:shared", policy)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        concurrent = (time.perf_counter() - started) / (count // concurrency * concurrency) * 1e6
    finally:
        await buckets.close()
    return sequential, cpu_per_check, concurrent


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc): robust to a busy machine, unlike latency."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(env: dict[str, str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / f"server-{port}.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "oms_api.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit((workdir / f"server-{port}.log").read_text())


async def load(port: int, token: str, duration: float, concurrency: int) -> tuple[float, float, float, Counter[int]]:
    """(requests/s, p50 ms, p99 ms, statuses) of a closed loop on ``GET /v1/skus?limit=1``."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {token}"}, limits=limits
    ) as client:
        for _ in range(50):
            await client.get("/v1/skus?limit=1")
        end = time.monotonic() + duration

        async def worker() -> None:
            while time.monotonic() < end:
                started = time.perf_counter()
                response = await client.get("/v1/skus?limit=1")
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    ordered = sorted(latencies)
    return (
        len(latencies) / duration,
        statistics.median(ordered) * 1000,
        ordered[int(len(ordered) * 0.99)] * 1000,
        statuses,
    )


def make_key(env: dict[str, str]) -> str:
    """Migrate the new database and make an admin key (its secret)."""
    subprocess.run([sys.executable, "-m", "oms_api.cli", "migrate"], env=env, check=True, capture_output=True)
    created = subprocess.run(
        [sys.executable, "-m", "oms_api.cli", "api-keys", "create", "--name", "bench", "--scope", "admin"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return created.stdout.strip().splitlines()[-1]


async def main(args: argparse.Namespace) -> None:
    name = f"oms_ratelimit_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(args.postgres)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    url = args.postgres.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env.update(
        OMS_DATABASE_URL=url,
        OMS_LOG_LEVEL="warning",
        OMS_SECRET_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        OMS_SERVE_WITH_WORKER="false",
        OMS_AUTH_FAILURE_RATE_PER_SECOND="0",
    )
    try:
        token = await asyncio.to_thread(make_key, env)
        sequential, cpu, concurrent = await bucket_checks(url, args.checks, args.concurrency)
        print(
            f"bucket check: {sequential:.0f} us one at a time ({cpu:.0f} us of client CPU), "
            f"{concurrent:.0f} us each with {args.concurrency} at once on one key"
        )
        with TemporaryDirectory() as tmp:
            runs = [("limit off", "0"), ("limit on", "1000000")] * args.rounds  # alternated: load drifts
            for label, rate in runs:
                port = free_port()
                server = serve(
                    {**env, "OMS_RATE_LIMIT_PER_SECOND": rate, "OMS_RATE_LIMIT_BURST": "1000000"}, port, Path(tmp)
                )
                try:
                    cpu = cpu_seconds(server.pid)
                    rps, p50, p99, statuses = await load(port, token, args.duration, args.concurrency)
                    cpu_ms = (cpu_seconds(server.pid) - cpu) / sum(statuses.values()) * 1000
                finally:
                    server.terminate()
                    server.wait(timeout=30)
                print(
                    f"{label:9}: {rps:6.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  "
                    f"server CPU {cpu_ms:.2f} ms/request  statuses {dict(statuses)}"
                )
    finally:
        admin = await asyncpg.connect(args.postgres)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/postgres", help="admin DSN")
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--checks", type=int, default=5000, help="bucket checks in part 1")
    parser.add_argument("--rounds", type=int, default=2, help="off/on pairs in part 2")
    asyncio.run(main(parser.parse_args()))
