"""``OmsRoute``: one request, one transaction, retried on deadlock or serialization failure.

The route opens the session, runs the endpoint (whose dependencies authenticate and may
claim an Idempotency-Key), then, before the response leaves, writes buffered domain events,
stores the idempotent result and commits. Any failure rolls back and releases the claim.
SQLSTATE 40001/40P01 (and SQLite's "locked") rerun the whole request a few times.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError

from oms_api.kit import idempotency, outbox
from oms_api.settings import Settings

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

RETRYABLE_SQLSTATES = {"40001", "40P01"}


def is_retryable(exc: BaseException) -> bool:
    """Deadlocks and serialization failures are safe to retry: the transaction did nothing."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate is None:  # asyncpg errors reach us wrapped once more
        sqlstate = getattr(getattr(orig, "__cause__", None), "sqlstate", None)
    return sqlstate in RETRYABLE_SQLSTATES or "database is locked" in str(orig)


class OmsRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        endpoint = super().get_route_handler()

        async def handler(request: Request) -> Response:
            sessions = request.app.state.db.sessions
            settings: Settings = request.app.state.settings
            attempts = settings.db_retry_attempts
            for attempt in range(1, attempts + 1):
                async with sessions() as session:
                    request.state.session = session
                    request.state.idempotency_claim = None
                    try:
                        response = await endpoint(request)
                        claim = request.state.idempotency_claim
                        await outbox.flush_events(session)
                        if claim is not None:
                            await idempotency.complete(session, claim, response)
                        await session.commit()
                        return response
                    except BaseException as exc:
                        outbox.discard_events(session)
                        await session.rollback()
                        if request.state.idempotency_claim is not None:
                            await idempotency.release(session, request.state.idempotency_claim)
                        if attempt < attempts and is_retryable(exc):
                            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
                            continue
                        raise
            raise AssertionError("unreachable")

        return handler
