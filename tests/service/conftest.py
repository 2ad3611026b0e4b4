"""Service-level tests: use cases called directly on a real session of a fresh, migrated SQLite database, no HTTP.

Each ``tx()`` is one transaction as ``kit.routing.OmsRoute`` runs one: the use case, then the buffered events
written, then one commit (a failure rolls everything back, events included).
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.kit import outbox
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.principal import Principal, Scope
from oms_api.settings import Settings

Transaction = Callable[[], AbstractAsyncContextManager[AsyncSession]]

ACTOR = Principal(api_key_id=uuid.UUID(int=7), name="service-test", scopes=frozenset({Scope.ADMIN.value}))


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "service.db"
    shutil.copyfile(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def service_settings(sqlite_url: str) -> Settings:
    return Settings(database_url=sqlite_url, log_level="warning")


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(sqlite_url)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def tx(sessions: async_sessionmaker[AsyncSession]) -> Transaction:
    @asynccontextmanager
    async def transaction() -> AsyncIterator[AsyncSession]:
        async with sessions() as session:
            try:
                yield session
                await outbox.flush_events(session)
                await session.commit()
            except BaseException:
                outbox.discard_events(session)
                await session.rollback()
                raise

    return transaction
