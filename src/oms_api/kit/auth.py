"""API keys with scopes: ``Authorization: Bearer <key>``.

Keys are 256-bit random secrets, so a plain SHA-256 digest is a safe way to store them
(no slow password hash is needed against guessing); the secret is shown once, on creation.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer, SecurityScopes
from sqlalchemy import JSON, String, bindparam, select
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
    "Principal",
    "Scope",
    "Session",
    "authenticate",
    "create_api_key",
    "get_session",
    "hash_secret",
    "new_secret",
    "require",
    "revoke_api_key",
]


class ApiKey(IdMixin, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), doc="First characters of the secret, to recognise a key")
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


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


_KEY_BY_HASH = select(ApiKey.id, ApiKey.name, ApiKey.scopes, ApiKey.revoked_at).where(
    ApiKey.secret_hash == bindparam("secret_hash")
)


async def authenticate(
    request: Request,
    security_scopes: SecurityScopes,
    session: Session,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Resolve the bearer key and check the route's scope (401 unknown key, 403 missing scope)."""
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
    for scope in security_scopes.scopes:
        if not principal.allows(scope):
            raise Forbidden(f"This API key lacks the scope {scope!r}", code="insufficient_scope", required_scope=scope)
    return principal


def require(scope: Scope) -> Any:
    """Dependency marker: the route needs an API key holding ``scope`` (or ``admin``)."""
    return Security(authenticate, scopes=[scope.value])


async def create_api_key(session: AsyncSession, name: str, scopes: list[str]) -> tuple[ApiKey, str]:
    """A new key and its secret (the only time the secret exists in clear)."""
    unknown = set(scopes) - {s.value for s in Scope}
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    secret = new_secret()
    key = ApiKey(name=name, prefix=secret[:12], secret_hash=hash_secret(secret), scopes=sorted(set(scopes)))
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
