"""``/v1/payments`` and ``/v1/orders/{id}/payments``: an order's money from authorisation to refund."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute
from oms_api.payments import service
from oms_api.payments.schemas import (
    CaptureBody,
    OrderPayments,
    Payment,
    PaymentCreate,
    PaymentList,
    PaymentStatusName,
    PaymentSummary,
    RefundBody,
    VoidBody,
)
from oms_api.settings import Settings

router = APIRouter(tags=["payments"], route_class=OmsRoute)


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _client_key(request: Request) -> str | None:
    return request.headers.get("idempotency-key")


def _answer(response: Response, loaded: service.Loaded) -> Payment:
    set_etag(response, loaded.payment.version)
    return service.payment_view(loaded.payment, loaded.entries)


@router.get("/v1/orders/{order_id}/payments", response_model=OrderPayments, responses=errors(404))
async def order_payments_list(
    order_id: uuid.UUID, session: Session, _: Principal = require(Scope.PAYMENTS_READ)
) -> OrderPayments:
    """The order's payments, each with its ledger, and the order's payment status."""
    return await service.order_payments(session, order_id)


@router.post("/v1/orders/{order_id}/payments", status_code=201, response_model=Payment, responses=errors(404, 409))
async def order_payments_create(
    order_id: uuid.UUID,
    body: PaymentCreate,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.PAYMENTS_WRITE),
) -> Payment:
    """Authorise a payment for the order with its channel's gateway: a payment method token (Stripe ``pm_…``) or,
    on the test gateway, a test card.

    The amount defaults to what the order owes less what its payments already hold; it must be in the order's
    currency (422 ``currency_mismatch``). The payment is created whatever the gateway answers: read its
    ``status`` (``authorized``, ``failed`` with ``last_error``, ``requires_action``, ``pending``). A success
    resumes an order held for payment. 409 ``order_not_payable``, ``nothing_to_authorize``."""
    loaded = await service.authorize_for_order(
        session, _settings(request), principal, order_id, body, _client_key(request)
    )
    response.headers["Location"] = f"/v1/payments/{loaded.payment.id}"
    return _answer(response, loaded)


@router.get("/v1/payments", response_model=PaymentList)
async def payments_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    status: Annotated[PaymentStatusName | None, Query()] = None,
    order_id: Annotated[uuid.UUID | None, Query()] = None,
    _: Principal = require(Scope.PAYMENTS_READ),
) -> PaymentList:
    """Payments, oldest first, without their ledgers (get one for those)."""
    result = await service.list_payments(session, page, status=status, order_id=order_id)
    return paginate(request, response, result, PaymentList, PaymentSummary)


@router.get("/v1/payments/{payment_id}", response_model=Payment, responses=errors(404))
async def payments_get(
    payment_id: uuid.UUID, session: Session, response: Response, _: Principal = require(Scope.PAYMENTS_READ)
) -> Payment:
    """One payment with its ledger: every request to the gateway and its outcome, with the conversion of each
    amount to the base currency."""
    payment = await service.get_payment(session, payment_id)
    set_etag(response, payment.version)
    return payment


@router.post("/v1/payments/{payment_id}/capture", response_model=Payment, responses=errors(404, 409))
async def payments_capture(
    payment_id: uuid.UUID,
    body: CaptureBody,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.PAYMENTS_WRITE),
) -> Payment:
    """Capture part or all of what is authorised (default: all of it, as the final capture).

    409 ``capture_exceeds_authorized`` (with ``capturable``), ``nothing_to_capture``, ``external_payment``; 422
    ``currency_mismatch``. A refusal by the gateway is recorded and answered 200 (``last_error``)."""
    loaded = await service.capture(session, _settings(request), principal, payment_id, body, _client_key(request))
    return _answer(response, loaded)


@router.post("/v1/payments/{payment_id}/void", response_model=Payment, responses=errors(404, 409))
async def payments_void(
    payment_id: uuid.UUID,
    body: VoidBody,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.PAYMENTS_WRITE),
) -> Payment:
    """Release what is authorised and not captured. 409 ``nothing_to_void``, ``external_payment``."""
    loaded = await service.void(session, _settings(request), principal, payment_id, body.reason)
    return _answer(response, loaded)


@router.post("/v1/payments/{payment_id}/refund", response_model=Payment, responses=errors(404, 409))
async def payments_refund(
    payment_id: uuid.UUID,
    body: RefundBody,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.PAYMENTS_WRITE),
) -> Payment:
    """Give back part or all of what was captured, for a ``reason``, optionally naming the order lines (their
    value is the amount when none is given). Refunds may be partial and repeated.

    409 ``refund_exceeds_captured`` (with ``refundable``), ``nothing_to_refund``, ``external_payment``; 422
    ``currency_mismatch`` or a line that is not the order's."""
    loaded = await service.refund(session, _settings(request), principal, payment_id, body, _client_key(request))
    return _answer(response, loaded)


@router.post("/v1/payments/{payment_id}/confirm", response_model=Payment, responses=errors(404, 409))
async def payments_confirm(
    payment_id: uuid.UUID,
    request: Request,
    response: Response,
    session: Session,
    principal: Principal = write_access(Scope.PAYMENTS_WRITE),
) -> Payment:
    """After the customer completed the gateway's challenge (3-D Secure): ask the gateway how the authorisation
    stands and record it; a success resumes an order held for payment. 409 ``nothing_to_confirm``."""
    loaded = await service.confirm(session, _settings(request), principal, payment_id)
    return _answer(response, loaded)
