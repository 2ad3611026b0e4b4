"""Memory and liveness under four concurrent 33 MB request bodies, against a real ``oms-api serve``.

    .venv/bin/python scripts/bench/big_bodies.py                    # a temporary SQLite database
    .venv/bin/python scripts/bench/big_bodies.py --postgres postgresql://postgres@127.0.0.1:5432/postgres
    .venv/bin/python scripts/bench/big_bodies.py --src /tmp/oms-before/src   # another source tree, to compare

Starts ``oms-api serve`` on a free port (rate limits off), makes an admin key, then runs each scenario: four
33 MB ``POST /v1/orders`` at once (an order whose ``lines`` array holds ~400,000 lines: JSON that parses into
many small objects), sent by four separate processes, while this process polls ``/healthz`` every 20 ms and
samples the server's RSS (``/proc``, the server and its children). Scenarios: no key; a valid key with
Content-Length; a valid key, chunked (no Content-Length). Prints RSS before, the peak during and after each
scenario, the healthz latencies, and the answers the uploads got. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx

BODY_MB = 33
UPLOADS = 4
POLL_SECONDS = 0.02
LINE = b'{"sku": "SKU-00001", "quantity": 1, "unit_price": {"amount": "9.99", "currency": "EUR"}},'


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def big_order(megabytes: int) -> bytes:
    """A valid-looking order whose lines array makes the body ``megabytes`` MB."""
    head = b'{"channel": "web", "external_ref": "BIG", "currency": "EUR", "lines": ['
    tail = b'{"sku": "SKU-00001", "quantity": 1, "unit_price": {"amount": "9.99", "currency": "EUR"}}]}'
    count = (megabytes * 1_000_000 - len(head) - len(tail)) // len(LINE)
    return head + LINE * count + tail


def rss_bytes(pid: int) -> int:
    """Resident memory of ``pid`` and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        stack.extend(int(child) for child in children)
    return total


def upload(port: int, token: str | None, chunked: bool) -> str:
    """One 33 MB POST (run in its own process, so the poller's timings are the server's alone)."""
    body = big_order(BODY_MB)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.perf_counter()
    try:
        if chunked:
            step = 1 << 20
            pieces: Iterator[bytes] = (body[i : i + step] for i in range(0, len(body), step))
            conn.request("POST", "/v1/orders", body=pieces, headers=headers, encode_chunked=True)
        else:
            conn.request("POST", "/v1/orders", body=body, headers=headers)
        response = conn.getresponse()
        payload = response.read()
        code = json.loads(payload).get("code", "") if payload.startswith(b"{") else ""
        return f"{response.status} {code} in {time.perf_counter() - started:.2f}s"
    except OSError as exc:  # the server may close the connection once it has answered
        return f"{type(exc).__name__} after {time.perf_counter() - started:.2f}s"
    finally:
        conn.close()


async def scenario(
    name: str, server: subprocess.Popen[bytes], port: int, token: str | None, chunked: bool, uploads: int = UPLOADS
) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}/healthz"
    before = rss_bytes(server.pid)
    peak = before
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        nonlocal peak
        async with httpx.AsyncClient(timeout=30) as client:
            while not done.is_set():
                started = time.perf_counter()
                await client.get(url)
                latencies.append(time.perf_counter() - started)
                peak = max(peak, rss_bytes(server.pid))
                await asyncio.sleep(POLL_SECONDS)

    poller = asyncio.create_task(poll())
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=UPLOADS) as pool:
        started = time.perf_counter()
        answers = await asyncio.gather(
            *(loop.run_in_executor(pool, upload, port, token, chunked) for _ in range(uploads))
        )
        if not uploads:  # the idle reference: the same polling, no upload
            await asyncio.sleep(2.0)
        elapsed = time.perf_counter() - started
    done.set()
    await poller
    await asyncio.sleep(2.0)
    after = rss_bytes(server.pid)
    return {
        "scenario": name,
        "uploads": answers,
        "seconds": round(elapsed, 2),
        "rss_mb": {"before": mb(before), "peak": mb(peak), "after": mb(after)},
        "healthz_ms": {
            "samples": len(latencies),
            "p50": round(statistics.median(latencies) * 1000, 1),
            "max": round(max(latencies) * 1000, 1),
        },
    }


def mb(value: int) -> float:
    return round(value / 1_000_000, 1)


def environment(database_url: str, src: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env.update(
        OMS_DATABASE_URL=database_url,
        OMS_LOG_LEVEL="warning",
        OMS_RATE_LIMIT_PER_SECOND="0",  # a benchmark measures the service, not its rate limit
        OMS_AUTH_FAILURE_RATE_PER_SECOND="0",
        OMS_SERVE_WITH_WORKER="false",
        OMS_SECRET_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(),  # PostgreSQL needs one; a fresh one
    )
    if src:
        env["PYTHONPATH"] = src
    return env


def cli(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "oms_api.cli", *args], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"oms-api {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def start(env: dict[str, str], port: int, workdir: Path) -> subprocess.Popen[bytes]:
    log = (workdir / "server.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "oms_api.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=workdir,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit((workdir / "server.log").read_text())
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start:\n" + (workdir / "server.log").read_text())


async def run(args: argparse.Namespace, workdir: Path) -> list[dict[str, Any]]:
    admin_dsn = args.postgres
    if admin_dsn:
        import asyncpg

        name = f"oms_bodies_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin_dsn)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        database_url = admin_dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{name}"
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'oms.db'}"
    env = environment(database_url, args.src)
    cli(env, "migrate")
    token = cli(env, "api-keys", "create", "--name", "bench", "--scope", "admin").strip().splitlines()[-1]
    port = free_port()
    server = start(env, port, workdir)
    results = []
    try:
        async with httpx.AsyncClient(headers={"Authorization": f"Bearer {token}"}) as client:
            for _ in range(20):  # warm up: imports, the first queries
                await client.get(f"http://127.0.0.1:{port}/v1/skus")
        await asyncio.sleep(1.0)
        for name, key, chunked, uploads in (
            ("idle (reference)", None, False, 0),
            ("no key", None, False, UPLOADS),
            ("valid key, Content-Length", token, False, UPLOADS),
            ("valid key, chunked", token, True, UPLOADS),
        ):
            results.append(await scenario(name, server, port, key, chunked, uploads))
            print(json.dumps(results[-1]), flush=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
        if admin_dsn:
            conn = await asyncpg.connect(admin_dsn)
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await conn.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--postgres", help="admin DSN: run on a new PostgreSQL database instead of SQLite")
    parser.add_argument("--src", help="run the server from this source tree (PYTHONPATH), e.g. an older checkout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="oms-bodies-") as tmp:
        results = asyncio.run(run(args, Path(tmp)))
    print(f"\n{'scenario':28} {'RSS before':>10} {'peak':>8} {'after':>8} {'healthz p50':>12} {'max':>8}  answers")
    for r in results:
        rss, hz = r["rss_mb"], r["healthz_ms"]
        answers = "; ".join(r["uploads"])
        print(
            f"{r['scenario']:28} {rss['before']:>8} MB {rss['peak']:>5} MB {rss['after']:>5} MB "
            f"{hz['p50']:>9} ms {hz['max']:>5} ms  {answers}"
        )


if __name__ == "__main__":
    main()
