"""Random sequences of financial facts (invoices and credit notes in several currencies, with and without a rate,
captures, refunds, receipts, write-offs, replays) posted by accounting's handlers on SQLite: after each sequence
every entry balances in its currency and, unless pending, in the base currency, and the trial balance is zero."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from oms_api.accounting import handlers, service
from oms_api.accounting.models import JournalEntry, JournalLine
from oms_api.invoices.domain.document import DocumentKind
from oms_api.invoices.events import InvoiceWrittenOff, ReceiptRecorded
from oms_api.kit import outbox
from oms_api.kit.bus import Handler
from oms_api.kit.db import create_engine, session_factory
from tests.support.accounting import issued, moved
from tests.support.invoice_documents import Spec, document

RATES: dict[str, list[str | None]] = {"USD": ["0.92", "0.9517", None], "JPY": ["0.0062", None], "EUR": [None]}


@st.composite
def facts(draw: st.DrawFn) -> list[Any]:
    order_id = uuid.uuid4()
    currency = draw(st.sampled_from(sorted(RATES)))
    rate = draw(st.sampled_from(RATES[currency]))
    quantum = "1" if currency == "JPY" else "0.01"
    specs = tuple(
        Spec(
            f"Item {n}",
            draw(st.integers(1, 5)),
            str(Decimal(draw(st.integers(1, 50_000))) * Decimal(quantum)),
            draw(st.sampled_from(["0.19", "0.07", "0"])),
        )
        for n in range(draw(st.integers(1, 3)))
    )
    invoice = document(specs, currency=currency, base_currency="EUR" if rate else None, fx_rate=rate or "1")
    event = issued(invoice, order_id=order_id)
    out: list[Any] = [event]
    total = invoice.grand_total.minor
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["capture", "refund", "receipt", "credit", "write_off", "replay"]))
        amount = draw(st.integers(1, max(total, 1)))
        pay_rate: str | None = draw(st.sampled_from(RATES[currency])) if currency != "EUR" else "1"
        base = round(amount * Decimal(pay_rate) * (100 if currency == "JPY" else 1)) if pay_rate else None
        if kind in ("capture", "refund"):
            out.append(moved(order_id, amount, currency, kind=kind, base_amount_minor=base, fx_rate=pay_rate))
        elif kind == "receipt":
            out.append(
                ReceiptRecorded(
                    receipt_id=uuid.uuid4(),
                    invoice_id=event.invoice_id,
                    order_id=order_id,
                    customer_id=None,
                    source="bank_transfer",
                    amount_minor=amount,
                    currency=currency,
                    base_currency="EUR" if pay_rate else None,
                    base_amount_minor=base,
                    fx_rate=pay_rate,
                    received_on=date(2026, 11, 25),
                    reference=None,
                    actor="test",
                )
            )
        elif kind == "write_off":
            out.append(
                InvoiceWrittenOff(
                    invoice_id=event.invoice_id,
                    order_id=order_id,
                    customer_id=None,
                    amount_minor=amount,
                    currency=currency,
                    base_currency="EUR" if pay_rate else None,
                    base_amount_minor=base,
                    fx_rate=pay_rate,
                    reason="gone",
                    actor="test",
                )
            )
        elif kind == "credit":
            note = document(specs[:1], currency=currency, base_currency="EUR" if rate else None, fx_rate=rate or "1",
                            kind=DocumentKind.CREDIT_NOTE, number="CN-1")  # fmt: skip
            out.append(issued(note, order_id=order_id))
        else:
            out.append(event)
    return out


HANDLERS: dict[str, Handler] = {
    "DocumentIssued": handlers.on_document_issued,
    "PaymentMoved": handlers.on_payment_moved,
    "ReceiptRecorded": handlers.on_receipt_recorded,
    "InvoiceWrittenOff": handlers.on_invoice_written_off,
}


async def _post_and_check(url: str, sequence: list[Any]) -> None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            for fact in sequence:
                await HANDLERS[type(fact).__name__](session, fact)
            await outbox.flush_events(session)
            await session.commit()
        async with session_factory(engine)() as session:
            sums = select(
                JournalLine.entry_id,
                func.sum(JournalLine.debit_minor - JournalLine.credit_minor),
                func.sum(JournalLine.base_debit_minor - JournalLine.base_credit_minor),
            ).group_by(JournalLine.entry_id)
            pending = set((await session.execute(select(JournalEntry.id).where(JournalEntry.base_pending))).scalars())
            for entry_id, difference, base_difference in (await session.execute(sums)).all():
                assert difference == 0
                assert base_difference == (None if entry_id in pending else 0)
            balance = await service.trial_balance(session, None)
            for totals in [*balance.currencies, balance.base]:
                assert Decimal(totals.balance.amount) == 0
    finally:
        await engine.dispose()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(facts(), min_size=1, max_size=3))
def test_every_entry_balances_and_the_trial_balance_is_zero(sqlite_url: str, orders: list[list[Any]]) -> None:
    sequence = [fact for order in orders for fact in order]
    asyncio.run(_post_and_check(sqlite_url, sequence))
