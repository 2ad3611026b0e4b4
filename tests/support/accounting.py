"""Accounting test helpers: hand financial facts to accounting's handlers as the bus does (in one transaction,
events written before commit), and read the journal back.

The facts are made up (orders and invoices that do not exist), so they go to accounting's handlers only, not to
every subscriber of the bus (invoices would refuse a payment for an order it does not know); the end-to-end tests
go through the real bus."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from oms_api.accounting import handlers
from oms_api.invoices.domain.document import Document
from oms_api.invoices.events import DocumentIssued, InvoiceWrittenOff, ReceiptRecorded
from oms_api.kit import bus, outbox
from oms_api.kit.bus import Handler
from oms_api.kit.db import create_engine, session_factory
from oms_api.payments.events import PaymentMoved

HANDLERS: dict[type, Handler] = {
    DocumentIssued: handlers.on_document_issued,
    PaymentMoved: handlers.on_payment_moved,
    ReceiptRecorded: handlers.on_receipt_recorded,
    InvoiceWrittenOff: handlers.on_invoice_written_off,
}


async def publish(database_url: str, *events: Any) -> None:
    """Post ``events`` in one transaction, as accounting's handler runs on the bus in the fact's transaction."""
    assert all(handlers_ in bus.BUS.handlers(type(e)) for e in events for handlers_ in [HANDLERS[type(e)]])
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            for event in events:
                await HANDLERS[type(event)](session, event)
            await outbox.flush_events(session)
            await session.commit()
    finally:
        await engine.dispose()


def issued(document: Document, *, order_id: uuid.UUID, customer_id: uuid.UUID | None = None) -> DocumentIssued:
    return DocumentIssued(
        document_id=uuid.uuid4(),
        invoice_id=uuid.uuid4(),
        order_id=order_id,
        customer_id=customer_id,
        document=document,
        actor="test",
    )


def moved(
    order_id: uuid.UUID,
    amount_minor: int,
    currency: str,
    *,
    kind: str = "capture",
    gateway: str = "stripe",
    base_amount_minor: int | None = None,
    fx_rate: str | None = None,
) -> PaymentMoved:
    return PaymentMoved(
        order_id=order_id,
        payment_id=uuid.uuid4(),
        transaction_id=uuid.uuid4(),
        kind=kind,
        amount_minor=amount_minor,
        currency=currency,
        gateway=gateway,
        base_currency="EUR" if fx_rate or currency == "EUR" else None,
        base_amount_minor=base_amount_minor
        if base_amount_minor is not None
        else (amount_minor if currency == "EUR" else None),
        fx_rate=fx_rate or ("1" if currency == "EUR" else None),
        occurred_at=datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        actor="test",
    )


async def entries(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """Every journal entry (all pages) matching ``params``."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 200, **({"cursor": cursor} if cursor else {})}
        response = await api.get("/v1/accounting/journal-entries", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["data"])
        cursor = body["next_cursor"]
        if not cursor:
            return found


async def trial_balance(api: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await api.get("/v1/accounting/trial-balance", params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_zero(balance: dict[str, Any]) -> None:
    """The trial balance's totals are zero in every currency and in the base currency."""
    for totals in [*balance["currencies"], balance["base"]]:
        assert totals["debit"]["amount"] == totals["credit"]["amount"], totals
        assert totals["balance"]["amount"].lstrip("-") in ("0", "0.00", "0.000"), totals


def line_map(entry: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """account code -> (debit, credit) of an entry (amounts as decimal strings)."""
    return {line["account"]: (line["debit"]["amount"], line["credit"]["amount"]) for line in entry["lines"]}
