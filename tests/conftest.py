"""Test fixtures: every API test runs on SQLite and on PostgreSQL, each in a fresh database.

SQLite databases are copies of a file migrated once; PostgreSQL databases are made with
``CREATE DATABASE … TEMPLATE`` from a database migrated once per xdist worker. PostgreSQL is
required: when it cannot be reached the PostgreSQL half fails loudly instead of skipping.
Set ``OMS_TEST_DATABASES=sqlite`` to run the SQLite half alone on purpose (CI never does).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from oms_api.app import create_app
from oms_api.bootstrap import bootstrap
from oms_api.kit import secrets
from oms_api.kit.auth import Scope, create_api_key
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.migrations import upgrade
from oms_api.settings import Settings
from tests.support import ownership
from tests.support.keys import TEST_SECRET_KEY

PG_ADMIN_DSN = os.environ.get("OMS_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASES = [d for d in os.environ.get("OMS_TEST_DATABASES", "sqlite,postgresql").split(",") if d]
# Every Settings a test builds has the run's key (the service refuses PostgreSQL without one), unless a test
# removes it on purpose (monkeypatch.delenv) to see what happens without a key.
os.environ[secrets.KEY_ENV] = TEST_SECRET_KEY
os.environ.pop(secrets.PREVIOUS_KEY_ENV, None)
# Rate limits are off in tests that do not test them (a contract walk makes hundreds of requests and 401s from
# one address); the rate-limit tests build Settings with their own limits.
for _limit in ("RATE_LIMIT_PER_SECOND", "AUTH_FAILURE_RATE_PER_SECOND", "INBOUND_RATE_LIMIT_PER_SECOND"):
    os.environ[f"OMS_{_limit}"] = "0"


def pg_url(dbname: str) -> str:
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return f"{base}/{dbname}"


async def pg_admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=10)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL is not reachable at {PG_ADMIN_DSN} ({exc}). Start it (pg_ctlcluster "
            "--skip-systemctl-redirect $(ls /etc/postgresql) main start) or set "
            "OMS_TEST_DATABASES=sqlite to run the SQLite half alone.",
            pytrace=False,
        )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """Every test process is wired as the service is: event types sealed, the bus's reactions subscribed; and
    every write it makes is watched for a context writing another's table (``tests.support.ownership``)."""
    bootstrap()
    ownership.install()
    secrets.configure(secrets.Keyring(TEST_SECRET_KEY))  # for use cases a test calls without an app


@pytest.fixture(autouse=True)
def _tables_written_by_their_owners() -> Iterator[None]:
    ownership.take()
    yield
    assert ownership.take() == [], "a context wrote a table it does not own"


def blocking(coro: Coroutine[Any, Any, None]) -> None:
    """Run ``coro`` to completion on a private loop (session fixtures are set up inside a running loop)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, coro).result()


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"oms_test_tpl_{_worker()}_{os.getpid()}"
    blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    blocking(pg_admin(f'CREATE DATABASE "{name}"'))
    upgrade(pg_url(name))
    yield name
    blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=DATABASES)
def db_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(request: pytest.FixtureRequest, db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    if db_kind == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "oms.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    template_name: str = request.getfixturevalue("pg_template")
    name = f"oms_test_{uuid.uuid4().hex[:16]}"
    await pg_admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    try:
        yield pg_url(name)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="warning",
        db_pool_size=5,
        db_max_overflow=5,
        secret_key=SecretStr(TEST_SECRET_KEY),
        rate_limit_per_second=0,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[object]:
    application = create_app(settings)
    yield application
    await application.state.db.engine.dispose()


@pytest.fixture
async def client(app: object) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as c:
        yield c


class KeyMaker:
    """Makes API keys straight in the database (as ``oms-api api-keys create`` does)."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    async def __call__(self, *scopes: str, name: str = "test") -> str:
        engine = create_engine(self.database_url)
        try:
            async with session_scope(session_factory(engine)) as session:
                _, secret = await create_api_key(session, name, list(scopes))
        finally:
            await engine.dispose()
        return secret


@pytest.fixture
def make_key(database_url: str) -> KeyMaker:
    return KeyMaker(database_url)


@pytest.fixture
async def api(client: httpx.AsyncClient, make_key: KeyMaker) -> httpx.AsyncClient:
    """The client, authenticated with an admin key."""
    client.headers["Authorization"] = f"Bearer {await make_key(Scope.ADMIN.value, name='admin')}"
    return client
