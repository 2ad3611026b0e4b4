"""What every command shares: the one-line failure, argument types, and a session for one piece of work."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.settings import Settings

T = TypeVar("T")


class CommandError(Exception):
    """A failure worth one clear line on stderr (exit 1), not a traceback."""


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def key_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a key id (a UUID)") from None


def first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def missing_table(exc: BaseException) -> bool:
    text = str(exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def redacted(url: str) -> str:
    """The database URL without its password, fit for printing."""
    return make_url(url).render_as_string(hide_password=True)


def with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on a short-lived engine."""

    async def run() -> T:
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            async with session_scope(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())
