"""Background work of payments: the job that settles operations whose gateway call timed out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.auth import Principal
from oms_api.payments import reconciling
from oms_api.payments.handlers import SETTINGS_KEY
from oms_api.settings import Settings, get_settings


@dataclass(frozen=True, slots=True)
class _Worker(Principal):
    @property
    def actor(self) -> str:
        return "worker:payments"


WORKER = _Worker(api_key_id=uuid.UUID(int=0), name="payments-worker", scopes=frozenset())
"""Who settles a payment in histories and events: the worker, not an API key."""


async def reconcile_pending(session: AsyncSession, settings: Settings | None = None) -> int:
    """Ask the gateways again about operations in doubt, with the same idempotency keys (the caller commits);
    returns how many payments were looked at."""
    settings = settings or get_settings()
    session.info[SETTINGS_KEY] = settings  # reactions it causes (the order resumed) use the same settings
    return await reconciling.reconcile_pending(session, settings, WORKER)
