"""``Idempotency-Key`` for POST and PATCH: a retried request is answered from the stored result.

The key is claimed in its own short transaction (so a concurrent duplicate sees it and gets
409), the work runs in the request's transaction, and the response is stored in that same
transaction, so "done" and "remembered" commit together. A request that fails releases its
claim, so the client may retry the same key. Keys are scoped per API key.
"""

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request, Response, Security
from sqlalchemy import JSON, Integer, LargeBinary, String, Table, UniqueConstraint, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.auth import Principal, Scope, Session, authenticate
from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin
from oms_api.kit.errors import Conflict, Unprocessable
from oms_api.kit.ids import uuid7
from oms_api.kit.sql import dialect_name, insert_ignoring_conflicts, upsert_insert
from oms_api.settings import Settings

REPLAYED_HEADERS = ("content-type", "location", "etag")


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    api_key_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16))  # processing | completed
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


_KEYS = cast(Table, IdempotencyKey.__table__)
_COMPLETE = update(_KEYS).where(_KEYS.c.id == bindparam("claim_id"))
"""Store a request's response: the SET columns come from the parameters (built once, see ``kit.sql``)."""


class IdempotentReplay(Exception):
    """Raised by the claim when a stored result answers the request."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status, self.body, self.headers = status, body, headers

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, headers={**self.headers, "Idempotent-Replayed": "true"})


async def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.url.path.encode() + b"\n")
    digest.update(await request.body())
    return digest.hexdigest()


async def claim(session: AsyncSession, request: Request, principal: Principal, key: str) -> None:
    """Claim ``key`` for this request, or answer from / refuse because of an earlier use."""
    settings: Settings = request.app.state.settings
    now = utcnow()
    fingerprint = await _fingerprint(request)
    claim_id = uuid7()
    values: dict[str, Any] = {
        "id": claim_id,
        "api_key_id": principal.api_key_id,
        "key": key,
        "request_hash": fingerprint,
        "state": "processing",
        "created_at": now,
        "locked_until": now + timedelta(seconds=settings.idempotency_lock_seconds),
        "expires_at": now + timedelta(hours=settings.idempotency_ttl_hours),
    }
    stmt = insert_ignoring_conflicts(dialect_name(session), _KEYS)
    inserted = (await session.execute(stmt, values)).rowcount  # type: ignore[attr-defined]
    if not inserted:
        claim_id = await _resolve_existing(session, principal, key, fingerprint, values)
    await session.commit()
    request.state.idempotency_claim = claim_id


async def _resolve_existing(
    session: AsyncSession, principal: Principal, key: str, fingerprint: str, values: dict[str, Any]
) -> uuid.UUID:
    row = (
        await session.execute(
            select(IdempotencyKey).where(IdempotencyKey.api_key_id == principal.api_key_id, IdempotencyKey.key == key)
        )
    ).scalar_one()
    now = values["created_at"]
    if row.expires_at <= now:  # an expired result no longer binds the key
        await session.execute(delete(IdempotencyKey).where(IdempotencyKey.id == row.id))
        await session.flush()
        await session.execute(upsert_insert(session, IdempotencyKey).values(**values))
        return uuid.UUID(str(values["id"]))
    if row.request_hash != fingerprint:
        await session.rollback()
        raise Unprocessable("This Idempotency-Key was used with a different request", code="idempotency_key_reused")
    if row.state == "completed":
        replay = IdempotentReplay(row.response_status or 200, row.response_body or b"", row.response_headers or {})
        await session.rollback()
        raise replay
    if row.locked_until > now:
        await session.rollback()
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry later",
            code="idempotency_in_progress",
            headers={"Retry-After": "1"},
        )
    taken = (
        await session.execute(  # the earlier attempt died: take its claim over
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.locked_until == row.locked_until)
            .values(locked_until=values["locked_until"])
        )
    ).rowcount  # type: ignore[attr-defined]
    if not taken:
        await session.rollback()
        raise Conflict(
            "A request with this Idempotency-Key is still being processed; retry later",
            code="idempotency_in_progress",
            headers={"Retry-After": "1"},
        )
    return row.id


async def complete(session: AsyncSession, claim_id: uuid.UUID, response: Response) -> None:
    """Store the response in the request's own transaction."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS}
    await session.execute(
        _COMPLETE,
        {
            "claim_id": claim_id,
            "state": "completed",
            "response_status": response.status_code,
            "response_body": bytes(response.body),
            "response_headers": headers,
        },
    )


async def release(session: AsyncSession, claim_id: uuid.UUID) -> None:
    """Forget a claim whose request failed, so that a retry does the work."""
    await session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.id == claim_id, IdempotencyKey.state == "processing")
    )
    await session.commit()


async def purge(session: AsyncSession) -> int:
    """Delete expired keys; returns how many went."""
    result = await session.execute(delete(IdempotencyKey).where(IdempotencyKey.expires_at <= utcnow()))
    return int(result.rowcount)  # type: ignore[attr-defined]


IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Any unique string; a retry with the same key and body returns the first result",
    ),
]


def write_access(scope: Scope) -> Any:
    """Dependency for changing routes: auth with ``scope``, then the optional idempotency claim."""

    async def dependency(
        request: Request,
        principal: Annotated[Principal, Security(authenticate, scopes=[scope.value])],
        session: Session,
        idempotency_key: IdempotencyHeader = None,
    ) -> Principal:
        if idempotency_key is not None:
            await claim(session, request, principal, idempotency_key)
        return principal

    return Depends(dependency)
