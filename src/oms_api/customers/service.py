"""Customer use cases. The orders context calls ``get_customer`` and ``resolve_for_order``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.customers import domain, repository
from oms_api.customers.models import Customer
from oms_api.customers.schemas import CustomerCreate, CustomerRef, CustomerUpdate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.settings import get_settings


def snapshot(customer: Customer) -> dict[str, object]:
    """The event payload: enough to recognise the customer and how it is invoiced, no addresses, phone or notes
    (data minimisation)."""
    return {
        "id": str(customer.id),
        "email": customer.email,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "tags": list(customer.tags),
        "company": customer.company,
        "vat_id": customer.vat_id,
        "payment_terms": customer.payment_terms,
        "credit_limit_minor": customer.credit_limit_minor,
        "version": customer.version,
    }


async def get_customer(session: AsyncSession, customer_id: uuid.UUID) -> Customer:
    """The customer with this id (``NotFound`` ``customer_not_found`` otherwise)."""
    customer = await repository.get(session, customer_id)
    if customer is None:
        raise NotFound(f"No customer {customer_id}", code="customer_not_found")
    return customer


def _duplicate(existing: Customer) -> Conflict:
    return Conflict(
        "Another customer already has this e-mail address", code="duplicate_email", existing_id=str(existing.id)
    )


def _stored(data: CustomerCreate | CustomerUpdate) -> dict[str, Any]:
    """Column values from a body: addresses as JSON-ready dicts without the nulls."""
    values = data.model_dump(exclude_unset=isinstance(data, CustomerUpdate))
    if "addresses" in values:
        values["addresses"] = [a.model_dump(mode="json", exclude_none=True) for a in data.addresses or []]
    if "payment_terms" in values:
        values["payment_terms"] = None if data.payment_terms is None else data.payment_terms.to_domain().to_json()
    if "credit_limit" in values:
        del values["credit_limit"]
        values["credit_limit_minor"] = _credit_limit_minor(data)
    return values


def _credit_limit_minor(data: CustomerCreate | CustomerUpdate) -> int | None:
    """A credit limit is in the base currency: that is the currency receivables and exposure are summed in."""
    if data.credit_limit is None:
        return None
    base = get_settings().base_currency
    if data.credit_limit.currency != base:
        raise field_error(
            "/body/credit_limit/currency", f"a credit limit is in the base currency ({base})", "currency_not_base"
        )
    return data.credit_limit.to_money().minor


async def _find_or_add(session: AsyncSession, actor: Principal, data: CustomerCreate) -> tuple[Customer, bool]:
    """``(customer, True)`` when created; ``(existing, False)`` when the e-mail belongs to someone already,
    including a customer a concurrent request created a moment ago."""
    if data.email is not None:
        existing = await repository.get_by_email(session, data.email)
        if existing is not None:
            return existing, False
    customer = Customer(**_stored(data))
    if not await repository.insert(session, customer):
        winner = await repository.get_by_email(session, data.email) if data.email is not None else None
        if winner is None:  # not the unique e-mail after all: a bug, let it surface
            raise RuntimeError("inserting a customer failed for another reason than a duplicate e-mail")
        return winner, False
    outbox.record(session, "customer.created", "customer", customer.id, snapshot(customer), actor=actor.actor)
    return customer, True


async def create_customer(session: AsyncSession, actor: Principal, data: CustomerCreate) -> Customer:
    customer, created = await _find_or_add(session, actor, data)
    if not created:
        raise _duplicate(customer)
    return customer


async def resolve_for_order(session: AsyncSession, actor: Principal, details: CustomerCreate) -> Customer:
    """The customer an order with inline customer details belongs to.

    An e-mail already on file (case-insensitively) names the existing customer, who is returned as is: the
    order's details do not overwrite a profile. Otherwise the customer is created (event ``customer.created``).
    """
    customer, _ = await _find_or_add(session, actor, details)
    return customer


async def customer_for(
    session: AsyncSession, actor: Principal, customer: CustomerRef | CustomerCreate | None
) -> uuid.UUID | None:
    """The id of the customer an order or a cart names: an existing one by id (422 ``unknown_customer``
    otherwise) or inline details (``resolve_for_order``); None when it names none."""
    if customer is None:
        return None
    if isinstance(customer, CustomerRef):
        try:
            return (await get_customer(session, customer.id)).id
        except NotFound as exc:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer") from exc
    return (await resolve_for_order(session, actor, customer)).id


async def update_customer(
    session: AsyncSession, actor: Principal, customer_id: uuid.UUID, data: CustomerUpdate, if_match: str | None
) -> Customer:
    customer = await get_customer(session, customer_id)
    check_if_match(if_match, customer.version)
    changes = {k: v for k, v in _stored(data).items() if getattr(customer, k) != v}
    if not changes:
        return customer
    merged = {f: changes.get(f, getattr(customer, f)) for f in ("email", "first_name", "last_name", "company", "phone")}
    if not domain.has_identity(**merged):
        raise field_error(
            "/body",
            "a customer keeps at least one of email, first_name, last_name, company or phone",
            code="missing_identity",
        )
    new_email = changes.get("email")
    if new_email is not None:
        clash = await repository.get_by_email(session, new_email, exclude=customer.id)
        if clash is not None:
            raise _duplicate(clash)
    for field, value in changes.items():
        setattr(customer, field, value)
    customer.version += 1
    if not await repository.save(session, customer):
        clash = await repository.get_by_email(session, new_email, exclude=customer_id) if new_email else None
        if clash is None:
            raise RuntimeError("updating a customer failed for another reason than a duplicate e-mail")
        raise _duplicate(clash)
    outbox.record(session, "customer.updated", "customer", customer.id, snapshot(customer), actor=actor.actor)
    return customer


async def list_customers(
    session: AsyncSession,
    page: PageParams,
    *,
    email: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    external_ref: str | None = None,
) -> Slice[Customer]:
    """A page of customers; ``external_ref`` is written ``source:id`` (e.g. ``shopify:123``)."""
    ref = None
    if external_ref is not None:
        try:
            ref = domain.parse_external_ref(external_ref)
        except ValueError as exc:
            raise field_error("/query/external_ref", str(exc), code="invalid_external_ref") from exc
    return await repository.list_customers(session, page, email=email, tag=tag, q=q, external_ref=ref)


async def billing_of(session: AsyncSession, customer_id: uuid.UUID) -> domain.Billing | None:
    """What invoicing and credit control need of a customer (None when there is no such customer)."""
    customer = await repository.get(session, customer_id)
    if customer is None:
        return None
    person = " ".join(p for p in (customer.first_name, customer.last_name) if p)
    return domain.Billing(
        customer_id=customer.id,
        name=person or customer.email or customer.company or "",
        company=customer.company,
        vat_id=customer.vat_id,
        email=customer.email,
        terms=None if customer.payment_terms is None else domain.PaymentTerms.from_json(customer.payment_terms),
        credit_limit_minor=customer.credit_limit_minor,
    )
