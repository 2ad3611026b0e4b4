"""Engine, sessions and the declarative base shared by every context.

SQLite is the embedded default. To make concurrent writers queue instead of failing with
"database is locked", every transaction starts with ``BEGIN IMMEDIATE`` (the write lock is
taken up front, waiting up to the busy timeout), the journal is WAL so readers never block,
and foreign keys are enforced. PostgreSQL runs at READ COMMITTED; stock changes rely on
conditional updates, not on the isolation level.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool
from sqlalchemy.types import TypeDecorator

from oms_api.kit.clock import utcnow
from oms_api.kit.ids import uuid7

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC, also on SQLite (which stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention (stable migration names)."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UtcDateTime()}


class IdMixin:
    """A time-ordered UUID primary key made by the application."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid7)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class VersionMixin:
    """Optimistic concurrency: bumped on every change, exposed as ``version`` and ``ETag``."""

    version: Mapped[int] = mapped_column(default=1)


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def json_dumps(value: Any) -> str:
    """JSON columns' serializer: orjson (several times faster than the standard library on the event and
    snapshot payloads every write carries), falling back to ``json`` for what orjson refuses (integers
    beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value)


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, busy_timeout_ms: int = 30_000, **kwargs: Any
) -> AsyncEngine:
    """An async engine configured for the database behind ``url``.

    ``hide_parameters``: a statement's parameters are customers' names, addresses and e-mails; SQLAlchemy
    would print them in every error message (``[parameters: …]``) and in its SQL echo. Always hidden.
    """
    kwargs.setdefault("json_serializer", json_dumps)
    kwargs["hide_parameters"] = True
    if is_sqlite(url):
        # One connection per use: pooled SQLite connections gain little and keep file locks alive.
        engine = create_async_engine(
            url, poolclass=NullPool, connect_args={"timeout": busy_timeout_ms / 1000}, **kwargs
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    engine = create_async_engine(url, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=False, **kwargs)
    # Batch executemany INSERTs into one multi-row statement even without RETURNING (see kit.bulk.insert_rows).
    engine.sync_engine.dialect.use_insertmanyvalues_wo_returning = True
    return engine


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session committed on success and rolled back on error (CLI and worker use)."""
    async with factory() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise
