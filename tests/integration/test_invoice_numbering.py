"""Gap-free invoice numbers under concurrency: three API processes on one PostgreSQL issue 300 invoices at once in one
series, with one issue forced to roll back after it took its number in the middle of the race.

The numbers must be exactly 1..300, formatted, with no gap and no duplicate: the series row is locked from the
moment a number is taken until the issuing transaction ends, so the rolled-back issue gives its number back to the
next issuer. The rollback is forced from outside the service, with no hook in it: a test-only trigger on the outbox
table refuses the ``invoice.issued`` event of one chosen draft, and the outbox is written last, right before commit,
after numbering. Prints invoices issued per second (``-s`` shows it).

The rate is bound by the processes' CPU, not by the series lock: the lock is held from the ``UPDATE … RETURNING``
that takes the number to the commit, a few statements; measured, 20 issues at once take as long per invoice as
issues one after the other."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest

from oms_api.kit.auth import Scope
from tests.conftest import KeyMaker
from tests.support.factories import make_channel, make_sku, make_warehouse, receive
from tests.support.servers import Deployment, clients, fire, order_body, post

pytestmark = pytest.mark.slow

INVOICES = 300
YEAR_NUMBER = "INV-{year}-{n:06d}"


async def connect(database_url: str) -> asyncpg.Connection:
    return await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://", 1))


@pytest.fixture
async def token(deployment: Deployment) -> str:
    return await KeyMaker(deployment.database_url)(Scope.ADMIN.value, name="invoice-numbering")


@pytest.fixture
async def api(deployment: Deployment, token: str) -> AsyncIterator[list[httpx.AsyncClient]]:
    made = clients(deployment.servers.urls, token)
    try:
        yield made
    finally:
        for client in made:
            await client.aclose()


async def seeded_orders(api: list[httpx.AsyncClient], count: int) -> tuple[str, list[str]]:
    """A legal entity and a channel issuing with it, and ``count`` placed orders (placed concurrently)."""
    seed = api[0]
    code = f"it-{uuid.uuid4().hex[:8]}"
    entity = {
        "code": code,
        "name": "Numbering GmbH",
        "vat_id": "DE136695976",
        "address": {"line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    }
    assert (await seed.post("/v1/legal-entities", json=entity)).status_code == 201
    channel = await make_channel(seed, legal_entity=code)
    warehouse = await make_warehouse(seed)
    sku = await make_sku(seed)
    await receive(seed, sku["sku"], warehouse["code"], count * 2)
    calls = [
        (f"order-{i}", post(api[i % len(api)], "/v1/orders", order_body(channel["code"], f"N-{i}", [(sku["sku"], 1)])))
        for i in range(count)
    ]
    placed = await fire(calls)
    assert all(o.status == 201 for o in placed), [o for o in placed if o.status != 201][:3]
    return code, [o.body["id"] for o in placed]


async def install_fault(conn: asyncpg.Connection, invoice_id: str) -> None:
    """Refuse the ``invoice.issued`` outbox event of one invoice: its issuing transaction fails after numbering."""
    await conn.execute(
        f"""
        CREATE OR REPLACE FUNCTION oms_test_refuse_issue() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF NEW.type = 'invoice.issued' AND NEW.aggregate_id = '{uuid.UUID(invoice_id)}'::uuid THEN
                RAISE EXCEPTION 'test fault: issuing rolled back after numbering';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER oms_test_refuse_issue BEFORE INSERT ON events
            FOR EACH ROW EXECUTE FUNCTION oms_test_refuse_issue();
        """
    )


async def remove_fault(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "DROP TRIGGER IF EXISTS oms_test_refuse_issue ON events; DROP FUNCTION IF EXISTS oms_test_refuse_issue();"
    )


async def series_numbers(conn: asyncpg.Connection, code: str) -> list[Any]:
    return list(
        await conn.fetch(
            """
            SELECT i.sequence, i.number, i.status FROM invoices i
            JOIN legal_entities e ON e.id = i.legal_entity_id
            WHERE e.code = $1 AND i.number IS NOT NULL ORDER BY i.sequence
            """,
            code,
        )
    )


async def test_three_processes_issue_300_invoices_with_numbers_1_to_300_and_a_rollback_leaves_no_gap(
    deployment: Deployment, api: list[httpx.AsyncClient], token: str
) -> None:
    code, orders = await seeded_orders(api, INVOICES + 1)
    victim_order, racing = orders[-1], orders[:-1]
    draft = await api[0].post(f"/v1/orders/{victim_order}/invoices", json={"draft": True})
    assert draft.status_code == 201, draft.text
    victim = draft.json()["id"]

    conn = await connect(deployment.database_url)
    try:
        await install_fault(conn, victim)
        race = clients(deployment.servers.urls, token)  # fresh connections: none closed idle by the server
        try:
            calls = [
                (f"issue-{i}", post(race[i % len(race)], f"/v1/orders/{order_id}/invoices", {}))
                for i, order_id in enumerate(racing)
            ]
            calls.insert(INVOICES // 2, ("victim", post(race[1], f"/v1/invoices/{victim}/issue", None)))
            started = time.perf_counter()
            outcomes = await fire(calls, within=120.0)
            elapsed = time.perf_counter() - started
        finally:
            await remove_fault(conn)
            for client in race:
                await client.aclose()

        issued = [o for o in outcomes if o.label != "victim"]
        [failed] = [o for o in outcomes if o.label == "victim"]
        assert all(o.status == 201 for o in issued), [(o.status, o.body, o.error) for o in issued if o.status != 201][
            :3
        ]
        assert failed.status == 500, failed  # the forced rollback, after the victim took a number
        rate = len(issued) / elapsed
        print(f"\n{len(issued)} invoices issued by 3 processes in {elapsed:.2f} s: {rate:.0f} invoices/s")

        rows = await series_numbers(conn, code)
        year = int(rows[0]["number"].split("-")[1])
        assert [r["sequence"] for r in rows] == list(range(1, INVOICES + 1))
        assert [r["number"] for r in rows] == [YEAR_NUMBER.format(year=year, n=n) for n in range(1, INVOICES + 1)]
        assert sorted(o.body["number"] for o in issued) == [r["number"] for r in rows]
        victim_row = await conn.fetchrow("SELECT status, number FROM invoices WHERE id = $1", uuid.UUID(victim))
        assert (victim_row["status"], victim_row["number"]) == ("draft", None)

        async with httpx.AsyncClient(
            base_url=deployment.servers.urls[2], headers={"Authorization": f"Bearer {token}"}, timeout=30.0
        ) as fresh:
            retried = await fresh.post(f"/v1/invoices/{victim}/issue")
        assert retried.status_code == 200, retried.text
        assert retried.json()["number"] == YEAR_NUMBER.format(year=year, n=INVOICES + 1)
        next_number = await conn.fetchval(
            """SELECT s.next_number FROM document_series s JOIN legal_entities e ON e.id = s.legal_entity_id
               WHERE e.code = $1 AND s.doc_type = 'invoice'""",
            code,
        )
        assert next_number == INVOICES + 2
    finally:
        await conn.close()
