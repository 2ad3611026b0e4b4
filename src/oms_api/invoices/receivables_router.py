"""``/v1/invoices/{id}/payments``, ``/v1/invoices/{id}/write-off`` and ``/v1/reports/ar-aging``: receivables."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from oms_api.invoices import service
from oms_api.invoices.aging import ar_aging, report_csv, report_view
from oms_api.invoices.receivables_schemas import (
    AgingReport,
    InvoicePaymentCreate,
    InvoicePayments,
    InvoiceReceipt,
    WriteOffBody,
)
from oms_api.invoices.schemas import Invoice
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.negotiation import quality
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["invoices"], route_class=OmsRoute)

InvoiceId = Annotated[uuid.UUID, Path(description="The invoice's id")]
CSV = "text/csv"


@router.post(
    "/v1/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=InvoiceReceipt,
    responses=errors(404, 409),
)
async def invoice_payments_create(
    invoice_id: InvoiceId,
    body: InvoicePaymentCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> InvoiceReceipt:
    """Record a bank transfer received for an issued invoice (all that is due when no amount is given).

    409 ``invoice_not_issued`` (a draft), ``invoice_settled`` (paid or credited); 422 ``amount_exceeds_due``,
    ``currency_mismatch``. The same ``external_id`` again returns the first receipt and changes nothing."""
    receipt = await service.record_payment(
        session,
        principal.actor,
        invoice_id,
        body.amount.to_money() if body.amount else None,
        source="bank_transfer",
        received_on=body.received_on,
        reference=body.reference,
        external_id=body.external_id,
    )
    response.headers["Location"] = f"/v1/invoices/{invoice_id}/payments"
    allocated = receipt.amount_minor if receipt.kind == "payment" else -receipt.amount_minor
    return service.receipt_view(receipt, allocated)


@router.get("/v1/invoices/{invoice_id}/payments", response_model=InvoicePayments, responses=errors(404))
async def invoice_payments_list(
    invoice_id: InvoiceId, session: Session, _: Principal = require(Scope.INVOICES_READ)
) -> InvoicePayments:
    """The receipts allocated to the invoice (gateway captures and refunds, bank transfers, payments accounting
    reported), oldest first, and what remains due."""
    return await service.payments_of_invoice(session, invoice_id)


@router.post("/v1/invoices/{invoice_id}/write-off", response_model=Invoice, responses=errors(404, 409))
async def invoice_write_off(
    invoice_id: InvoiceId,
    body: WriteOffBody,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> Invoice:
    """Write off what remains due on an issued invoice as uncollectable (event ``invoice.written_off``; the
    invoice counts as settled). 409 ``invoice_not_issued``, ``invoice_settled``."""
    invoice = await service.write_off(session, principal.actor, invoice_id, body.reason)
    set_etag(response, invoice.version)
    return await service.invoice_view(session, invoice)


@router.get(
    "/v1/reports/ar-aging",
    response_model=AgingReport,
    responses={200: {"content": {CSV: {"schema": {"type": "string"}}}, "description": "The report (JSON or CSV)"}},
)
async def ar_aging_report(
    request: Request,
    session: Session,
    as_of: Annotated[date | None, Query(description="The report date (default today)")] = None,
    format: Annotated[Literal["json", "csv"] | None, Query(description="csv: the same as Accept: text/csv")] = None,
    _: Principal = require(Scope.INVOICES_READ),
) -> AgingReport | Response:
    """Accounts receivable aging: what customers owe on issued invoices on ``as_of``, in buckets by days past due
    (current, 1-30, 31-60, 61-90, over 90), per customer and in total, in the base currency at each invoice's
    rate. Invoices issued without a rate are listed per currency under ``unconverted``. Receipts, credit notes
    and write-offs after ``as_of`` are not counted. CSV with ``?format=csv`` or ``Accept: text/csv``."""
    aging = await ar_aging(session, as_of)
    accept = request.headers.get("accept", "")
    if format == "csv" or (format is None and quality(accept, CSV) > quality(accept, "application/json")):
        return Response(
            report_csv(aging),
            media_type=f"{CSV}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="ar-aging-{aging.as_of.isoformat()}.csv"'},
        )
    return report_view(aging)
