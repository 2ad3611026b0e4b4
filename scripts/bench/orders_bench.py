"""Order placement benchmark: the HTTP API under load, and the same SQL through pgbench.

    python scripts/bench/orders_bench.py --workers 2 --duration 20 --concurrency 64 [--pgbench] [--profile]

Steps: (re)create the PostgreSQL database ``oms_bench``, migrate it, seed a channel, 3 warehouses,
``--skus`` SKUs with large stock everywhere and ``--customers`` customers (straight SQL, with fixed
ids so that the pgbench script can name the same rows), make an admin key, count the SQL statements
of ONE order through the in-process app, start ``oms-api serve --workers N`` and drive it for
``--duration`` seconds with ``--concurrency`` keep-alive connections from a separate process
(``loadgen.py``: a closed-loop asyncio HTTP/1.1 client). Every request is a 3-line order over random
SKUs with Authorization and Idempotency-Key. With ``--pgbench``, ``order_pgbench.sql`` (the same
statements, in the same single transaction) then runs with the same concurrency on the same database,
and the ratio API/pgbench is printed. ``--profile`` samples the API workers with py-spy during the run
(``pip install -e '.[bench]'``) and prints where their time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import httpx
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from oms_api.app import create_app
from oms_api.catalog.models import Sku
from oms_api.channels.models import Channel
from oms_api.customers.models import Customer
from oms_api.kit.auth import create_api_key, hash_secret
from oms_api.kit.clock import utcnow
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.ids import uuid7
from oms_api.kit.migrations import upgrade
from oms_api.kit.secrets import KEY_ENV, generate_key
from oms_api.orders.models import Order, OrderLine
from oms_api.settings import Settings
from oms_api.stock.models import StockLevel, StockMovement, Warehouse

# The service refuses PostgreSQL without OMS_SECRET_KEY: a bench database is new each run, so a key of the run's own
# serves the in-process app and every process started here.
os.environ.setdefault(KEY_ENV, generate_key())

HERE = Path(__file__).resolve().parent
PGBENCH_SCRIPT = HERE / "order_pgbench.sql"
CHANNEL_CODE = "bench-web"
STOCK_PER_LEVEL = 1_000_000_000
WAREHOUSES = (("BENCH-A", 30), ("BENCH-B", 20), ("BENCH-C", 10))  # code, priority: A serves every order
TRANSACTION_CONTROL = re.compile(r"^\s*(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE|START TRANSACTION)\b", re.I)

# Fixed ids, readable from SQL: '<prefix>-0000-7000-8000-' || lpad(n, 12, '0'). The pgbench script builds them so.
SKU_PREFIX = "5c000000"
CUSTOMER_PREFIX = "c0000000"
CHANNEL_ID = uuid.UUID("ca000000-0000-7000-8000-000000000001")


def fixed_id(prefix: str, n: int) -> uuid.UUID:
    return uuid.UUID(f"{prefix}-0000-7000-8000-{n:012d}")


def level_prefix(warehouse_no: int) -> str:
    return f"1e00000{warehouse_no}"


def warehouse_id(warehouse_no: int) -> uuid.UUID:
    return fixed_id("3a000000", warehouse_no)


def sku_code(n: int) -> str:
    return f"BENCH-{n:05d}"


# --- database -----------------------------------------------------------------------------------


def urls(pg: str, name: str) -> tuple[str, str, str]:
    """(admin DSN for asyncpg, SQLAlchemy URL, libpq conninfo for pgbench) of database ``name``."""
    base = make_url(pg.replace("postgresql+asyncpg://", "postgresql://", 1))
    admin = base.set(database="postgres").render_as_string(hide_password=False)
    sa_url = base.set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)
    conninfo = base.set(database=name).render_as_string(hide_password=False)
    return admin, sa_url, conninfo


async def recreate_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn, timeout=10)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass
class Seeded:
    skus: int
    customers: int
    api_key_id: uuid.UUID
    secret: str


async def seed(url: str, skus: int, customers: int) -> Seeded:
    """Reference data with fixed ids, stock with its receipt rows in the ledger, and an admin key."""
    engine = create_engine(url)
    now = utcnow()
    try:
        async with session_scope(session_factory(engine)) as session:
            session.add(
                Channel(
                    id=CHANNEL_ID,
                    code=CHANNEL_CODE,
                    name="Bench web shop",
                    type="web",
                    default_currency="EUR",
                    active=True,
                )
            )
            for no, (code, priority) in enumerate(WAREHOUSES, start=1):
                session.add(
                    Warehouse(
                        id=warehouse_id(no),
                        code=code,
                        name=f"Bench warehouse {code}",
                        priority=priority,
                        address={"line1": "1 Dock Road", "city": "Berlin", "country": "DE"},
                    )
                )
            for n in range(1, skus + 1):
                session.add(Sku(id=fixed_id(SKU_PREFIX, n), sku=sku_code(n), name=f"Bench product {n}", weight_g=500))
            for n in range(1, customers + 1):
                session.add(
                    Customer(
                        id=fixed_id(CUSTOMER_PREFIX, n),
                        email=f"bench{n}@example.com",
                        first_name="Bench",
                        last_name=f"Customer {n}",
                    )
                )
            await session.flush()
            levels, movements = [], []
            for no in range(1, len(WAREHOUSES) + 1):
                for n in range(1, skus + 1):
                    sku_id = fixed_id(SKU_PREFIX, n)
                    levels.append(
                        StockLevel(
                            id=fixed_id(level_prefix(no), n),
                            sku_id=sku_id,
                            warehouse_id=warehouse_id(no),
                            on_hand=STOCK_PER_LEVEL,
                            reserved=0,
                        )
                    )
                    movements.append(
                        StockMovement(
                            id=uuid7(),
                            sku_id=sku_id,
                            warehouse_id=warehouse_id(no),
                            type="receipt",
                            on_hand_delta=STOCK_PER_LEVEL,
                            reserved_delta=0,
                            on_hand_after=STOCK_PER_LEVEL,
                            reserved_after=0,
                            reference="bench-seed",
                            actor="bench",
                            created_at=now,
                        )
                    )
            session.add_all(levels)
            session.add_all(movements)
            key, secret = await create_api_key(session, "bench", ["admin"])
            return Seeded(skus, customers, key.id, secret)
    finally:
        await engine.dispose()


async def ledger_replays(url: str) -> tuple[bool, int, int]:
    """(every level equals the sum of its ledger deltas, orders, order lines) — also after pgbench."""
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            sums = (
                select(
                    StockMovement.sku_id,
                    StockMovement.warehouse_id,
                    func.sum(StockMovement.on_hand_delta).label("on_hand"),
                    func.sum(StockMovement.reserved_delta).label("reserved"),
                )
                .group_by(StockMovement.sku_id, StockMovement.warehouse_id)
                .subquery()
            )
            wrong = (
                await session.execute(
                    select(func.count())
                    .select_from(StockLevel)
                    .join(sums, (sums.c.sku_id == StockLevel.sku_id) & (sums.c.warehouse_id == StockLevel.warehouse_id))
                    .where(
                        (sums.c.on_hand != StockLevel.on_hand)
                        | (sums.c.reserved != StockLevel.reserved)
                        | (StockLevel.reserved > StockLevel.on_hand)
                    )
                )
            ).scalar_one()
            orders = (await session.execute(select(func.count()).select_from(Order))).scalar_one()
            lines = (await session.execute(select(func.count()).select_from(OrderLine))).scalar_one()
            return wrong == 0, int(orders), int(lines)
    finally:
        await engine.dispose()


# --- statements of one order --------------------------------------------------------------------


def order_body(external_ref: str, customer: int, lines: list[tuple[int, int]]) -> dict[str, Any]:
    """The request body every client sends (loadgen.py builds the same one)."""
    return {
        "channel": CHANNEL_CODE,
        "external_ref": external_ref,
        "currency": "EUR",
        "customer": {"id": str(fixed_id(CUSTOMER_PREFIX, customer))},
        "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "lines": [
            {"sku": sku_code(n), "quantity": q, "unit_price": {"amount": "9.99", "currency": "EUR"}} for n, q in lines
        ],
    }


@dataclass
class StatementLog:
    statements: list[tuple[str, Any]] = field(default_factory=list)
    control: list[str] = field(default_factory=list)

    @property
    def work(self) -> list[tuple[str, Any]]:
        return [(s, p) for s, p in self.statements if not TRANSACTION_CONTROL.match(s)]


async def statements_of_one_order(url: str, seeded: Seeded) -> StatementLog:
    """Place one 3-line order through the in-process app and record every statement the engine runs."""
    app = create_app(Settings(database_url=url, log_level="warning", rate_limit_per_second=0))  # never throttled
    engine = app.state.db.engine.sync_engine
    log = StatementLog()
    recording = False

    def on_execute(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, many: bool) -> None:
        if recording:
            log.statements.append((statement, parameters))
            if TRANSACTION_CONTROL.match(statement):
                log.control.append(statement.split()[0].upper())

    def on_control(name: str) -> Any:
        def listener(*_args: Any) -> None:
            if recording:
                log.control.append(name)

        return listener

    event.listen(engine, "before_cursor_execute", on_execute)
    for name in ("begin", "commit", "rollback", "savepoint", "rollback_savepoint", "release_savepoint"):
        event.listen(engine, name, on_control(name.upper()))
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", headers={"Authorization": f"Bearer {seeded.secret}"}
        ) as client:
            warm = await client.post(
                "/v1/orders",
                json=order_body("probe-warm", 1, [(1, 1), (2, 1), (3, 1)]),
                headers={"Idempotency-Key": "probe-warm"},
            )  # fills caches, compiles
            _expect_created(warm)
            recording = True
            response = await client.post(
                "/v1/orders",
                json=order_body("probe", 2, [(4, 2), (250, 1), (499, 3)]),
                headers={"Idempotency-Key": "probe"},
            )
            recording = False
            _expect_created(response)
    finally:
        await app.state.db.engine.dispose()
    return log


def _expect_created(response: httpx.Response) -> None:
    if response.status_code != 201:
        raise SystemExit(f"the probe order was refused: {response.status_code} {response.text[:500]}")


def print_statements(log: StatementLog) -> None:
    print(
        f"\nSQL statements for one 3-line order: {len(log.work)} "
        f"(+ transaction control, not counted: {', '.join(log.control) or 'none'})"
    )
    for i, (statement, params) in enumerate(log.statements, start=1):
        text = " ".join(statement.split())
        marker = "  " if TRANSACTION_CONTROL.match(statement) else f"{i:2d}"
        print(f"  {marker}. {text[:400]}{' …' if len(text) > 400 else ''}")
        if params:
            shown = repr(params)
            print(f"        params: {shown[:300]}{' …' if len(shown) > 300 else ''}")


def shape(statement: str) -> str:
    """What a statement does, independent of how values are spelled: verb, table, rows, locked ids.

    Compares the captured statements with order_pgbench.sql, so that a change in the service that the
    pgbench script does not follow is reported instead of silently comparing different work.
    """
    text = " ".join(statement.split())
    if match := re.search(r"^INSERT INTO (\w+) \(([^)]*)\)", text):
        columns = len(match.group(2).split(","))
        if " VALUES " not in text:  # INSERT … SELECT (the Idempotency-Key's claim, under its advisory lock)
            return f"INSERT {match.group(1)} ({columns} columns) from SELECT"
        return f"INSERT {match.group(1)} ({columns} columns) x{_rows(text.split(' VALUES ', 1)[1])}"
    if match := re.search(r"^WITH locked AS \( ?SELECT id FROM (\w+) WHERE id = ANY\(.*? UPDATE (\w+) AS", text):
        return f"UPDATE {match.group(2)} locking {match.group(1)} rows first (arrays)"
    if match := re.search(r"^UPDATE (\w+)", text):
        return f"UPDATE {match.group(1)}"
    if text.startswith("SELECT "):
        columns, table = _select_parts(text)
        return f"SELECT {table} ({columns} columns)"
    return text.split(" ", 1)[0].upper()


def _select_parts(text: str) -> tuple[int, str]:
    """(number of selected columns, first table) of a SELECT, with subqueries in its column list skipped."""
    depth, commas = 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and char == ",":
            commas += 1
        elif depth == 0 and text.startswith(" FROM ", i):
            return commas + 1, text[i + 6 :].split(" ", 1)[0]
    return commas + 1, "?"


def _rows(values: str) -> int:
    """How many parenthesised rows a VALUES list has (quotes and nested calls skipped)."""
    rows = depth = 0
    quoted = False
    for char in values:
        if char == "'":
            quoted = not quoted
        elif quoted:
            continue
        elif char == "(":
            rows += depth == 0
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and char.isalpha():
            break
    return rows


def pgbench_statements(path: Path = PGBENCH_SCRIPT) -> list[str]:
    """The SQL commands of a pgbench script (meta-commands and comments left out; one command per line)."""
    return [
        line.removesuffix("\\gset").strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith(("--", "\\"))
    ]


def compare_with_pgbench(log: StatementLog) -> list[str]:
    """Differences between the service's statements and the pgbench script's (empty when they match)."""
    service = [shape(s) for s, _ in log.statements if not TRANSACTION_CONTROL.match(s)]
    script = [shape(s) for s in pgbench_statements() if not TRANSACTION_CONTROL.match(s)]
    if service == script:
        return []
    width = max(len(x) for x in service + script)
    rows = [f"  {'service':<{width}}  order_pgbench.sql"]
    for i in range(max(len(service), len(script))):
        mine = service[i] if i < len(service) else "-"
        theirs = script[i] if i < len(script) else "-"
        rows.append(f"{'  ' if mine == theirs else '! '}{mine:<{width}}  {theirs}")
    return rows


# --- the server and the load --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_server(url: str, workers: int, workdir: Path, pool_size: int, overflow: int) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    metrics_dir = workdir / "metrics"
    env.update(
        OMS_DATABASE_URL=url,
        OMS_LOG_LEVEL="warning",
        OMS_AUTO_MIGRATE="false",
        OMS_DB_POOL_SIZE=str(pool_size),
        OMS_DB_MAX_OVERFLOW=str(overflow),
        OMS_RATE_LIMIT_PER_SECOND="0",  # a benchmark measures the service, not its rate limit
        OMS_SECRET_KEY=os.environ[KEY_ENV],
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
    )
    log_path = workdir / "server.log"
    with log_path.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "oms_api.cli", "serve", "--workers", str(workers), "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
            start_new_session=True,
        )
    server = Server(process, port, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited:\n{log_path.read_text()}")
        try:
            if httpx.get(f"{server.url}/healthz", timeout=1).status_code == 200:
                time.sleep(1.0 if workers > 1 else 0)  # let every worker come up, not just the first
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    stop_server(server)
    raise SystemExit(f"the server did not answer /healthz:\n{log_path.read_text()}")


def worker_pids(server: Server) -> list[int]:
    """The uvicorn worker processes (children of the master)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.process.pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU time of each process so far (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        found[pid] = (int(fields[11]) + int(fields[12])) / ticks
    return found


def postgres_pids(conninfo: str) -> list[int]:
    """Server processes of the bench database (its backends), to account PostgreSQL's CPU per order."""
    out = subprocess.run(
        [
            "psql",
            conninfo,
            "-Atc",
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
        ],
        capture_output=True,
        text=True,
    )
    return [int(p) for p in out.stdout.split()]


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)  # our own session: the master and its workers
            server.process.wait(timeout=5)


def run_loadgen(server: Server, seeded: Seeded, args: argparse.Namespace) -> dict[str, Any]:
    config = {
        "url": server.url,
        "token": seeded.secret,
        "concurrency": args.concurrency,
        "duration": args.duration,
        "warmup": args.warmup,
        "skus": seeded.skus,
        "customers": seeded.customers,
        "channel": CHANNEL_CODE,
        "customer_prefix": CUSTOMER_PREFIX,
        "ramp_ms": args.ramp_ms,
    }
    done = subprocess.run(
        [sys.executable, str(HERE / "loadgen.py"), json.dumps(config)],
        capture_output=True,
        text=True,
        timeout=args.duration + args.warmup + 120,
    )
    if done.returncode != 0:
        raise SystemExit(f"loadgen failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def profile_command(server: Server, seconds: int, out: Path) -> list[str]:
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        raise SystemExit("--profile needs py-spy: pip install -e '.[bench]'")
    return [
        py_spy,
        "record",
        "--pid",
        str(server.process.pid),
        "--subprocesses",
        "--format",
        "raw",
        "--rate",
        "200",
        "--duration",
        str(seconds),
        "--nonblocking",
        "--output",
        str(out),
    ]


PACKAGES = {
    "sqlalchemy": "SQLAlchemy",
    "asyncpg": "asyncpg",
    "oms_api": "oms_api (app code)",
    "fastapi": "framework",
    "starlette": "framework",
    "uvicorn": "framework",
    "pydantic": "pydantic",
    "json": "json",
    "asyncio": "asyncio",
}


def summarize_profile(raw: Path, top: int = 25) -> str:
    """Where the workers' samples go: self time by package, app functions (inclusive), hottest functions.

    SQLAlchemy runs statements in greenlets, which py-spy shows as stacks of their own (rooted at
    ``Session.execute``), so the inclusive share of an app function leaves out most of its SQL.
    """
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        stack = re.sub(r'^(process \d+:"[^"]*";?)+', "", stack)  # py-spy --subprocesses: master, then worker
        frames = [f for f in stack.split(";") if f]
        if not frames:
            continue
        total += samples
        for frame in set(frames):
            inclusive[_frame(frame)] += samples
        leaf = _frame(frames[-1])
        own[leaf] += samples
        packages[next((v for k, v in PACKAGES.items() if f"({k}" in leaf or f"/{k}" in leaf), "other")] += samples
    if not total:
        return "no samples"

    def share(samples: int) -> str:
        return f"{100 * samples / total:5.1f}%"

    lines = [f"{total} samples in the workers. Self time by package:"]
    lines += [f"  {share(n)}  {name}" for name, n in packages.most_common()]
    lines.append("app functions, inclusive (their SQL mostly runs in separate greenlet stacks, see above):")
    lines += [f"  {share(n)}  {name}" for name, n in inclusive.most_common() if "(oms_api" in name][:top]
    lines.append("hottest functions (self):")
    lines += [f"  {share(n)}  {name}" for name, n in own.most_common(15)]
    return "\n".join(lines)


def _frame(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module path, without the line)``."""
    name, _, where = frame.partition(" (")
    path = where.rsplit(":", 1)[0]
    for marker in ("site-packages/", "src/", "lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{name} ({path})"


# --- pgbench --------------------------------------------------------------------------------------


def run_pgbench(conninfo: str, seeded: Seeded, clients: int, jobs: int, duration: int) -> dict[str, Any]:
    pgbench = shutil.which("pgbench")
    if pgbench is None:
        raise SystemExit("pgbench is not installed (apt-get install postgresql-client)")
    command = [
        pgbench,
        "--no-vacuum",
        "--protocol=prepared",
        f"--client={clients}",
        f"--jobs={jobs}",
        f"--time={duration}",
        f"--file={PGBENCH_SCRIPT}",
        "--define",
        f"key_hash={hash_secret(seeded.secret)}",
        "--define",
        f"api_key_id={seeded.api_key_id}",
        "--define",
        f"channel={CHANNEL_CODE}",
        "--define",
        f"skus={seeded.skus}",
        "--define",
        f"customers={seeded.customers}",
        conninfo,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 120)
    if done.returncode != 0:
        raise SystemExit(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", done.stdout)
    latency = re.search(r"latency average = ([0-9.]+) ms", done.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", done.stdout)
    return {
        "tps": float(tps.group(1)) if tps else 0.0,
        "latency_avg_ms": float(latency.group(1)) if latency else None,
        "failed": int(failed.group(1)) if failed else 0,
        "output": done.stdout,
        "command": " ".join([*command[:-1], make_url(conninfo).render_as_string(hide_password=True)]),
    }


# --- main -----------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=2, help="API worker processes (default 2)")
    parser.add_argument("--duration", type=int, default=20, help="measured seconds of load (default 20)")
    parser.add_argument("--warmup", type=int, default=3, help="seconds of load before measuring (default 3)")
    parser.add_argument("--concurrency", type=int, default=64, help="open connections / pgbench clients (64)")
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--customers", type=int, default=1000)
    parser.add_argument(
        "--pg",
        default=os.environ.get("OMS_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server (default postgresql://postgres@127.0.0.1:5432)",
    )
    parser.add_argument("--db-name", default="oms_bench")
    parser.add_argument("--pool-size", type=int, default=10, help="OMS_DB_POOL_SIZE per worker (default 10)")
    parser.add_argument("--max-overflow", type=int, default=10, help="OMS_DB_MAX_OVERFLOW per worker (default 10)")
    parser.add_argument("--pgbench", action="store_true", help="then run order_pgbench.sql and print the ratio")
    parser.add_argument("--pgbench-clients", type=int, help="pgbench clients (default: --concurrency)")
    parser.add_argument("--pgbench-jobs", type=int, default=os.cpu_count() or 1, help="pgbench threads (default: CPUs)")
    parser.add_argument("--ramp-ms", type=float, default=20, help="pause between opening connections (20 ms)")
    parser.add_argument("--profile", action="store_true", help="sample the workers with py-spy during the run")
    parser.add_argument("--statements-only", action="store_true", help="seed, count statements of one order, stop")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    admin_dsn, url, conninfo = urls(args.pg, args.db_name)
    started = time.monotonic()
    asyncio.run(recreate_database(admin_dsn, args.db_name))
    upgrade(url)
    seeded = asyncio.run(seed(url, args.skus, args.customers))
    print(
        f"Seeded {args.db_name}: {args.skus} SKUs x {len(WAREHOUSES)} warehouses, {args.customers} customers "
        f"({time.monotonic() - started:.1f}s)"
    )
    log = asyncio.run(statements_of_one_order(url, seeded))
    print_statements(log)
    figures: dict[str, Any] = {"statements_per_order": len(log.work), "transaction_control": log.control}
    mismatch = compare_with_pgbench(log)
    figures["pgbench_script_matches"] = not mismatch
    if mismatch:
        print("\nWARNING: order_pgbench.sql no longer issues the service's statements:\n" + "\n".join(mismatch))
    else:
        print(f"order_pgbench.sql issues the same statements: {', '.join(shape(s) for s, _ in log.work)}")
    if args.statements_only:
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="oms-bench-"))
    server = start_server(url, args.workers, workdir, args.pool_size, args.max_overflow)
    profiler = None
    try:
        if args.profile:
            raw = workdir / "profile.txt"
            profiler = subprocess.Popen(
                profile_command(server, args.warmup + args.duration, raw),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        print(
            f"\nLoad: {args.concurrency} connections, {args.warmup}s warm-up + {args.duration}s measured, "
            f"oms-api serve --workers {args.workers} (pid {server.process.pid}) on {server.url}"
        )
        workers = worker_pids(server) or [server.process.pid]
        before = cpu_seconds(workers)
        load = run_loadgen(server, seeded, args)
        spent = {pid: cpu - before.get(pid, 0.0) for pid, cpu in cpu_seconds(workers).items()}
        pg_spent = sum(cpu_seconds(postgres_pids(conninfo)).values())  # the API's backends, opened during the run
        if profiler is not None:
            profiler.wait(timeout=60)
    finally:
        stop_server(server)
        if profiler is not None and profiler.poll() is None:
            profiler.terminate()
    problems = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if "Traceback" in line or "ERROR" in line
    ]
    figures["api"] = load
    handled = max(1, load["all_requests"])
    load["worker_cpu_s"] = {str(pid): round(cpu, 2) for pid, cpu in spent.items()}
    load["worker_cpu_ms_per_order"] = 1000 * sum(spent.values()) / handled
    load["postgres_cpu_ms_per_order"] = 1000 * pg_spent / handled
    print(
        f"API: {load['orders_per_s']:.1f} orders/s, p50 {load['p50_ms']:.1f} ms, p99 {load['p99_ms']:.1f} ms, "
        f"{load['ok']} placed, errors {load['errors'] or 'none'} (loadgen CPU {load['cpu_s']:.1f}s)"
    )
    print(
        f"CPU per order: API workers {load['worker_cpu_ms_per_order']:.2f} ms "
        f"(CPU s of each process under the master: {load['worker_cpu_s']}), "
        f"PostgreSQL backends {load['postgres_cpu_ms_per_order']:.2f} ms"
    )
    if problems:
        print(f"server log: {len(problems)} error lines, first: {problems[0][:300]}")
    if args.profile:
        raw = workdir / "profile.txt"
        summary = summarize_profile(raw) if raw.exists() else "py-spy wrote nothing"
        figures["profile"] = summary
        print(f"\nProfile (py-spy, {raw}):\n{summary}")

    if args.pgbench:
        clients = args.pgbench_clients or args.concurrency
        bench = run_pgbench(conninfo, seeded, clients, args.pgbench_jobs, args.duration)
        figures["pgbench"] = {k: v for k, v in bench.items() if k != "output"}
        print(f"\npgbench ({bench['command']}):\n{bench['output'].strip()}")
    ok, orders, lines = asyncio.run(ledger_replays(url))
    print(f"\nAfter the runs: {orders} orders, {lines} lines; ledger replays to every level: {'yes' if ok else 'NO'}")

    print("\n=== summary ===")
    print(f"API orders/s          {load['orders_per_s']:.1f}  (workers {args.workers}, {args.concurrency} connections)")
    print(f"API p50 / p99         {load['p50_ms']:.1f} ms / {load['p99_ms']:.1f} ms")
    print(f"API errors            {load['errors'] or 'none'}, transport errors {load['transport_errors'] or 'none'}")
    print(
        f"CPU per order         API workers {load['worker_cpu_ms_per_order']:.2f} ms, "
        f"PostgreSQL backends {load['postgres_cpu_ms_per_order']:.2f} ms"
    )
    print(f"statements per order  {len(log.work)}  (target <= 12; plus {len(log.control)} transaction control)")
    if args.pgbench:
        tps = figures["pgbench"]["tps"]
        ratio = load["orders_per_s"] / tps if tps else 0.0
        figures["ratio"] = ratio
        print(f"pgbench tps           {tps:.1f}  (clients {clients}, failed {figures['pgbench']['failed']})")
        print(f"ratio API/pgbench     {ratio:.3f}  (target >= 0.25)")
        if mismatch:
            print("                      (NOT comparable: the pgbench script differs from the service, see above)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))
    return 0 if ok and not load["transport_errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
