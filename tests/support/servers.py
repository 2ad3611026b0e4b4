"""Real API processes and concurrent clients for the integration tests.

``ApiServers`` runs ``uvicorn oms_api.asgi:app`` processes on loopback ports against one database,
waits until they answer ``/healthz`` and always stops them (SIGTERM, then SIGKILL). ``fire`` sends
many requests at once through a gate, so that they really race, and keeps every outcome (response
or transport error) for the assertions.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Select, func, select

from oms_api.catalog.models import Sku
from oms_api.kit.db import create_engine, session_factory
from oms_api.stock.models import StockLevel
from tests.support.keys import SECRET_KEY_ENV

STARTUP_SECONDS = 60.0
STOP_SECONDS = 10.0
REQUEST_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
AnySelect = Select[*tuple[Any, ...]]
LOG_PROBLEMS = ("Traceback", "database is locked", "Exception in ASGI application")


def _free_ports(count: int) -> list[int]:
    """Ports the kernel just handed out (all held at once, so they differ)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


@dataclass
class ApiProcess:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class ApiServers:
    """``count`` uvicorn processes serving the API on ``database_url``."""

    database_url: str
    workdir: Path
    count: int = 3
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[ApiProcess] = field(default_factory=list)

    @property
    def urls(self) -> list[str]:
        return [p.url for p in self.processes]

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
        env.update(
            OMS_DATABASE_URL=self.database_url,
            OMS_LOG_LEVEL="warning",
            OMS_AUTO_MIGRATE="false",
            OMS_DB_POOL_SIZE="5",
            OMS_DB_MAX_OVERFLOW="5",
            PYTHONUNBUFFERED="1",
            OMS_RATE_LIMIT_PER_SECOND="0",  # load: never throttled (a test turns limits on with extra_env)
            OMS_INBOUND_RATE_LIMIT_PER_SECOND="0",
            **SECRET_KEY_ENV,
        )
        env.update(self.extra_env)
        return env

    def _spawn(self, index: int, port: int) -> ApiProcess:
        log_path = self.workdir / f"api-{index}-{port}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "uvicorn",
                    "oms_api.asgi:app",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--no-access-log",
                ],
                env=self._env(),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return ApiProcess(port, process, log_path)

    def start(self) -> list[str]:
        """Start every process and wait until each answers; a port lost to a race is retried once."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.processes = [self._spawn(i, port) for i, port in enumerate(_free_ports(self.count))]
        deadline = time.monotonic() + STARTUP_SECONDS
        for i, api in enumerate(self.processes):
            if not self._wait_healthy(api, deadline) and "address already in use" in self.log_of(api):
                self.processes[i] = api = self._spawn(i, _free_ports(1)[0])
                self._wait_healthy(api, deadline)
            if api.process.poll() is not None or not self._healthy(api):
                raise RuntimeError(f"API process on port {api.port} did not start:\n{self.log_of(api)}")
        return self.urls

    @staticmethod
    def _healthy(api: ApiProcess) -> bool:
        try:
            return httpx.get(f"{api.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def _wait_healthy(self, api: ApiProcess, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if api.process.poll() is not None:
                return False
            if self._healthy(api):
                return True
            time.sleep(0.1)
        return False

    def stop(self) -> None:
        """SIGTERM every process (graceful), then SIGKILL whichever is still there."""
        for api in self.processes:
            if api.process.poll() is None:
                api.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        for api in self.processes:
            try:
                api.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                api.process.kill()
                api.process.wait(timeout=STOP_SECONDS)

    @staticmethod
    def log_of(api: ApiProcess) -> str:
        return api.log_path.read_text(encoding="utf-8", errors="replace") if api.log_path.exists() else ""

    def problems_in_logs(self) -> list[str]:
        """Log lines of every process that show an unhandled error or a lock timeout."""
        return [
            f"[{api.port}] {line[:300]}"
            for api in self.processes
            for line in self.log_of(api).splitlines()
            if any(p in line for p in LOG_PROBLEMS)
        ]


@dataclass
class Deployment:
    """API processes and the database they share."""

    database_url: str
    servers: ApiServers


@dataclass
class Outcome:
    """What one request got: a response, or the transport error that replaced it."""

    label: str
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


Call = Callable[[], Awaitable[httpx.Response]]


def post(client: httpx.AsyncClient, path: str, body: Any, headers: dict[str, str] | None = None) -> Call:
    """A POST to send later (through ``fire``)."""

    async def call() -> httpx.Response:
        return await client.post(path, json=body, headers=headers)

    return call


async def _one(label: str, call: Call, gate: asyncio.Event) -> Outcome:
    await gate.wait()
    try:
        response = await call()
    except httpx.HTTPError as exc:
        return Outcome(label, error=f"{type(exc).__name__}: {exc}")
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return Outcome(label, response.status_code, body, dict(response.headers))


async def fire(calls: Sequence[tuple[str, Call]], *, within: float = 90.0) -> list[Outcome]:
    """Run every call at the same moment (all wait on one gate) and collect the outcomes in order."""
    gate = asyncio.Event()
    async with asyncio.timeout(within):
        tasks = [asyncio.create_task(_one(label, call, gate)) for label, call in calls]
        await asyncio.sleep(0)  # let every task reach the gate
        gate.set()
        return list(await asyncio.gather(*tasks))


def clients(urls: Sequence[str], token: str, *, max_connections: int = 100) -> list[httpx.AsyncClient]:
    """One keep-alive client per API process, authenticated with ``token``."""
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    return [
        httpx.AsyncClient(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=REQUEST_TIMEOUT, limits=limits
        )
        for url in urls
    ]


def assert_clean(outcomes: Sequence[Outcome]) -> None:
    """No transport error and no 5xx anywhere."""
    broken = [o for o in outcomes if o.error is not None or (o.status or 0) >= 500]
    assert not broken, broken[:5]


def order_body(channel: str, external_ref: str, lines: Sequence[tuple[str, int]]) -> dict[str, Any]:
    return {
        "channel": channel,
        "external_ref": external_ref,
        "currency": "EUR",
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": "9.99", "currency": "EUR"}} for sku, qty in lines
        ],
    }


def reserved_of(order: dict[str, Any], sku: str) -> int:
    """Units of ``sku`` the order holds (its active allocations)."""
    return sum(
        a["quantity"]
        for line in order["lines"]
        if line["sku"] == sku
        for a in line["allocations"]
        if a["status"] == "active"
    )


async def query(database_url: str, stmt: AnySelect) -> list[Any]:
    """Rows of one SELECT, read straight from the database."""
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return list(await session.execute(stmt))
    finally:
        await engine.dispose()


async def levels_of(database_url: str, sku: str) -> dict[str, tuple[int, int]]:
    """``{warehouse_id: (on_hand, reserved)}`` of one SKU."""
    rows = await query(
        database_url,
        select(StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
        .join(Sku, Sku.id == StockLevel.sku_id)
        .where(Sku.sku == sku),
    )
    return {str(r.warehouse_id): (int(r.on_hand), int(r.reserved)) for r in rows}


async def count(database_url: str, stmt: AnySelect) -> int:
    rows = await query(database_url, select(func.count()).select_from(stmt.subquery()))
    return int(rows[0][0])


@dataclass
class Shop:
    """A channel and two warehouses (``first`` preferred) seeded for one test, with a client per process."""

    database_url: str
    clients: list[httpx.AsyncClient]
    channel: str
    channel_id: uuid.UUID
    first: str
    second: str

    def client(self, n: int) -> httpx.AsyncClient:
        """Requests go round-robin over the API processes."""
        return self.clients[n % len(self.clients)]
