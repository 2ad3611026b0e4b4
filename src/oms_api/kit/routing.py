"""``OmsRoute``: one request, one transaction, retried on deadlock or serialization failure.

The route opens the session, runs the endpoint (whose dependencies authenticate and may
claim an Idempotency-Key in this same transaction), then, before the response leaves, writes
buffered domain events, stores the idempotent result and commits. Any failure rolls back, the
claim with the rest, so a retry may use the key again.
SQLSTATE 40001/40P01 (and SQLite's "locked") rerun the whole request a few times.
Before the endpoint reads the body, ``kit.admission`` authenticates, rate-limits and authorises
the caller; a 401 counts against the caller's address.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute
from sqlalchemy.exc import DBAPIError

from oms_api.kit import admission, edge, idempotency, outbox
from oms_api.kit.errors import Unauthorized
from oms_api.kit.negotiation import serving_octet_stream
from oms_api.kit.openapi import binary_media_types
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
        binary = binary_media_types(self.responses)
        if binary:  # documented as application/octet-stream too (kit.negotiation)
            endpoint = serving_octet_stream(endpoint, binary)
        policy = admission.RoutePolicy.of(self)

        async def handler(request: Request) -> Response:
            edge.refuse_control_characters(request)  # first: admission may key a limit on a path parameter
            try:
                return await in_transaction(request)
            except Unauthorized:
                await admission.failed_authentication(request)  # 429 instead, once the address is over budget
                raise

        async def in_transaction(request: Request) -> Response:
            sessions = request.app.state.db.sessions
            settings: Settings = request.app.state.settings
            attempts = settings.db_retry_attempts
            admitted = False
            for attempt in range(1, attempts + 1):
                async with sessions() as session:
                    request.state.session = session
                    request.state.idempotency_claim = None
                    try:
                        if not admitted:  # before the endpoint reads the body
                            await admission.admit(request, session, policy)
                            admitted = True
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
                        if attempt < attempts and is_retryable(exc):
                            await asyncio.sleep(random.uniform(0.005, 0.05) * attempt)
                            continue
                        raise
            raise AssertionError("unreachable")

        return handler
