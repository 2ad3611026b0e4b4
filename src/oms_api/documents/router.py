"""Printable documents: shipping labels (PDF and ZPL), packing slips and receipts."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Response

from oms_api.documents import service
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.openapi import errors
from oms_api.kit.routing import OmsRoute

PDF = "application/pdf"
ZPL = "text/plain; charset=utf-8"


def _document(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    schema = {"type": "string"} if media_type.startswith("text/") else {"type": "string", "format": "binary"}
    return {200: {"content": {media_type.split(";")[0]: {"schema": schema}}, "description": description}}


def _pdf(content: bytes, filename: str) -> Response:
    return Response(content, media_type=PDF, headers={"Content-Disposition": f'inline; filename="{filename}"'})


router = APIRouter(tags=["documents"], route_class=OmsRoute)


@router.get(
    "/v1/packages/{package_id}/label.pdf",
    response_class=Response,
    responses={**_document(PDF, "A 4x6 in shipping label"), **errors(404, 409)},
)
async def packages_label_pdf(
    package_id: uuid.UUID, session: Session, _: Principal = require(Scope.FULFILMENT_READ)
) -> Response:
    """The package's shipping label, 4x6 in: sender, recipient, carrier and the tracking number as Code 128.
    409 ``no_tracking_number`` until the package has one."""
    return _pdf(await service.label_pdf(session, package_id), f"label-{package_id}.pdf")


@router.get(
    "/v1/packages/{package_id}/label.zpl",
    response_class=Response,
    responses={**_document(ZPL, "The same label as ZPL II for 203 dpi thermal printers"), **errors(404, 409)},
)
async def packages_label_zpl(
    package_id: uuid.UUID, session: Session, _: Principal = require(Scope.FULFILMENT_READ)
) -> Response:
    """The package's shipping label as ZPL II (4x6 in at 203 dpi, UTF-8), for thermal printers."""
    content = await service.label_zpl(session, package_id)
    return Response(
        content, media_type=ZPL, headers={"Content-Disposition": f'inline; filename="label-{package_id}.zpl"'}
    )


@router.get(
    "/v1/shipments/{shipment_id}/packing-slip.pdf",
    response_class=Response,
    responses={**_document(PDF, "An A4 packing slip"), **errors(404)},
)
async def shipments_packing_slip_pdf(
    shipment_id: uuid.UUID, session: Session, _: Principal = require(Scope.FULFILMENT_READ)
) -> Response:
    """The packing slip that travels in the box. A gift order's slip shows the gift message and no prices."""
    return _pdf(await service.packing_slip_pdf(session, shipment_id), f"packing-slip-{shipment_id}.pdf")


@router.get(
    "/v1/orders/{order_id}/receipt.pdf",
    response_class=Response,
    responses={**_document(PDF, "An A4 receipt"), **errors(404)},
)
async def orders_receipt_pdf(
    order_id: uuid.UUID, session: Session, _: Principal = require(Scope.ORDERS_READ)
) -> Response:
    """The order's receipt: every line with price, discount and tax, and the totals."""
    return _pdf(await service.receipt_pdf(session, order_id), f"receipt-{order_id}.pdf")
