"""Closed-loop load generator for POST /v1/orders (run as its own process by orders_bench.py).

    python scripts/bench/loadgen.py '{"url": "http://127.0.0.1:8000", "token": "...", "concurrency": 64,
                                      "duration": 20, "warmup": 3, "skus": 500, "customers": 1000,
                                      "channel": "bench-web", "customer_prefix": "c0000000"}'

K keep-alive connections each send one order, wait for the answer, and send the next: the offered
load follows the server's speed, so latency is not inflated by an open-loop backlog. Connections
open ``ramp_ms`` apart: uvicorn's workers share one listening socket and asyncio accepts every
pending connection at once, so a burst of connections would all land on whichever worker woke first. The client is
a few dozen lines of asyncio HTTP/1.1 (no httpx/aiohttp parsing and pooling), so that it takes as
little CPU as possible from the server on a small machine; it reports its own CPU time. Requests
finished during the warm-up are not counted. Prints one JSON object with the figures.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

ADDRESS = {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    outcomes: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    sent: int = 0


class Orders:
    """Request bytes of 3-line orders over distinct random SKUs (one from each third of the catalogue)."""

    def __init__(self, config: dict[str, Any], host: str) -> None:
        self.config = config
        self.run = uuid.uuid4().hex[:8]
        skus = int(config["skus"])
        third = skus // 3
        self.ranges = ((1, third), (third + 1, 2 * third), (2 * third + 1, skus))
        self.head = (
            f"POST /v1/orders HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {config['token']}\r\n"
            "Content-Type: application/json\r\n"
        )

    def next(self, conn: int, seq: int) -> bytes:
        customer = random.randint(1, int(self.config["customers"]))
        body = json.dumps(
            {
                "channel": self.config["channel"],
                "external_ref": f"{self.run}-{conn}-{seq}",
                "currency": "EUR",
                "customer": {"id": f"{self.config['customer_prefix']}-0000-7000-8000-{customer:012d}"},
                "shipping_address": ADDRESS,
                "lines": [
                    {
                        "sku": f"BENCH-{random.randint(lo, hi):05d}",
                        "quantity": random.randint(1, 3),
                        "unit_price": {"amount": "9.99", "currency": "EUR"},
                    }
                    for lo, hi in self.ranges
                ],
            },
            separators=(",", ":"),
        ).encode()
        head = f"{self.head}Idempotency-Key: {uuid.uuid4().hex}\r\nContent-Length: {len(body)}\r\n\r\n"
        return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, server keeps the connection) of one Content-Length response."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length, keep = 0, True
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"connection" and value.strip().lower() == b"close":
            keep = False
        elif name == b"transfer-encoding":
            raise ConnectionError("chunked responses are not expected from this endpoint")
    body = await reader.readexactly(length) if length else b""
    return status, body, keep


async def connection(
    conn: int, host: str, port: int, orders: Orders, stats: Stats, start: float, end: float, delay: float
) -> None:
    await asyncio.sleep(delay)  # connections open one by one, so that every server worker accepts some
    seq = 0
    reader = writer = None
    while time.perf_counter() < end:
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            assert reader is not None
            seq += 1
            request = orders.next(conn, seq)
            sent = time.perf_counter()
            writer.write(request)
            status, body, keep = await read_response(reader)
            done = time.perf_counter()
            stats.sent += 1
            if sent >= start and done <= end:
                stats.latencies.append(done - sent)
                if status == 201:
                    stats.outcomes["201"] += 1
                else:
                    try:
                        code = json.loads(body).get("code", "")
                    except ValueError:
                        code = "not-json"
                    stats.outcomes[f"{status} {code}"] += 1
            if not keep:
                writer.close()
                writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            if time.perf_counter() >= start:
                stats.transport_errors[type(exc).__name__] += 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.05)
    if writer is not None:
        writer.close()


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


async def run(config: dict[str, Any]) -> dict[str, Any]:
    url = urlsplit(config["url"])
    host, port = url.hostname or "127.0.0.1", url.port or 80
    orders = Orders(config, f"{host}:{port}")
    stats = Stats()
    now = time.perf_counter()
    start = now + float(config["warmup"])
    end = start + float(config["duration"])
    ramp = float(config.get("ramp_ms", 0)) / 1000
    await asyncio.gather(
        *(connection(i, host, port, orders, stats, start, end, i * ramp) for i in range(int(config["concurrency"])))
    )
    latencies = sorted(stats.latencies)
    ok = stats.outcomes["201"]
    errors = {k: v for k, v in stats.outcomes.items() if k != "201"}
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "orders_per_s": ok / float(config["duration"]),
        "requests": len(latencies),
        "all_requests": stats.sent,
        "ok": ok,
        "errors": errors,
        "transport_errors": dict(stats.transport_errors),
        "p50_ms": 1000 * percentile(latencies, 0.50),
        "p90_ms": 1000 * percentile(latencies, 0.90),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * (latencies[-1] if latencies else 0.0),
        "cpu_s": usage.ru_utime + usage.ru_stime,
    }


def main() -> int:
    config = json.loads(sys.argv[1])
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(config))
    else:
        result = uvloop.run(run(config))
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
