"""With the default settings, webhook URLs may only reach public addresses (server-side request forgery guard)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
import pytest

from oms_api.settings import Settings
from oms_api.webhooks import delivery, netguard, signing
from oms_api.webhooks.domain import AttemptOutcome, parse_url
from tests.support.webhook_receiver import Receiver


def _work(url: str) -> delivery.Work:
    """A claimed delivery to ``url`` (as the worker's claim builds it)."""
    return delivery.Work(
        delivery_id=uuid.uuid4(),
        endpoint_id=uuid.uuid4(),
        token=uuid.uuid4(),
        attempt_no=1,
        attempt_id=uuid.uuid4(),
        url=url,
        secrets=(signing.new_secret(),),
        event_id=str(uuid.uuid4()),
        occurred_at=datetime.now(UTC),
        body="{}",
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[fd00::1]/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
        "http://100.64.0.1/hook",
    ],
)
async def test_a_url_reaching_a_private_address_is_refused(api: httpx.AsyncClient, url: str) -> None:
    response = await api.post("/v1/webhook-endpoints", json={"url": url})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["code"] == "url_not_allowed"


async def test_changing_the_url_to_a_private_address_is_refused(api: httpx.AsyncClient) -> None:
    created = await api.post("/v1/webhook-endpoints", json={"url": "https://93.184.215.14/hook"})
    assert created.status_code == 201, created.text
    changed = await api.patch(f"/v1/webhook-endpoints/{created.json()['id']}", json={"url": "http://127.0.0.1/x"})
    assert changed.status_code == 422
    assert changed.json()["errors"][0]["code"] == "url_not_allowed"


async def test_a_delivery_to_an_address_that_became_private_is_refused_at_connection_time(
    settings: Settings,
) -> None:
    receiver = Receiver().start()
    client = netguard.guarded_client(allow_private=False, max_connections=2, timeout=2)
    try:
        work = _work(receiver.url.replace("127.0.0.1", "localhost"))
        result = await delivery.send(client, work, settings)
    finally:
        await client.aclose()
        receiver.stop()
    assert result.outcome is AttemptOutcome.REFUSED
    assert "loopback" in (result.error or "")
    assert receiver.received == []


async def test_redirects_are_not_followed(settings: Settings) -> None:
    target = Receiver().start()
    redirecting = Receiver(respond=lambda _d: (307, {"Location": target.url}, 0.0)).start()
    client = netguard.guarded_client(allow_private=True, max_connections=2, timeout=2)
    try:
        work = _work(redirecting.url)
        result = await delivery.send(client, work, settings)
    finally:
        await client.aclose()
        target.stop()
        redirecting.stop()
    assert result.outcome is AttemptOutcome.HTTP_ERROR
    assert result.status_code == 307
    assert "not followed" in (result.error or "")
    assert target.received == []


def test_a_host_name_is_checked_after_resolution_not_by_its_spelling() -> None:
    assert parse_url("http://localhost/x").literal_ip is None  # resolved (to loopback) and then refused
