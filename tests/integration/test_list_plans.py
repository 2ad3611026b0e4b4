"""Every list reads an index that serves both its filter and its order, on a database big enough to matter.

A list orders by ``id`` (its cursor) and filters; without an index on (filter, id) PostgreSQL walks the primary
key and discards the rows that do not match (at a million orders: 980,907 rows for one page of confirmed
orders of a channel), or reads every match and sorts them. No test can time that honestly, but the plans can be
pinned. ``tests.support.growth`` loads 40,000 orders shaped like a store's (the rows a filter asks for are
recent and rare) and ANALYZEs them; each list request then runs through the real app, every SELECT it sends
is captured as sent (SQL and parameters, so nothing is copied by hand and nothing can drift) and explained
with ANALYZE twice: as the planner plans it for these values, and as a generic plan (``force_generic_plan``),
which is what a prepared statement becomes after a few runs. Each plan must read the list's table through the
expected index, sort nothing (or a bounded few rows where the filter is a range), scan no big table
sequentially and discard no rows with a filter.

The growth benchmark (``scripts/bench/growth_bench.py``) times the same requests at 10k and 1M orders.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import event

from oms_api.app import create_app
from oms_api.kit.auth import Scope
from oms_api.kit.clock import utcnow
from oms_api.settings import Settings
from tests.conftest import DATABASES, KeyMaker, blocking, pg_admin, pg_url
from tests.support import growth

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

ORDERS = 40_000
BIG_TABLE = 5_000  # rows from which a sequential scan is a finding
PAGE = 51  # rows a page reads (limit 50, plus one to know whether more follow): the list's own may sort this many
MOST_SORTED = 1_000  # rows a statement other than the list's own may sort (a page's lines, say)
MOST_DISCARDED = 1_000  # rows a statement other than the list's own may discard with a filter


@dataclass(frozen=True)
class Grown:
    url: str
    token: str
    store: growth.Store


def _settings(url: str) -> Settings:
    return Settings(database_url=url, log_level="warning", webhooks_allow_private_networks=True)


async def _grow(url: str, out: list[Grown]) -> None:
    token = await KeyMaker(url)(Scope.ADMIN.value, name="plans")
    app = create_app(_settings(url))
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as api:
            api.headers["Authorization"] = f"Bearer {token}"
            endpoints = []
            for types in (["*"], ["order.*"]):
                made = await api.post(
                    "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": types}
                )
                assert made.status_code == 201, made.text
                endpoints.append(uuid.UUID(made.json()["id"]))
    finally:
        await app.state.db.engine.dispose()
    conn = await asyncpg.connect(_dsn(url))
    try:
        store = await growth.load(conn, ORDERS, utcnow(), (endpoints[0], endpoints[1]), lambda _: None)
    finally:
        await conn.close()
    out.append(Grown(url, token, store))


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture(scope="module")
def grown(request: pytest.FixtureRequest) -> Iterator[Grown]:
    """One database grown to ``ORDERS`` orders for the module, dropped whatever happens."""
    if "postgresql" not in DATABASES:
        pytest.skip("OMS_TEST_DATABASES excludes postgresql")
    template: str = request.getfixturevalue("pg_template")
    name = f"oms_plans_{uuid.uuid4().hex[:16]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        out: list[Grown] = []
        blocking(_grow(pg_url(name), out))
        yield out[0]
    finally:
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def explainer(grown: Grown) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(_dsn(grown.url))
    try:
        yield conn
    finally:
        await conn.close()


# --- running a request and catching its statements ---------------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    sql: str
    params: tuple[Any, ...]
    with_values: bool  # planned for its values (``plan_cache_mode`` forced), else possibly a generic plan


async def _statements(grown: Grown, case: growth.Case) -> list[Sent]:
    """The SELECTs the app sends for ``case``'s request, exactly as sent (SQL text and parameters)."""
    app = create_app(_settings(grown.url))
    sent: list[Sent] = []
    custom = False

    def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        nonlocal custom
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            sent.append(Sent(statement, tuple(parameters or ()), custom))
        custom = custom or "plan_cache_mode = force_custom_plan" in statement

    event.listen(app.state.db.engine.sync_engine, "before_cursor_execute", catch)
    try:
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {grown.token}", "Idempotency-Key": str(uuid.uuid4())}
        async with httpx.AsyncClient(transport=transport, base_url="http://oms.test", headers=headers) as api:
            response = await api.request(case.method, case.path, params=case.params, json=case.body)
        assert response.status_code < 300, response.text
    finally:
        await app.state.db.engine.dispose()
    return sent


def _literal(value: Any) -> str:
    """A parameter written as SQL, for ``EXECUTE`` of a prepared statement (values from the test's own data)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    if isinstance(value, uuid.UUID | datetime | str):
        text = value.isoformat() if isinstance(value, datetime) else str(value)
        return "'" + text.replace("'", "''") + "'"
    raise TypeError(f"no literal for {type(value).__name__}")


async def _plans(conn: asyncpg.Connection, sent: Sent) -> dict[str, dict[str, Any]]:
    """The plan for these values and, unless the app forces those, the generic plan of the prepared statement
    (what asyncpg's prepared statements may get after five runs); both run (ANALYZE)."""
    sql, params = sent.sql, sent.params
    custom = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", *params)
    if sent.with_values:
        return {"custom": json.loads(custom)[0]["Plan"]}
    await conn.execute(f"PREPARE listed AS {sql}")
    try:
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        arguments = f"({', '.join(map(_literal, params))})" if params else ""
        generic = await conn.fetchval(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE listed{arguments}")
    finally:
        await conn.execute("RESET plan_cache_mode; DEALLOCATE listed")
    return {"custom": json.loads(custom)[0]["Plan"], "generic": json.loads(generic)[0]["Plan"]}


# --- reading plans ------------------------------------------------------------------------------------------------


def _nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def _total(node: dict[str, Any], key: str) -> float:
    return float(node.get(key, 0)) * float(node.get("Actual Loops", 1))


def _indexes_of(node: dict[str, Any]) -> set[str]:
    """The indexes a scan of a table reads (several for a bitmap scan; ``Seq Scan`` when none)."""
    if node["Node Type"] == "Bitmap Heap Scan":
        return {n["Index Name"] for n in _nodes(node) if n["Node Type"] == "Bitmap Index Scan"}
    return {str(node.get("Index Name", node["Node Type"]))}


def _findings(plan: dict[str, Any], case: growth.Case, sizes: dict[str, int]) -> tuple[set[str], list[str]]:
    """The indexes this plan reads ``case.table`` through, and what is wrong with it."""
    reads_table = any(n.get("Relation Name") == case.table for n in _nodes(plan))
    used: set[str] = set()
    wrong: list[str] = []
    for node in _nodes(plan):
        kind, relation = node["Node Type"], node.get("Relation Name")
        if relation == case.table:
            indexes = _indexes_of(node)
            used |= indexes
            if not indexes <= set(case.indexes):
                wrong.append(f"reads {relation} through {indexes}, not {' or '.join(case.indexes) or 'nothing'}")
            if _total(node, "Rows Removed by Filter"):
                wrong.append(f"{kind} on {indexes} discards {_total(node, 'Rows Removed by Filter'):.0f} rows")
        elif kind == "Seq Scan" and sizes.get(str(relation), 0) > BIG_TABLE:
            wrong.append(f"Seq Scan on {relation} ({sizes[str(relation)]} rows)")
        elif _total(node, "Rows Removed by Filter") > MOST_DISCARDED:
            wrong.append(f"{kind} on {relation} discards {_total(node, 'Rows Removed by Filter'):.0f} rows")
        if kind in ("Sort", "Incremental Sort"):
            most = (case.sort_rows or PAGE) if reads_table else MOST_SORTED
            sorted_rows = sum(_total(child, "Actual Rows") for child in node.get("Plans", []))
            if sorted_rows > most:
                wrong.append(f"sorts {sorted_rows:.0f} rows (at most {most})")
    return used, wrong


ALL_CASES = [case.name for case in growth.cases(growth.PLACEHOLDER)] + [growth.replay_case(growth.PLACEHOLDER).name]


@pytest.mark.parametrize("name", ALL_CASES)
async def test_the_list_reads_an_index_that_serves_its_filter_and_its_order(
    grown: Grown, explainer: asyncpg.Connection, name: str
) -> None:
    case = {c.name: c for c in [*growth.cases(grown.store), growth.replay_case(grown.store)]}[name]
    sizes = {
        row["relname"]: int(row["reltuples"])
        for row in await explainer.fetch("SELECT relname, reltuples FROM pg_class WHERE relkind = 'r'")
    }
    problems, used = [], set()
    for sent in await _statements(grown, case):
        for mode, plan in (await _plans(explainer, sent)).items():
            indexes, wrong = _findings(plan, case, sizes)
            used |= indexes
            problems += [f"{mode} plan of …{sent.sql[-160:]!r}: {w}" for w in wrong]
    assert not problems, "\n".join(problems)
    assert used == set(case.indexes), f"{case.table} was read through {used or 'nothing'}, not {case.indexes}"
