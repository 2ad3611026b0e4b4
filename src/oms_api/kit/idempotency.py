"""``Idempotency-Key`` for POST and PATCH: a retried request is answered from the stored result.

The key is claimed by inserting its row in the request's own transaction, and the response is stored in that
same transaction just before it commits: "done" and "remembered" commit together, in one commit. A request that
fails rolls the claim back with its work, and so does a process that dies mid-request (PostgreSQL aborts the
transaction of a dropped connection), so a retry proceeds at once; no claim outlives its transaction, and every
committed row holds a response.

A duplicate that arrives while the first request runs must not queue behind the first one's uncommitted row (its
INSERT would wait for the whole request, holding a pooled connection). So on PostgreSQL the claim also tries a
transaction-scoped advisory lock on the key, without waiting: a duplicate that finds it taken and no committed
row is answered 409 ``idempotency_in_progress`` at once (as the IETF Idempotency-Key draft asks). SQLite runs one
writer at a time (``BEGIN IMMEDIATE``, ``kit.db``), so there a duplicate waits its turn and then replays. Only a
success is stored: a problem answer leaves the key free, for a retry with the same or a corrected body. Keys are
scoped per API key.
"""

import hashlib
import uuid
from datetime import datetime, timedelta
from functools import cache
from typing import Annotated, Any, cast

from fastapi import Depends, Header, Request, Response, Security
from sqlalchemy import (
    JSON,
    BigInteger,
    Integer,
    LargeBinary,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    null,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.auth import Principal, Scope, Session, authenticate
from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin
from oms_api.kit.errors import Conflict, OmsError, Unprocessable
from oms_api.kit.ids import uuid7
from oms_api.kit.sql import dialect_name
from oms_api.settings import Settings

REPLAYED_HEADERS = ("content-type", "location", "etag")


class IdempotencyKey(IdMixin, Base):
    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key"),)

    api_key_id: Mapped[uuid.UUID]
    key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    # The response is NULL only inside the claiming transaction: the row commits with it.
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    response_headers: Mapped[dict[str, str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)


_KEYS = cast(Table, IdempotencyKey.__table__)
_CLAIM_COLUMNS = ("id", "api_key_id", "key", "request_hash", "created_at", "expires_at")
_COMPLETE = update(_KEYS).where(_KEYS.c.id == bindparam("claim_id"))
"""Store a request's response: the SET columns come from the parameters (built once, see ``kit.sql``)."""
_EXISTING = select(_KEYS.c.request_hash, _KEYS.c.response_status, _KEYS.c.response_body, _KEYS.c.response_headers)
_EXISTING = _EXISTING.where(
    _KEYS.c.api_key_id == bindparam("api_key_id"),
    _KEYS.c.key == bindparam("key"),
    _KEYS.c.expires_at > bindparam("now", type_=_KEYS.c.expires_at.type),
)


@cache
def _claim_statement(dialect: str) -> Any:
    """The claim, built once per dialect: INSERT the key's row, or take over a row whose result has expired
    (it no longer binds the key). Rowcount 0: the key is bound, or (PostgreSQL) another transaction holds it.

    On PostgreSQL the row is inserted only if ``pg_try_advisory_xact_lock`` gets the key's lock, so the INSERT
    never waits on another transaction's uncommitted claim.
    """
    columns = [_KEYS.c[name] for name in _CLAIM_COLUMNS]
    params = [bindparam(c.name, type_=c.type) for c in columns]
    stmt: Any
    if dialect == "postgresql":
        free = func.pg_try_advisory_xact_lock(bindparam("lock_id", type_=BigInteger()))
        stmt = postgresql.insert(_KEYS).from_select(columns, select(*params).where(free))
    else:
        stmt = sqlite.insert(_KEYS).values(dict(zip(_CLAIM_COLUMNS, params, strict=True)))
    renewed = ("id", "request_hash", "created_at", "expires_at")
    takeover: dict[str, Any] = {name: stmt.excluded[name] for name in renewed}
    takeover |= {"response_status": null(), "response_body": null(), "response_headers": null()}
    return stmt.on_conflict_do_update(
        index_elements=["api_key_id", "key"], set_=takeover, where=_KEYS.c.expires_at <= stmt.excluded.created_at
    )


def _lock_id(api_key_id: uuid.UUID, key: str) -> int:
    """The key's advisory lock: 64 bits of a digest of the API key and the Idempotency-Key."""
    return int.from_bytes(hashlib.sha256(api_key_id.bytes + key.encode()).digest()[:8], "big", signed=True)


class IdempotentReplay(Exception):
    """Raised by the claim when a stored result answers the request."""

    def __init__(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.status, self.body, self.headers = status, body, headers

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, headers={**self.headers, "Idempotent-Replayed": "true"})


def request_hash(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, path and body."""
    return hashlib.sha256(f"{method} {path}\n".encode() + body).hexdigest()


async def claim(session: AsyncSession, api_key_id: uuid.UUID, key: str, fingerprint: str, ttl: timedelta) -> uuid.UUID:
    """Claim ``key`` in the session's transaction (it lasts as long as the transaction), or raise what answers
    the request instead: the stored result, 422 ``idempotency_key_reused`` or 409 ``idempotency_in_progress``.

    The caller rolls back on any of these (``kit.routing.OmsRoute`` does).
    """
    now = utcnow()
    claim_id = uuid7()
    values: dict[str, Any] = {
        "id": claim_id,
        "api_key_id": api_key_id,
        "key": key,
        "request_hash": fingerprint,
        "created_at": now,
        "expires_at": now + ttl,
    }
    dialect = dialect_name(session)
    if dialect == "postgresql":
        values["lock_id"] = _lock_id(api_key_id, key)
    if (await session.execute(_claim_statement(dialect), values)).rowcount:  # type: ignore[attr-defined]
        return claim_id
    raise await _refusal(session, api_key_id, key, fingerprint, now)


async def _refusal(
    session: AsyncSession, api_key_id: uuid.UUID, key: str, fingerprint: str, now: datetime
) -> Exception:
    """Why the claim failed: a committed result under the key, or a request holding it that has not ended."""
    row = (await session.execute(_EXISTING, {"api_key_id": api_key_id, "key": key, "now": now})).one_or_none()
    if row is None:  # only an uncommitted claim, or a takeover of an expired one, is in the way
        return _in_progress()
    if row.request_hash != fingerprint:
        return Unprocessable("This Idempotency-Key was used with a different request", code="idempotency_key_reused")
    return IdempotentReplay(row.response_status or 200, row.response_body or b"", row.response_headers or {})


def _in_progress() -> OmsError:
    return Conflict(
        "A request with this Idempotency-Key is still being processed; retry later",
        code="idempotency_in_progress",
        headers={"Retry-After": "1"},
    )


async def complete(session: AsyncSession, claim_id: uuid.UUID, response: Response) -> None:
    """Store the response in the request's own transaction, which then commits it with the work."""
    headers = {k: v for k, v in response.headers.items() if k.lower() in REPLAYED_HEADERS}
    await session.execute(
        _COMPLETE,
        {
            "claim_id": claim_id,
            "response_status": response.status_code,
            "response_body": bytes(response.body),
            "response_headers": headers,
        },
    )


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
            settings: Settings = request.app.state.settings
            ttl = timedelta(hours=settings.idempotency_ttl_hours)
            fingerprint = request_hash(request.method, request.url.path, await request.body())
            request.state.idempotency_claim = await claim(
                session, principal.api_key_id, idempotency_key, fingerprint, ttl
            )
        return principal

    return Depends(dependency)
