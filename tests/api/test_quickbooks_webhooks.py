"""QuickBooks' change notifications, on SQLite and PostgreSQL: signed with the verifier token, deduplicated per
entity change, and a payment read from the QuickBooks API (recorded exchanges in its documented JSON, served by an
``httpx.MockTransport``: no network) marks our invoice paid and is posted to the journal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from oms_api.integrations.accounting import quickbooks
from oms_api.settings import Settings
from tests.support.accounting import entries, line_map
from tests.support.invoicing import invoice, invoicing_shop, taxed_order
from tests.support.keys import TEST_SECRET_KEY

TOKEN = "a1b2c3d4-verifier-token"
REALM = "9130357766900426"
ACCESS = "eyJ-test-access-token"
PAID_ON = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


class QuickBooksApi:
    """Answers like the QuickBooks Online Accounting API (v3), from what the test put in ``payments`` and
    ``invoices`` (keyed by QuickBooks id); records every request."""

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.requests: list[httpx.Request] = []
        self.down = False

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            return httpx.Response(
                503, json={"Fault": {"Error": [{"Message": "Service unavailable"}], "type": "SERVICE"}}
            )
        prefix, _, rest = request.url.path.partition(f"/v3/company/{REALM}/")
        entity, _, entity_id = rest.partition("/")
        found = {"payment": self.payments, "invoice": self.invoices}.get(entity, {}).get(entity_id)
        if prefix or found is None:
            fault = {"Error": [{"Message": "Object Not Found", "code": "610"}], "type": "ValidationFault"}
            return httpx.Response(400, json={"Fault": fault, "time": "2026-12-01T10:00:00.000-08:00"})
        key = "Payment" if entity == "payment" else "Invoice"
        return httpx.Response(200, json={key: found, "time": "2026-12-01T10:00:00.000-08:00"})

    def add_payment(self, payment_id: str, amount: str, invoice_txn: str, doc_number: str) -> None:
        self.invoices[invoice_txn] = {
            "Id": invoice_txn,
            "DocNumber": doc_number,
            "SyncToken": "0",
            "domain": "QBO",
            "TxnDate": PAID_ON,
            "TotalAmt": float(amount),
            "Balance": 0,
            "CustomerRef": {"value": "58", "name": "Weiß & Söhne KG"},
            "Line": [],
        }
        self.payments[payment_id] = {
            "Id": payment_id,
            "SyncToken": "0",
            "domain": "QBO",
            "sparse": False,
            "TxnDate": PAID_ON,
            "TotalAmt": float(amount),
            "UnappliedAmt": 0,
            "ProcessPayment": False,
            "PaymentRefNum": "CHK-1042",
            "CurrencyRef": {"value": "EUR", "name": "Euro"},
            "CustomerRef": {"value": "58", "name": "Weiß & Söhne KG"},
            "DepositToAccountRef": {"value": "35"},
            "Line": [{"Amount": float(amount), "LinkedTxn": [{"TxnId": invoice_txn, "TxnType": "Invoice"}]}],
            "MetaData": {"CreateTime": f"{PAID_ON}T09:00:00-08:00", "LastUpdatedTime": f"{PAID_ON}T09:00:00-08:00"},
        }


@pytest.fixture
def quickbooks_api() -> Iterator[QuickBooksApi]:
    stub = QuickBooksApi()
    quickbooks.use_transport(httpx.MockTransport(stub))
    yield stub
    quickbooks.use_transport(None)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        log_level="warning",
        db_pool_size=5,
        db_max_overflow=5,
        secret_key=SecretStr(TEST_SECRET_KEY),
        rate_limit_per_second=0,
        quickbooks_verifier_token=SecretStr(TOKEN),
        quickbooks_api_base="https://quickbooks.api.intuit.test",
        quickbooks_realm_id=REALM,
        quickbooks_access_token=SecretStr(ACCESS),
    )


def notification(*entities: tuple[str, str, str], realm: str = REALM) -> bytes:
    changes = [
        {"name": name, "id": entity_id, "operation": operation, "lastUpdated": f"{PAID_ON}T17:00:00.000Z"}
        for name, entity_id, operation in entities
    ]
    body = {"eventNotifications": [{"realmId": realm, "dataChangeEvent": {"entities": changes}}]}
    return json.dumps(body).encode()


async def notify(client: httpx.AsyncClient, body: bytes, token: str = TOKEN, **headers: str) -> httpx.Response:
    signed = {"intuit-signature": quickbooks.sign(token, body), "content-type": "application/json", **headers}
    return await client.post("/v1/integrations/quickbooks/webhooks", content=body, headers=signed)


async def an_issued_invoice(api: httpx.AsyncClient) -> dict[str, Any]:
    shop = await invoicing_shop(api)
    order = await taxed_order(api, shop)
    return await invoice(api, order["id"])


async def test_a_payment_reported_by_quickbooks_marks_the_invoice_paid_once(
    api: httpx.AsyncClient, quickbooks_api: QuickBooksApi
) -> None:
    client = api  # the route ignores the API key: the signature is what lets a notification in
    made = await an_issued_invoice(api)
    quickbooks_api.add_payment("163", made["total"]["amount"], "130", made["number"])
    body = notification(("Payment", "163", "Create"), ("Customer", "58", "Update"))

    received = await notify(client, body)
    assert received.status_code == 200, received.text
    assert received.json() == {"changes": 2, "applied": 1, "duplicates": 0, "ignored": 1}
    paid = (await api.get(f"/v1/invoices/{made['id']}")).json()
    assert paid["status"] == "paid"
    posted = await entries(api, order_id=made["order_id"])
    assert [e["source_type"] for e in posted] == ["invoice", "receipt"]
    assert line_map(posted[1])["1100-accounting"] == (made["total"]["amount"], "0.00")

    fetched = [(r.method, r.url.path, r.url.params.get("minorversion")) for r in quickbooks_api.requests]
    assert fetched == [
        ("GET", f"/v3/company/{REALM}/payment/163", quickbooks.MINOR_VERSION),
        ("GET", f"/v3/company/{REALM}/invoice/130", quickbooks.MINOR_VERSION),
    ]
    assert all(r.headers["authorization"] == f"Bearer {ACCESS}" for r in quickbooks_api.requests)

    again = await notify(client, body)  # Intuit retries the same notification
    assert again.json() == {"changes": 2, "applied": 0, "duplicates": 2, "ignored": 0}
    assert len(quickbooks_api.requests) == 2
    assert [e["source_type"] for e in await entries(api, order_id=made["order_id"])] == ["invoice", "receipt"]


async def test_signatures_and_configuration_are_checked_first(
    app: Any, client: httpx.AsyncClient, quickbooks_api: QuickBooksApi
) -> None:
    body = notification(("Payment", "1", "Create"))
    bad = await notify(client, body, token="another-token")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_signature"
    tampered = await client.post(
        "/v1/integrations/quickbooks/webhooks",
        content=body + b" ",
        headers={"intuit-signature": quickbooks.sign(TOKEN, body), "content-type": "application/json"},
    )
    assert tampered.status_code == 400
    missing = await client.post("/v1/integrations/quickbooks/webhooks", content=body)
    assert missing.status_code == 401
    assert missing.json()["code"] == "missing_signature"
    malformed = await notify(client, b'{"eventNotifications": "no"}')
    assert malformed.status_code == 400
    assert malformed.json()["code"] == "malformed_notification"

    settings: Settings = app.state.settings
    app.state.settings = settings.model_copy(update={"quickbooks_verifier_token": None})
    try:
        refused = await notify(client, body)
    finally:
        app.state.settings = settings
    assert refused.status_code == 401
    assert refused.json()["code"] == "quickbooks_webhooks_not_configured"
    assert quickbooks_api.requests == []


async def test_payments_of_invoices_not_ours_are_acknowledged_and_an_unreachable_api_is_retried(
    api: httpx.AsyncClient, client: httpx.AsyncClient, quickbooks_api: QuickBooksApi
) -> None:
    quickbooks_api.add_payment("200", "10.00", "131", "INV-1999-000001")
    stranger = await notify(client, notification(("Payment", "200", "Create")))
    assert stranger.json() == {"changes": 1, "applied": 0, "duplicates": 0, "ignored": 1}

    made = await an_issued_invoice(api)
    half = str((Decimal(made["total"]["amount"]) / 2).quantize(Decimal("0.01")))
    quickbooks_api.add_payment("201", half, "132", made["number"])
    quickbooks_api.down = True
    unavailable = await notify(client, notification(("Payment", "201", "Update")))
    assert unavailable.status_code == 502
    assert unavailable.json()["code"] == "quickbooks_unavailable"
    quickbooks_api.down = False
    retried = await notify(client, notification(("Payment", "201", "Update")))  # nothing of the failure was kept
    assert retried.json()["applied"] == 1
    assert (await api.get(f"/v1/invoices/{made['id']}")).json()["status"] == "partially_paid"
