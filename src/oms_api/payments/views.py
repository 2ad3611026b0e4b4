"""Payments as the API shows them: figures derived from the ledger, entries with their conversion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from oms_api.kit.money import Money as Amount
from oms_api.kit.schemas import Money
from oms_api.payments import domain
from oms_api.payments.models import Payment as PaymentRow
from oms_api.payments.models import PaymentTransaction
from oms_api.payments.schemas import (
    Payment,
    PaymentConversion,
    PaymentError,
    PaymentEventData,
    PaymentSummary,
    Transaction,
    TransactionLine,
)


def _money(minor: int, currency: str) -> Money:
    return Money.of(Amount.from_minor(minor, currency))


def entry_of(row: PaymentTransaction) -> domain.Entry:
    """A ledger row as the rules read it."""
    return domain.Entry(
        row.id, domain.Kind(row.kind), domain.Step(row.status), row.amount_minor, row.request_id, row.final
    )


def transaction_view(row: PaymentTransaction) -> Transaction:
    fx = None
    if row.fx_rate and row.fx_rate_date and row.base_currency and row.base_amount_minor is not None:
        fx = PaymentConversion(
            rate=row.fx_rate, rate_date=row.fx_rate_date, base_amount=_money(row.base_amount_minor, row.base_currency)
        )
    return Transaction(
        id=row.id,
        kind=row.kind,
        status=row.status,
        request_id=row.request_id,
        amount=_money(row.amount_minor, row.currency),
        final=row.final,
        idempotency_key=row.idempotency_key,
        gateway_reference=row.gateway_reference,
        reason=row.reason,
        lines=[TransactionLine.model_validate(line) for line in row.lines] if row.lines else None,
        error_code=row.error_code,
        error_message=row.error_message,
        fx=fx,
        actor=row.actor,
        created_at=row.created_at,
    )


def _summary_fields(payment: PaymentRow, entries: Sequence[PaymentTransaction]) -> dict[str, Any]:
    f = domain.figures(entry_of(row) for row in entries)
    cur = payment.currency
    last = entries[-1] if entries else None
    failed = last is not None and last.status == domain.Step.FAILED
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "channel_id": payment.channel_id,
        "gateway": payment.gateway,
        "gateway_reference": payment.gateway_reference,
        "status": payment.status,
        "method": payment.method,
        "amount": _money(payment.amount_minor, cur),
        "authorized": _money(f.authorized, cur),
        "captured": _money(f.captured, cur),
        "refunded": _money(f.refunded, cur),
        "voided": _money(f.voided, cur),
        "capturable": _money(f.capturable, cur),
        "refundable": _money(f.refundable, cur),
        "pending": payment.pending_since is not None,
        "last_error": PaymentError(code=last.error_code, message=last.error_message) if failed and last else None,
        "version": payment.version,
        "created_at": payment.created_at,
        "updated_at": payment.updated_at,
    }


def payment_view(payment: PaymentRow, entries: Sequence[PaymentTransaction]) -> Payment:
    return Payment(**_summary_fields(payment, entries), transactions=[transaction_view(row) for row in entries])


def summary_view(payment: PaymentRow, entries: Sequence[PaymentTransaction]) -> PaymentSummary:
    return PaymentSummary(**_summary_fields(payment, entries))


def event_data(
    payment: PaymentRow, entries: Sequence[PaymentTransaction], outcome: PaymentTransaction
) -> dict[str, Any]:
    """The payload of a ``payment.*`` event: the payment's summary and the entry the step appended."""
    data = PaymentEventData(**_summary_fields(payment, entries), transaction=transaction_view(outcome))
    return data.model_dump(mode="json")
