"""Body limits and the order of checks: who calls (401), what it may do (403), how large (413), then parsing.

Every request here goes through ``Reading``, an ASGI layer outside the whole app that counts the body bytes the
app pulls from the server: "never read" is measured, not inferred from the status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms_api.app import create_app
from oms_api.kit.auth import Scope as KeyScope
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from oms_api.settings import Settings
from tests.conftest import KeyMaker

MIB = 1024 * 1024
CHUNK = 64 * 1024
SMALL = 16 * 1024
"""The default-class limit of the apps that check the classes (so that their bodies stay small)."""


class Reading:
    """Counts the body bytes the application pulls through ``receive``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.bytes_read = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counting() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                self.bytes_read += len(message.get("body", b""))
            return message

        await self.app(scope, counting, send)


Client = tuple[httpx.AsyncClient, Reading]
MakeClient = Callable[..., Awaitable[Client]]


@pytest.fixture
async def make_client(settings: Settings) -> AsyncIterator[MakeClient]:
    """An app (with ``overrides`` to its settings) behind a byte-counting layer, and a client for it."""
    opened: list[tuple[httpx.AsyncClient, Any]] = []

    async def make(**overrides: Any) -> Client:
        app = create_app(settings.model_copy(update=overrides))
        reading = Reading(app)
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=reading), base_url="http://oms.test")
        opened.append((client, app))
        return client, reading

    yield make
    for client, app in opened:
        await client.aclose()
        await app.state.limits.close()
        await app.state.db.engine.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == code, response.text


async def chunks(total: int) -> AsyncIterator[bytes]:
    """A body without Content-Length (sent chunked), ``total`` bytes in 64 KiB pieces."""
    sent = 0
    while sent < total:
        piece = min(CHUNK, total - sent)
        sent += piece
        yield b" " * piece


async def test_a_33_mb_body_is_refused_413_before_a_byte_is_read(make_client: MakeClient, make_key: KeyMaker) -> None:
    client, reading = await make_client()
    key = await make_key(KeyScope.ADMIN.value)
    response = await client.post("/v1/orders", content=b"{" + b" " * (33 * MIB) + b"}", headers=bearer(key))
    assert_problem(response, 413, "payload_too_large")
    assert str(MIB) in response.json()["detail"]
    assert reading.bytes_read == 0


async def test_a_chunked_body_is_cut_off_as_soon_as_it_passes_the_limit(
    make_client: MakeClient, make_key: KeyMaker
) -> None:
    client, reading = await make_client()
    key = await make_key(KeyScope.ADMIN.value)
    response = await client.post("/v1/orders", content=chunks(8 * MIB), headers=bearer(key))
    assert_problem(response, 413, "payload_too_large")
    assert MIB < reading.bytes_read <= MIB + CHUNK


async def test_without_a_key_a_huge_body_is_401_and_never_read(make_client: MakeClient) -> None:
    client, reading = await make_client()
    declared = await client.post("/v1/orders", content=b"x" * (4 * MIB), headers={"Content-Type": "application/json"})
    assert_problem(declared, 401, "missing_api_key")
    streamed = await client.post("/v1/orders", content=chunks(4 * MIB), headers={"Content-Type": "application/json"})
    assert_problem(streamed, 401, "missing_api_key")
    assert reading.bytes_read == 0


async def test_a_bad_key_with_invalid_json_is_401_and_never_read(make_client: MakeClient) -> None:
    client, reading = await make_client()
    response = await client.post("/v1/orders", content=b"{not json", headers=bearer("oms_" + "0" * 43))
    assert_problem(response, 401, "invalid_api_key")
    assert reading.bytes_read == 0


async def test_a_key_without_the_scope_is_403_before_its_body_is_parsed_or_measured(
    make_client: MakeClient, make_key: KeyMaker
) -> None:
    client, reading = await make_client()
    key = await make_key(KeyScope.CATALOG_READ.value)
    invalid_json = await client.post("/v1/orders", content=b"{not json", headers=bearer(key))
    assert_problem(invalid_json, 403, "insufficient_scope")
    invalid_body = await client.post("/v1/orders", json={"lines": "nope"}, headers=bearer(key))
    assert_problem(invalid_body, 403, "insufficient_scope")
    too_large = await client.post("/v1/orders", content=b"x" * (2 * MIB), headers=bearer(key))
    assert_problem(too_large, 403, "insufficient_scope")
    assert reading.bytes_read == 0


async def test_with_the_scope_the_limit_comes_before_parsing(make_client: MakeClient, make_key: KeyMaker) -> None:
    client, _ = await make_client()
    key = await make_key(KeyScope.ORDERS_WRITE.value)
    assert_problem(
        await client.post("/v1/orders", content=b"{" * (2 * MIB), headers=bearer(key)), 413, "payload_too_large"
    )
    assert_problem(await client.post("/v1/orders", content=b"{not json", headers=bearer(key)), 400, "malformed_json")


async def test_each_route_class_has_its_own_limit(make_client: MakeClient, make_key: KeyMaker) -> None:
    client, reading = await make_client(
        body_limit_bytes=SMALL,
        body_limit_bulk_bytes=4 * SMALL,
        body_limit_inbound_bytes=2 * SMALL,
        easypost_webhook_secret="whsec-easypost",
    )
    key = await make_key(KeyScope.ADMIN.value)
    padded = b'{"pad": "' + b"x" * (2 * SMALL) + b'"}'  # over the default limit, under the bulk one

    default = await client.post("/v1/warehouses", content=padded, headers=bearer(key))
    assert_problem(default, 413, "payload_too_large")
    assert reading.bytes_read == 0

    bulk = await client.post("/v1/carriers", content=padded, headers=bearer(key))  # rate tables: read, then 422
    assert_problem(bulk, 422, "validation_error")
    batch = await client.post("/v1/orders/allocate-batch", content=padded, headers=bearer(key))
    assert_problem(batch, 422, "validation_error")
    assert reading.bytes_read == 2 * len(padded)
    too_large = await client.post("/v1/carriers", content=b"x" * (4 * SMALL + 1), headers=bearer(key))
    assert_problem(too_large, 413, "payload_too_large")

    inbound = "/v1/integrations/shopify/web/webhooks"  # signed by the platform: read, then refused unsigned
    fits = await client.post(inbound, content=b"{" + b" " * (2 * SMALL - 2) + b"}")
    assert fits.status_code != 413, fits.text
    assert_problem(await client.post(inbound, content=b"{" * (2 * SMALL + 1)), 413, "payload_too_large")
    easypost = await client.post("/v1/integrations/easypost/webhooks", content=chunks(2 * SMALL + 1))
    assert_problem(easypost, 413, "payload_too_large")


async def test_a_route_without_a_body_never_reads_one(make_client: MakeClient, make_key: KeyMaker) -> None:
    client, reading = await make_client()
    key = await make_key(KeyScope.ADMIN.value)
    response = await client.request("GET", "/v1/skus", content=b"x" * (2 * MIB), headers=bearer(key))
    assert response.status_code == 200, response.text
    assert reading.bytes_read == 0
