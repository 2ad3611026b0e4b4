"""Which database failures are "the database is away" (503) and which are bugs (500)."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from oms_api.kit.db_errors import is_unavailable, unavailable


def wrapped(orig: BaseException, *, invalidated: bool = False) -> DBAPIError:
    return DBAPIError("SELECT 1", None, orig, connection_invalidated=invalidated)  # type: ignore[arg-type]


def test_connection_failures_are_unavailability() -> None:
    assert is_unavailable(ConnectionRefusedError(111, "refused"))
    assert is_unavailable(PoolTimeout("QueuePool limit reached"))
    assert is_unavailable(wrapped(Exception("closed in the middle of operation"), invalidated=True))
    assert is_unavailable(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert is_unavailable(wrapped(asyncpg.AdminShutdownError("terminating connection")))
    assert is_unavailable(wrapped(asyncpg.TooManyConnectionsError("too many clients")))


def test_errors_the_database_answered_are_not() -> None:
    assert not is_unavailable(IntegrityError("INSERT", None, Exception("duplicate key")))  # type: ignore[arg-type]
    assert not is_unavailable(wrapped(asyncpg.UniqueViolationError("duplicate key")))
    assert not is_unavailable(ValueError("bad"))
    assert not is_unavailable(FileNotFoundError(2, "missing"))


def test_a_cause_chain_is_followed_without_looping() -> None:
    outer = RuntimeError("request failed")
    inner = ConnectionResetError(104, "reset")
    outer.__cause__ = inner
    inner.__context__ = outer
    assert is_unavailable(outer)


def test_the_problem_says_when_to_retry() -> None:
    problem = unavailable()
    assert (problem.status, problem.code, problem.headers["Retry-After"]) == (503, "database_unavailable", "1")
