"""API keys with scopes: ``Authorization: Bearer <key>``.

Keys are 256-bit random secrets, so a plain SHA-256 digest is a safe way to store them
(no slow password hash is needed against guessing); the secret is shown once, on creation.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from sqlalchemy import JSON, Float, String, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin
from oms_api.kit.errors import Forbidden, Unauthorized
from oms_api.kit.principal import Principal, Scope

KEY_PREFIX = "oms_"

__all__ = [
    "KEY_PREFIX",
    "ApiKey",
    "KeyRateLimit",
    "Principal",
    "Scope",
    "Session",
    "authenticate",
    "bearer_credentials",
    "check_scopes",
    "create_api_key",
    "get_session",
    "hash_secret",
    "identify",
    "new_secret",
    "require",
    "require_unless",
    "revoke_api_key",
    "set_rate_limit",
]


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), doc="First characters of the secret, to recognise a key")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    rate_limit_per_second: Mapped[float | None] = mapped_column(
        Float, default=None, doc="The key's own rate (requests/s); NULL: OMS_RATE_LIMIT_PER_SECOND; 0: no limit"
    )
    rate_limit_burst: Mapped[int | None] = mapped_column(
        default=None, doc="The key's own burst; NULL: OMS_RATE_LIMIT_BURST; 0: no limit"
    )


@dataclass(frozen=True, slots=True)
class KeyRateLimit:
    """A key's own rate limit; None parts fall back to the service's default (``kit.admission``)."""

    per_second: float | None = None
    burst: int | None = None


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


_bearer = HTTPBearer(auto_error=False, description="An API key made with `oms-api api-keys create`")


async def get_session(request: Request) -> AsyncSession:
    """The request's session, opened and committed by ``kit.routing.OmsRoute`` (async: no threadpool hop)."""
    session: AsyncSession = request.state.session
    return session


Session = Annotated[AsyncSession, Depends(get_session)]


_KEY_BY_HASH = select(
    ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.revoked_at, ApiKey.rate_limit_per_second, ApiKey.rate_limit_burst
).where(ApiKey.secret_hash == bindparam("secret_hash"))


async def bearer_credentials(request: Request) -> HTTPAuthorizationCredentials | None:
    """The ``Authorization: Bearer`` credentials, if any (read from the headers only)."""
    return await _bearer(request)


async def authenticate(
    request: Request,
    security_scopes: SecurityScopes,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Resolve the bearer key and check the route's scope (401 unknown key, 403 missing scope).

    ``OmsRoute`` has usually identified the caller already, before the body was read (``kit.admission``): the
    key is then not looked up again.
    """
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal, _ = await identify(request, session, credentials)
    check_scopes(principal, security_scopes.scopes)
    return principal


async def identify(
    request: Request, session: AsyncSession, credentials: HTTPAuthorizationCredentials | None
) -> tuple[Principal, KeyRateLimit]:
    """The caller behind the bearer key, remembered on ``request.state.principal``, and the key's own rate limit
    (401 ``missing_api_key`` without a key, ``invalid_api_key`` for an unknown or revoked one)."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized(
            "Send an API key as 'Authorization: Bearer <key>'",
            code="missing_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    row = (await session.execute(_KEY_BY_HASH, {"secret_hash": hash_secret(credentials.credentials)})).one_or_none()
    if row is None or row.revoked_at is not None:
        raise Unauthorized(
            "The API key is unknown or revoked",
            code="invalid_api_key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = Principal(api_key_id=row.id, name=row.name, scopes=frozenset(row.scopes))
    request.state.principal = principal
    return principal, KeyRateLimit(row.rate_limit_per_second, row.rate_limit_burst)


def check_scopes(principal: Principal, scopes: list[str] | tuple[str, ...]) -> None:
    """403 ``insufficient_scope`` naming the first scope the key lacks."""
    for scope in scopes:
        if not principal.allows(scope):
            raise Forbidden(f"This API key lacks the scope {scope!r}", code="insufficient_scope", required_scope=scope)


def require(scope: Scope) -> Any:
    """Dependency marker: the route needs an API key holding ``scope`` (or ``admin``)."""
    return Security(authenticate, scopes=[scope.value])


def require_unless(scope: Scope, open_setting: str) -> Any:
    """``require(scope)``, unless the boolean setting ``open_setting`` is on: then anyone may call. For surfaces
    that a trusted network may keep open (``/metrics`` with ``OMS_METRICS_PUBLIC``, scraped by Prometheus)."""

    async def check(
        request: Request,
        security_scopes: SecurityScopes,
        session: Session,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal | None:
        if getattr(request.app.state.settings, open_setting):
            return None
        return await authenticate(request, security_scopes, session, credentials)

    return Security(check, scopes=[scope.value])


async def create_api_key(
    session: AsyncSession, name: str, scopes: list[str], rate_limit: KeyRateLimit | None = None
) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists in clear)."""
    unknown = set(scopes) - {s.value for s in Scope}
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    limit = _checked(rate_limit or KeyRateLimit())
    secret = new_secret()
    key = ApiKey(
        name=name,
        prefix=secret[:12],
        secret_hash=hash_secret(secret),
        scopes=sorted(set(scopes)),
        rate_limit_per_second=limit.per_second,
        rate_limit_burst=limit.burst,
    )
    session.add(key)
    await session.flush()
    return key, secret


async def revoke_api_key(session: AsyncSession, key_id: uuid.UUID) -> ApiKey | None:
    """Refuse the key from now on (401); None when there is no such key. Revoking twice keeps the first date."""
    key = await session.get(ApiKey, key_id)
    if key is not None and key.revoked_at is None:
        key.revoked_at = utcnow()
        await session.flush()
    return key


async def set_rate_limit(session: AsyncSession, key_id: uuid.UUID, rate_limit: KeyRateLimit) -> ApiKey | None:
    """Give the key its own rate limit (None parts: the service's default again); None when there is no such key.
    Every API process applies it from the key's next request."""
    limit = _checked(rate_limit)
    key = await session.get(ApiKey, key_id)
    if key is not None:
        key.rate_limit_per_second = limit.per_second
        key.rate_limit_burst = limit.burst
        await session.flush()
    return key


def _checked(limit: KeyRateLimit) -> KeyRateLimit:
    if limit.per_second is not None and not (math.isfinite(limit.per_second) and limit.per_second >= 0):
        raise ValueError("the rate limit must be a number of requests per second, 0 or more")
    if limit.burst is not None and limit.burst < 0:
        raise ValueError("the burst must be 0 or more")
    return limit
