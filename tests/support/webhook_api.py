"""Helpers of the webhook tests that drive an in-process worker: endpoints, deliveries, running the worker.

The worker runs its steps directly (``drain``, ``deliver_batch``) or its loops (``run``) against the test's
database; receivers are real HTTP servers on loopback ports (``webhook_receiver``), so the service under test
must allow private networks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.settings import Settings
from oms_api.webhooks.models import WebhookDelivery, WebhookEndpoint
from oms_api.worker.runner import Worker
from tests.support.webhook_receiver import Receiver


def webhook_settings(database_url: str, **overrides: Any) -> Settings:
    """Retries in milliseconds, loopback receivers allowed."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "log_level": "warning",
        "db_pool_size": 5,
        "db_max_overflow": 5,
        "rate_limit_per_second": 0,
        "webhooks_allow_private_networks": True,
        "webhooks_retry_schedule": "0.05s,0.05s,0.05s",
        "webhooks_retry_jitter": 0,
        "webhooks_timeout_seconds": 5,
        "webhooks_disable_after_failures": 2,
        **overrides,
    }
    return Settings(**values)


async def make_endpoint(api: httpx.AsyncClient, receiver: Receiver | str, **overrides: Any) -> dict[str, Any]:
    """Subscribe ``receiver`` (or a URL); its secret is added to the receiver's, so signatures verify."""
    url = receiver if isinstance(receiver, str) else receiver.url
    response = await api.post("/v1/webhook-endpoints", json={"url": url, **overrides})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if isinstance(receiver, Receiver):
        receiver.secrets.append(body["secret"])
    return body


async def settle(worker: Worker, until: Callable[[], bool], within: float = 10.0) -> None:
    """Run the worker's steps until ``until()`` holds (retries are due within milliseconds here)."""
    deadline = time.monotonic() + within
    while not until():
        assert time.monotonic() < deadline, "the worker did not get there in time"
        await worker.drain()
        await asyncio.sleep(0.02)


async def deliveries(api: httpx.AsyncClient, endpoint_id: str, **params: Any) -> list[dict[str, Any]]:
    response = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def endpoint_state(api: httpx.AsyncClient, endpoint_id: str) -> dict[str, Any]:
    response = await api.get(f"/v1/webhook-endpoints/{endpoint_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def expire_leases(sessions: async_sessionmaker[AsyncSession], *delivery_ids: uuid.UUID) -> None:
    """What time does to the leases of a worker that died: they run out."""
    async with sessions() as session:
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(delivery_ids))
            .values(claimed_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()


async def end_cooldown(sessions: async_sessionmaker[AsyncSession], endpoint_id: str) -> None:
    """What time does to an open circuit: its cool-down ends (half-open)."""
    async with sessions() as session:
        await session.execute(
            update(WebhookEndpoint)
            .where(WebhookEndpoint.id == uuid.UUID(endpoint_id))
            .values(circuit_open_until=datetime.now(UTC) - timedelta(seconds=1))
        )
        await session.commit()
