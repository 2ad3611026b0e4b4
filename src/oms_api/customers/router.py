"""``/v1/customers``: the customer database."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.customers import service
from oms_api.customers.domain import EXTERNAL_ID_MAX_LENGTH
from oms_api.customers.schemas import Customer, CustomerCreate, CustomerList, CustomerUpdate
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute

router = APIRouter(prefix="/v1/customers", tags=["customers"], route_class=OmsRoute)

NO_NUL = r"^[^\x00]*$"  # PostgreSQL cannot take NUL in a text parameter: refuse it as a 422, not a 500
CustomerId = Annotated[uuid.UUID, Path(description="The customer's id")]


@router.post("", status_code=201, response_model=Customer, responses=errors(409))
async def customers_create(
    body: CustomerCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.CUSTOMERS_WRITE),
) -> Customer:
    """Create a customer. An e-mail address may belong to one customer only (409 ``duplicate_email``)."""
    customer = await service.create_customer(session, principal, body)
    response.headers["Location"] = f"/v1/customers/{customer.id}"
    set_etag(response, customer.version)
    return Customer.model_validate(customer)


@router.get("", response_model=CustomerList)
async def customers_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    email: Annotated[str | None, Query(max_length=320, pattern=NO_NUL, description="Exact address, any case")] = None,
    tag: Annotated[str | None, Query(max_length=32, pattern=r"^[a-z0-9][a-z0-9_-]*$")] = None,
    q: Annotated[
        str | None, Query(max_length=100, pattern=NO_NUL, description="Words to find in names, e-mail and company")
    ] = None,
    external_ref: Annotated[
        str | None,
        Query(
            max_length=41 + EXTERNAL_ID_MAX_LENGTH,
            pattern=r"^[a-z0-9_-]{1,40}:[^\x00-\x1f\x7f]+$",
            description="The customer's id in another system, as source:id (e.g. shopify:7365432)",
        ),
    ] = None,
    _: Principal = require(Scope.CUSTOMERS_READ),
) -> CustomerList:
    """List customers, oldest first."""
    result = await service.list_customers(session, page, email=email, tag=tag, q=q, external_ref=external_ref)
    return paginate(request, response, result, CustomerList, Customer)


@router.get("/{customer_id}", response_model=Customer, responses=errors(404))
async def customers_get(
    customer_id: CustomerId, session: Session, response: Response, _: Principal = require(Scope.CUSTOMERS_READ)
) -> Customer:
    """One customer."""
    found = await service.get_customer(session, customer_id)
    set_etag(response, found.version)
    return Customer.model_validate(found)


@router.patch("/{customer_id}", response_model=Customer, responses=errors(404, 409, 412))
async def customers_update(
    customer_id: CustomerId,
    body: CustomerUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.CUSTOMERS_WRITE),
) -> Customer:
    """Change a customer; absent fields stay, lists are replaced whole. A new e-mail must be free (409).

    Send ``If-Match`` with the ETag you read to avoid lost updates (412 ``stale_version``)."""
    updated = await service.update_customer(session, principal, customer_id, body, if_match)
    set_etag(response, updated.version)
    return Customer.model_validate(updated)
