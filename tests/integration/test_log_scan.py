"""The logs of a full scenario carry no personal data and no secret, and every line is JSON.

The API is served by a real uvicorn server (configured as ``oms-api serve`` configures it) with a worker in the
same event loop, as the embedded ``serve`` runs them; the worker delivers webhooks to a receiver whose URL carries
a ``?token=`` and takes in a Shopify order. Everything logs at DEBUG, SQLAlchemy's SQL echo included, to the
captured stdout and stderr. The scenario covers what reaches logs today: customers with e-mail, phone and
street, orders, a storefront delivery signed with its secret, an API key, a webhook secret, and three requests
that fail with 500 (a real unique violation, an IntegrityError built with its parameters shown, and an error
whose message quotes a phone number).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import uvicorn
from sqlalchemy.exc import IntegrityError

from oms_api.app import create_app
from oms_api.cli import uvicorn_options
from oms_api.customers import service as customers_service
from oms_api.customers.models import Customer
from oms_api.kit.auth import Scope
from oms_api.kit.logging import configure_logging
from oms_api.settings import Settings
from oms_api.worker.runner import Worker
from tests.conftest import KeyMaker
from tests.support import storefronts
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.servers import _free_ports, order_body
from tests.support.storefronts import SHOPIFY_SECRET
from tests.support.webhook_receiver import Receiver

pytestmark = pytest.mark.slow  # a served app, a worker and a receiver; tests/unit/test_kit_redaction.py is quick

EMAIL = "ada.scanned@example.org"
PHONE = "+44 20 7946 0958"
STREET = "12 Analytical Engine Row"
LAST_NAME = "Byronhurst"
SHOP_EMAIL = "grace.scanned@example.net"
SHOP_PHONE = "+1 555 0142 777"
SHOP_STREET = "77 Compiler Crescent"


def address(line1: str, phone: str) -> dict[str, str]:
    return {"line1": line1, "city": "London", "postal_code": "N1 9GU", "country": "GB", "phone": phone}


def shopify_order() -> dict[str, Any]:
    """Shopify's sample order, with a customer of our own (so that a leak of it is ours to find)."""
    payload = storefronts.load("shopify/orders_create.json")
    payload["id"] = 5801234567891
    payload["email"] = payload["contact_email"] = payload["customer"]["email"] = SHOP_EMAIL
    payload["phone"] = payload["customer"]["phone"] = SHOP_PHONE
    for kind in ("shipping_address", "billing_address"):
        payload[kind]["address1"] = SHOP_STREET
        payload[kind]["phone"] = SHOP_PHONE
    return payload


async def settle(condition: Callable[[], Any], within: float, what: str) -> None:
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


async def failing_requests(api: httpx.AsyncClient, customer_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Three 500s whose exceptions carry the customer's data in their messages."""

    async def insert_a_duplicate(session: Any, *_args: Any, **_kwargs: Any) -> Customer:
        # A real unique violation, with the customer's data in the statement's parameters (and, on PostgreSQL,
        # in the driver's DETAIL).
        session.add(Customer(email=EMAIL, phone=PHONE, last_name=LAST_NAME, addresses=[address(STREET, PHONE)]))
        await session.flush()
        raise AssertionError("the duplicate was accepted")

    async def integrity_error_with_parameters(*_args: Any, **_kwargs: Any) -> None:
        # As a driver without hide_parameters would raise it: parameters and DETAIL in the message.
        detail = f'duplicate key value violates unique constraint "uq_customers_email"\nDETAIL:  Key (email)=({EMAIL})'
        raise IntegrityError("INSERT INTO customers (email, phone) VALUES ($1, $2)", (EMAIL, PHONE), Exception(detail))

    async def value_error(*_args: Any, **_kwargs: Any) -> None:
        raise ValueError(f"cannot call {PHONE} at {STREET}")

    for name, replacement, call in (
        ("update_customer", insert_a_duplicate, api.patch(f"/v1/customers/{customer_id}", json={"phone": PHONE})),
        ("list_customers", integrity_error_with_parameters, api.get("/v1/customers", params={"email": EMAIL})),
        ("get_customer", value_error, api.get(f"/v1/customers/{customer_id}")),
    ):
        with monkeypatch.context() as patch:
            patch.setattr(customers_service, name, replacement)
            response = await call
        assert response.status_code == 500, response.text
        assert response.json()["code"] == "internal_error"


async def scenario(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, str], str]:
    """Run the scenario through a served app and a worker; return the secrets it used, by name, and the
    receiver's URL as the logs should show it (no query string)."""
    app = create_app(settings)  # configures logging: DEBUG, JSON, to the captured stdout
    for chatty in ("sqlalchemy.engine", "aiosqlite"):  # SQL echo, result rows, statements: DEBUG means DEBUG
        logging.getLogger(chatty).setLevel(logging.DEBUG)
    port = _free_ports(1)[0]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, **uvicorn_options(settings)))
    serving = asyncio.create_task(server.serve())
    worker = Worker(settings)
    working = asyncio.create_task(worker.run())
    token = f"tok{secrets.token_hex(12)}"
    receiver = Receiver().start()
    api_key = await KeyMaker(settings.database_url)(Scope.ADMIN.value, name="scan")

    async def started() -> bool:
        return server.started

    try:
        await settle(started, 30, "uvicorn to start")
        base_url = f"http://127.0.0.1:{port}"
        async with (
            httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {api_key}"}) as api,
            httpx.AsyncClient(base_url=base_url) as shopify,
        ):
            endpoint = await api.post("/v1/webhook-endpoints", json={"url": f"{receiver.url}?token={token}"})
            assert endpoint.status_code == 201, endpoint.text
            webhook_secret = endpoint.json()["secret"]
            receiver.secrets.append(webhook_secret)

            channel = await make_channel(api, integrations={"shopify": {"webhook_secret": SHOPIFY_SECRET}})
            warehouse = await make_warehouse(api)
            skus = [(await make_sku(api, sku=code))["sku"] for code in ("SHIRT-BLUE-M", "MUG-WHITE")]
            for sku in skus:
                await receive(api, sku, warehouse["code"], 20)

            customer = await api.post(
                "/v1/customers",
                json={
                    "email": EMAIL,
                    "first_name": "Ada",
                    "last_name": LAST_NAME,
                    "phone": PHONE,
                    "addresses": [address(STREET, PHONE)],
                },
            )
            assert customer.status_code == 201, customer.text
            duplicate = await api.post("/v1/customers", json={"email": EMAIL, "phone": PHONE})
            assert duplicate.status_code == 409, duplicate.text
            found = await api.get("/v1/customers", params={"email": EMAIL, "q": LAST_NAME})
            assert [c["id"] for c in found.json()["data"]] == [customer.json()["id"]]

            orders = []
            for n, details in enumerate(({"id": customer.json()["id"]}, {"email": EMAIL, "phone": PHONE})):
                body = order_body(channel["code"], f"scan-{n}", [(skus[0], 1)])
                body |= {"customer": details, "shipping_address": address(STREET, PHONE)}
                placed = await api.post("/v1/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
                assert placed.status_code == 201, placed.text
                orders.append(placed.json()["id"])
            held = await api.post(f"/v1/orders/{orders[0]}/hold", json={"reason": f"call {PHONE}"})
            assert held.status_code == 200, held.text

            intake = await storefronts.shopify(shopify, channel["code"], shopify_order())
            assert intake.status_code == 200, intake.text
            forged = await storefronts.shopify(shopify, channel["code"], shopify_order(), secret="not-the-secret")
            assert forged.status_code == 401, forged.text

            await failing_requests(api, customer.json()["id"], monkeypatch)

            async def intake_applied() -> bool:
                found = await api.get("/v1/customers", params={"email": SHOP_EMAIL})
                return bool(found.json()["data"])

            async def delivered() -> bool:
                types = {d.type for d in receiver.accepted()}
                return {"customer.created", "order.created", "order.on_hold"} <= types

            await settle(intake_applied, 60, "the worker to apply the Shopify order")
            await settle(delivered, 60, "the worker to deliver the webhooks")
    finally:
        worker.request_stop()
        await working
        server.should_exit = True
        await serving
        receiver.stop()
    used = {
        "e-mail": EMAIL,
        "phone": PHONE,
        "street": STREET,
        "last name": LAST_NAME,
        "storefront e-mail": SHOP_EMAIL,
        "storefront phone": SHOP_PHONE,
        "storefront street": SHOP_STREET,
        "webhook URL token": token,
        "webhook secret": webhook_secret,
        "webhook secret without its prefix": webhook_secret.removeprefix("whsec_"),
        "storefront secret": SHOPIFY_SECRET,
        "API key": api_key,
        "API key without its prefix": api_key.removeprefix("oms_"),
    }
    return used, receiver.url


@pytest.fixture
def quiet_afterwards() -> Iterator[None]:
    """Leave logging as the other tests expect it (WARNING, on a stream that outlives this test's capture)."""
    yield
    configure_logging("warning", True, stream=sys.__stderr__)


@pytest.mark.usefixtures("quiet_afterwards")
async def test_a_full_scenario_logs_json_lines_without_personal_data_or_secrets(
    database_url: str, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(
        database_url=database_url,
        log_level="debug",
        log_json=True,
        db_pool_size=5,
        webhooks_allow_private_networks=True,
        webhooks_retry_schedule="0.2s,0.5s,1s",
        webhooks_timeout_seconds=5,
        worker_poll_interval_seconds=0.1,
        job_intake_seconds=1,
    )
    secrets_used, receiver_url = await scenario(settings, monkeypatch)
    captured = capfd.readouterr()
    logs = captured.out + captured.err

    def spellings(value: str) -> set[str]:  # as given, in a query string, in JSON
        return {s.lower() for s in (value, quote(value), quote_plus(value), json.dumps(value)[1:-1])}

    lowered = logs.lower()
    leaks = {name: value for name, value in secrets_used.items() if any(s in lowered for s in spellings(value))}
    leaking = [
        line[:400]
        for line in logs.splitlines()
        if any(s in line.lower() for value in leaks.values() for s in spellings(value))
    ]
    assert not leaks, f"found in the logs: {sorted(leaks)}\n" + "\n".join(leaking[:15])

    events = []
    plain = []
    for line in filter(str.strip, logs.splitlines()):
        try:
            events.append(json.loads(line))
        except ValueError:
            plain.append(line)
    assert not plain, "plain-text lines:\n" + "\n".join(plain[:20])

    # The scan saw what matters: the failures, the webhook client, SQL echo, uvicorn.
    failures = [e for e in events if e.get("event") == "unhandled_error"]
    assert {e["exc_type"] for e in failures} >= {"sqlalchemy.exc.IntegrityError", "ValueError"}, failures
    assert all("Traceback (most recent call last)" in e["exception"] for e in failures)
    assert all(e["route"] == "/v1/customers/{customer_id}" or e["route"] == "/v1/customers" for e in failures)
    assert any(e.get("logger") == "uvicorn.error" and e.get("exc_type") == "ValueError" for e in events)
    assert any(e.get("logger") == "httpx" and f"POST {receiver_url} " in e["event"] for e in events)
    assert any("SQL parameters hidden" in e["event"] for e in events if e.get("logger", "").startswith("sqlalchemy"))


def test_oms_api_serve_writes_only_json_lines(tmp_path: Path) -> None:
    """The command operators run: migrations, uvicorn's own lines and the embedded worker's, all JSON."""
    port = _free_ports(1)[0]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_") and k != "PROMETHEUS_MULTIPROC_DIR"}
    env |= {"OMS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}", "OMS_LOG_LEVEL": "debug"}
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "oms_api.cli", "serve", "--port", str(port)], env=env, stdout=log, stderr=log
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log_path.read_text()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz within 60 s"
            time.sleep(0.2)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 401
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    lines = [line for line in log_path.read_text().splitlines() if line.strip()]
    plain = []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except ValueError:
            plain.append(line)
    assert not plain, "plain-text lines:\n" + "\n".join(plain[:20])
    loggers = {e.get("logger") for e in events}
    assert {"uvicorn.error", "oms_api.worker", "oms_api.access"} <= loggers, loggers
