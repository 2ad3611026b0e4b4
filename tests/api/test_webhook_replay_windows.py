"""Webhook replay reads its range by windows of seqs: every event of the range once, in order, none outside it.

The replay finds the first and last seq of ``[since, until)`` through ``ix_events_occurred_at``, then reads the
primary key between them a window of ``REPLAY_CHUNK`` seqs at a time (a bounded read whatever the size of the
outbox, where it used to scan it from the oldest event). Here the window is two seqs wide, so a range of a few
events takes several windows, some holding no event the endpoint wants.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from oms_api.settings import Settings
from oms_api.webhooks import deliveries as replaying
from oms_api.worker.runner import Worker
from tests.support.factories import make_sku, make_warehouse


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, log_level="warning", webhooks_allow_private_networks=True)


@pytest.fixture
async def worker(app: Any, settings: Settings) -> AsyncIterator[Worker]:
    w = Worker(settings, app.state.db.sessions, name="test-worker", jobs=[])
    yield w
    await w.client.aclose()


async def _listed(api: httpx.AsyncClient, endpoint_id: str) -> list[dict[str, Any]]:
    page = await api.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", params={"limit": 200})
    assert page.status_code == 200, page.text
    return list(page.json()["data"])


async def test_a_replay_takes_every_event_of_its_range_once_in_order_window_by_window(
    api: httpx.AsyncClient, worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replaying, "REPLAY_CHUNK", 2)
    made = await api.post(
        "/v1/webhook-endpoints", json={"url": "http://127.0.0.1:9/hook", "event_types": ["sku.created"]}
    )
    assert made.status_code == 201, made.text
    endpoint = made.json()["id"]
    await make_sku(api)  # before the range
    since = datetime.now(UTC)
    inside = []
    for n in range(5):
        inside.append(await make_sku(api))
        if n % 2:
            await make_warehouse(api)  # seqs in the range that the endpoint does not want
    until = datetime.now(UTC)
    await make_sku(api)  # after the range
    await worker.fanout_step()  # published: a replay takes only events already fanned out
    assert len(await _listed(api, endpoint)) == 7

    replay = await api.post(
        f"/v1/webhook-endpoints/{endpoint}/replay", json={"since": since.isoformat(), "until": until.isoformat()}
    )
    assert replay.status_code == 202, replay.text
    assert replay.json()["queued"] == 5
    replayed = [d["aggregate_id"] for d in await _listed(api, endpoint) if d["origin"] == "replay"]
    assert replayed == [sku["id"] for sku in inside]  # the range's events, each once, in the order they happened
    empty = await api.post(
        f"/v1/webhook-endpoints/{endpoint}/replay",
        json={"since": (since - timedelta(days=2)).isoformat(), "until": (since - timedelta(days=1)).isoformat()},
    )
    assert empty.json()["queued"] == 0
