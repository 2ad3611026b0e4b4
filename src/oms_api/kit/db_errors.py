"""Telling "the database is not there" apart from every other database error.

While PostgreSQL restarts or fails over, a request meets one of a few shapes of failure: a pooled
connection that the server closed (SQLAlchemy marks it ``connection_invalidated``), a refused or reset
socket on connect, or a server that says it is shutting down or starting up (SQLSTATE class 08, 57P0x,
or 53300 when it has no connection left). None of these is the client's fault or a bug: the answer is
503 with ``Retry-After``, and the pool recovers on its own once the server is back (SQLAlchemy discards
every connection older than the first disconnect it sees), so the service never needs a restart.
"""

from __future__ import annotations

import socket

import asyncpg
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from oms_api.kit.errors import OmsError

# Exception classes whose handler decides between 503 (the database is away) and 500 (anything else).
# Handled by class, these never reach Starlette's last-resort handler, which would log them again as
# "Exception in ASGI application" with a traceback on every request while the database is down.
CONNECTIVITY_ERRORS: tuple[type[Exception], ...] = (
    DBAPIError,
    PoolTimeout,
    ConnectionError,
    TimeoutError,
    socket.gaierror,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)
_UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}
RETRY_AFTER_SECONDS = 1


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception, what SQLAlchemy wrapped, and its causes (bounded: chains can be cyclic)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo and len(seen) < 8:
        current = todo.pop()
        if current is None or any(current is s for s in seen):
            continue
        seen.append(current)
        todo.extend((getattr(current, "orig", None), current.__cause__, current.__context__))
    return seen


def is_unavailable(exc: BaseException) -> bool:
    """The database could not be reached or went away mid-request (nothing the client sent caused it)."""
    for link in _chain(exc):
        if isinstance(link, DBAPIError) and link.connection_invalidated:
            return True
        if isinstance(link, PoolTimeout | ConnectionError | TimeoutError | socket.gaierror):
            return True  # refused, reset, timed out, unknown host; or no pooled connection came free
        sqlstate = getattr(link, "sqlstate", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _UNAVAILABLE_SQLSTATES):
            return True
        if type(link).__name__ == "InterfaceError" and "connection is closed" in str(link):
            return True
    return False


def unavailable() -> OmsError:
    """The problem answered while the database is away."""
    return OmsError(
        "The database is unavailable; retry shortly (with the same Idempotency-Key for writes)",
        status=503,
        code="database_unavailable",
        title="Service unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
