"""``/v1/legal-entities``, ``/v1/invoices``, ``/v1/orders/{id}/invoices`` and ``/v1/credit-notes``: issuing invoices
and credit notes, and handing them out as PDF, Factur-X, CII and UBL."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response

from oms_api.invoices import rendering, service
from oms_api.invoices.domain.document import Document
from oms_api.invoices.issuing import SETTINGS_KEY
from oms_api.invoices.schemas import (
    CreditNote,
    CreditNoteCreate,
    CreditNotes,
    Invoice,
    InvoiceCreate,
    InvoiceList,
    InvoiceStatusName,
    LegalEntity,
    LegalEntityCreate,
    LegalEntityList,
    LegalEntityUpdate,
)
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute

router = APIRouter(tags=["invoices"], route_class=OmsRoute)

PDF = "application/pdf"
XML = "application/xml"
EntityRef = Annotated[
    str,
    Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", description="The legal entity's code or its id"),
]


def _with_settings(request: Request, session: Any) -> None:
    """Issuing converts to the app's base currency: leave its settings where issuing looks for them."""
    session.info[SETTINGS_KEY] = request.app.state.settings


def _document(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "string", "format": "binary"}
    return {200: {"content": {media_type: {"schema": schema}}, "description": description}}


def _file(content: bytes, media_type: str, filename: str) -> Response:
    return Response(content, media_type=media_type, headers={"Content-Disposition": f'inline; filename="{filename}"'})


def _pdf(doc: Document, facturx: bool) -> Response:
    content = rendering.facturx_pdf(doc) if facturx else rendering.pdf(doc)
    return _file(content, PDF, f"{doc.number}.pdf")


def _xml(doc: Document, format_: str) -> Response:
    content = rendering.ubl_xml(doc) if format_ == "ubl" else rendering.cii_xml(doc)
    return _file(content, XML, f"{doc.number}-{format_}.xml")


# --- legal entities ------------------------------------------------------------------------------------------------


@router.post("/v1/legal-entities", status_code=201, response_model=LegalEntity, responses=errors(409))
async def legal_entities_create(
    body: LegalEntityCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> LegalEntity:
    """Add a company that issues invoices. The VAT id is checked and stored normalised (422 ``invalid_vat_id``);
    ``is_default`` makes it issue for channels that name no entity (the first entity is the default anyway).
    409 ``duplicate_legal_entity``."""
    entity = await service.create_entity(session, principal, body)
    response.headers["Location"] = f"/v1/legal-entities/{entity.code}"
    set_etag(response, entity.version)
    return LegalEntity.model_validate(entity)


@router.get("/v1/legal-entities", response_model=LegalEntityList)
async def legal_entities_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    _: Principal = require(Scope.INVOICES_READ),
) -> LegalEntityList:
    """Legal entities, oldest first."""
    result = await service.list_entities(session, page)
    return paginate(request, response, result, LegalEntityList, LegalEntity)


@router.get("/v1/legal-entities/{code}", response_model=LegalEntity, responses=errors(404))
async def legal_entities_get(
    code: EntityRef, session: Session, response: Response, _: Principal = require(Scope.INVOICES_READ)
) -> LegalEntity:
    """One legal entity, by code or id."""
    entity = await service.get_entity(session, code)
    set_etag(response, entity.version)
    return LegalEntity.model_validate(entity)


@router.patch("/v1/legal-entities/{code}", response_model=LegalEntity, responses=errors(404, 412))
async def legal_entities_update(
    code: EntityRef,
    body: LegalEntityUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> LegalEntity:
    """Change a legal entity (not its code). Documents issued before keep the seller as it was. ``If-Match``
    avoids lost updates (412 ``stale_version``)."""
    entity = await service.update_entity(session, principal, code, body, if_match)
    set_etag(response, entity.version)
    return LegalEntity.model_validate(entity)


# --- invoices ------------------------------------------------------------------------------------------------------


@router.post("/v1/orders/{order_id}/invoices", status_code=201, response_model=Invoice, responses=errors(404, 409))
async def order_invoices_create(
    order_id: uuid.UUID,
    request: Request,
    response: Response,
    session: Session,
    body: Annotated[InvoiceCreate | None, Body()] = None,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> Invoice:
    """Invoice the order's units not invoiced yet and not cancelled, or a shipped shipment's units
    (``shipment_id``), at the order's prices; the order's shipping goes on its first invoice. Issued at once
    (numbered in the legal entity's gap-free series), or a draft without number (``draft: true``).

    409 ``nothing_to_invoice``, ``shipment_invoiced``, ``shipment_not_shipped``, ``legal_entity_missing``."""
    given = body or InvoiceCreate()
    _with_settings(request, session)
    if given.draft:
        made = await service.draft_invoice(session, principal.actor, order_id, shipment_id=given.shipment_id)
    else:
        made = await service.invoice_order(session, principal, order_id, shipment_id=given.shipment_id)
    response.headers["Location"] = f"/v1/invoices/{made.invoice.id}"
    set_etag(response, made.invoice.version)
    return service.invoice_view_of(made.invoice, made.lines)


@router.get("/v1/invoices", response_model=InvoiceList)
async def invoices_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[InvoiceStatusName | None, Query()] = None,
    customer_id: Annotated[uuid.UUID | None, Query()] = None,
    order_id: Annotated[uuid.UUID | None, Query()] = None,
    due_before: Annotated[date | None, Query(description="Only invoices due before this day")] = None,
    _: Principal = require(Scope.INVOICES_READ),
) -> InvoiceList:
    """Invoices, oldest first, without their lines (get one for those)."""
    result = await service.list_invoices(
        session, page, status=status, customer_id=customer_id, order_id=order_id, due_before=due_before
    )
    return paginate(request, response, result, InvoiceList, service.summary_view)


@router.get("/v1/invoices/{invoice_id}", response_model=Invoice, responses=errors(404))
async def invoices_get(
    invoice_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Scope.INVOICES_READ)
) -> Invoice:
    """One invoice with its lines, tax breakdown, base-currency totals and what was paid, credited and is due."""
    invoice = await service.get_invoice(session, invoice_id)
    set_etag(response, invoice.version)
    return invoice


@router.post("/v1/invoices/{invoice_id}/issue", response_model=Invoice, responses=errors(404, 409))
async def invoices_issue(
    invoice_id: uuid.UUID,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> Invoice:
    """Issue a draft: its number (the next of its series), issue and due dates are assigned now.
    409 ``invoice_issued``."""
    _with_settings(request, session)
    invoice = await service.issue_draft(session, principal, invoice_id)
    set_etag(response, invoice.version)
    return await service.invoice_view(session, invoice)


@router.delete("/v1/invoices/{invoice_id}", status_code=204, responses=errors(404, 409))
async def invoices_delete(
    invoice_id: uuid.UUID, session: Session, principal: Principal = write_access(Scope.INVOICES_WRITE)
) -> Response:
    """Delete a draft (its units can be invoiced again). An issued invoice is never deleted: 409
    ``invoice_issued`` (correct it with a credit note)."""
    await service.delete_draft(session, principal, invoice_id)
    return Response(status_code=204)


@router.get(
    "/v1/invoices/{invoice_id}/invoice.pdf",
    response_class=Response,
    responses={**_document(PDF, "The A4 invoice (Factur-X: with its CII XML embedded)"), **errors(404, 409)},
)
async def invoices_pdf(
    invoice_id: uuid.UUID,
    session: Session,
    facturx: Annotated[bool, Query(description="Embed the CII XML (Factur-X, EN 16931)")] = True,
    _: Principal = require(Scope.INVOICES_READ),
) -> Response:
    """The invoice as PDF. 409 ``invoice_draft`` for a draft."""
    return _pdf(await service.document_of_invoice(session, invoice_id), facturx)


@router.get(
    "/v1/invoices/{invoice_id}/invoice.xml",
    response_class=Response,
    responses={**_document(XML, "The EN 16931 e-invoice: CII or UBL 2.1"), **errors(404, 409)},
)
async def invoices_xml(
    invoice_id: uuid.UUID,
    session: Session,
    format_: Annotated[Literal["cii", "ubl"], Query(alias="format")] = "cii",
    _: Principal = require(Scope.INVOICES_READ),
) -> Response:
    """The invoice as an EN 16931 e-invoice: UN/CEFACT CII (default) or UBL 2.1 (Peppol). 409 ``invoice_draft``."""
    return _xml(await service.document_of_invoice(session, invoice_id), format_)


# --- credit notes --------------------------------------------------------------------------------------------------


@router.post(
    "/v1/invoices/{invoice_id}/credit-notes", status_code=201, response_model=CreditNote, responses=errors(404, 409)
)
async def invoice_credit_notes_create(
    invoice_id: uuid.UUID,
    body: CreditNoteCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.INVOICES_WRITE),
) -> CreditNote:
    """Correct an issued invoice: give back units of its lines (pro rata, with their tax), its shipping, or a free
    amount (tax included) at one of its rates, for a ``reason``. Numbered in the credit note series.

    409 ``invoice_draft``; 422 ``credit_exceeds_invoice`` (more than remains uncredited, per line or in total)."""
    note = await service.credit_invoice(session, principal, invoice_id, body)
    response.headers["Location"] = f"/v1/credit-notes/{note.id}"
    return await service.get_credit_note(session, note.id)


@router.get("/v1/invoices/{invoice_id}/credit-notes", response_model=CreditNotes, responses=errors(404))
async def invoice_credit_notes_list(
    invoice_id: uuid.UUID, session: Session, _: Principal = require(Scope.INVOICES_READ)
) -> CreditNotes:
    """The invoice's credit notes, oldest first."""
    return await service.credit_notes_of(session, invoice_id)


@router.get("/v1/credit-notes/{credit_note_id}", response_model=CreditNote, responses=errors(404))
async def credit_notes_get(
    credit_note_id: uuid.UUID, session: Session, _: Principal = require(Scope.INVOICES_READ)
) -> CreditNote:
    """One credit note with its lines and the invoice it corrects."""
    return await service.get_credit_note(session, credit_note_id)


@router.get(
    "/v1/credit-notes/{credit_note_id}/credit-note.pdf",
    response_class=Response,
    responses={**_document(PDF, "The A4 credit note (Factur-X: with its CII XML embedded)"), **errors(404)},
)
async def credit_notes_pdf(
    credit_note_id: uuid.UUID,
    session: Session,
    facturx: Annotated[bool, Query(description="Embed the CII XML (Factur-X, EN 16931)")] = True,
    _: Principal = require(Scope.INVOICES_READ),
) -> Response:
    """The credit note as PDF; it names the invoice it corrects."""
    return _pdf(await service.document_of_credit_note(session, credit_note_id), facturx)


@router.get(
    "/v1/credit-notes/{credit_note_id}/credit-note.xml",
    response_class=Response,
    responses={**_document(XML, "The EN 16931 credit note: CII or UBL 2.1"), **errors(404)},
)
async def credit_notes_xml(
    credit_note_id: uuid.UUID,
    session: Session,
    format_: Annotated[Literal["cii", "ubl"], Query(alias="format")] = "cii",
    _: Principal = require(Scope.INVOICES_READ),
) -> Response:
    """The credit note as an EN 16931 e-invoice document: CII (default) or UBL 2.1 CreditNote."""
    return _xml(await service.document_of_credit_note(session, credit_note_id), format_)
