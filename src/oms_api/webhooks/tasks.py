"""Background jobs of the webhooks context."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.clock import utcnow
from oms_api.webhooks import repository


async def purge_deliveries(session: AsyncSession, retention_days: int) -> int:
    """Delete deliveries (and their attempts) that ended more than ``retention_days`` ago."""
    return await repository.purge_finished(session, utcnow() - timedelta(days=retention_days))
