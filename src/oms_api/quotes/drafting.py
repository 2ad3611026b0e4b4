"""Drafting a quote: create it and change it while it is a draft, priced as the order it would become.

Prices and taxes come from orders' own pricing (``orders.service.preview_order``: the same validation of the
channel, customer, SKUs and amounts, the same tax rules at the shipping address and the same shipping charge),
so that accepting the quote places an order of the same amounts, barring a tax rate that changed in between.
The quote keeps what the preview gave; its totals are the sums of its lines (``quotes.domain.totals``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.customers.schemas import CustomerRef
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, ProblemError, ValidationFailed, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.quotes import domain, reading, repository
from oms_api.quotes.domain import QuoteStatus
from oms_api.quotes.models import Quote as QuoteRow
from oms_api.quotes.models import QuoteLine as LineRow
from oms_api.quotes.schemas import Quote, QuoteCreate, QuoteLineIn, QuoteUpdate

PREVIEW_REF = "quote-preview"
"""The external_ref of the order a quote is priced as (never written)."""


@dataclass(frozen=True, slots=True)
class _Terms:
    """What a quote's prices depend on."""

    channel_id: uuid.UUID
    currency: str
    customer_id: uuid.UUID
    shipping_address: dict[str, Any]
    billing_address: dict[str, Any] | None
    lines: Sequence[QuoteLineIn]
    shipping_price: MoneyIn | None
    prices_include_tax: bool | None


def _no_duplicates(lines: Sequence[QuoteLineIn]) -> None:
    seen: set[str] = set()
    problems = []
    for i, line in enumerate(lines):
        if line.sku in seen:
            problems.append(
                ProblemError(
                    pointer=f"/body/lines/{i}/sku", detail=f"SKU {line.sku!r} is given twice", code="duplicate_sku"
                )
            )
        seen.add(line.sku)
    if problems:
        raise ValidationFailed(problems)


def _check_validity(valid_until: date, today: date) -> None:
    problem = domain.validity_problem(valid_until, today)
    if problem is not None:
        raise field_error("/body/valid_until", problem, "invalid_validity")


async def _check_customer(session: AsyncSession, customer_id: uuid.UUID) -> None:
    if await customers.billing_of(session, customer_id) is None:
        raise field_error("/body/customer_id", "no customer has this id", "unknown_customer")


async def _preview(session: AsyncSession, actor: Principal, terms: _Terms) -> Order:
    """The order these terms would place, priced (422 naming the quote's field when something cannot be)."""
    body = OrderCreate.model_validate(
        {
            "channel": str(terms.channel_id),
            "external_ref": PREVIEW_REF,
            "currency": terms.currency,
            "customer": CustomerRef(id=terms.customer_id),
            "shipping_address": terms.shipping_address,
            "billing_address": terms.billing_address,
            "lines": [line.model_dump(exclude_none=True) for line in terms.lines],
            "shipping_price": terms.shipping_price,
            "prices_include_tax": terms.prices_include_tax,
        }
    )
    return await orders.preview_order(session, actor, body)


def _apply(quote: QuoteRow, priced: Order, shipping_price: MoneyIn | None) -> list[LineRow]:
    """Write the priced amounts onto the quote; returns its new lines."""
    cur = quote.currency
    lines = []
    money_lines = []
    for line in priced.lines:
        assert line.sku_id is not None  # placement's validation refuses unknown SKUs
        unit, discount, tax = line.unit_price.to_money(), line.discount.to_money(), line.tax.to_money()
        money_lines.append(domain.LineMoney(line.quantity, unit, discount, tax))
        lines.append(
            LineRow(
                id=uuid7(),
                quote_id=quote.id,
                line_no=line.line_no,
                sku_id=line.sku_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price_minor=unit.minor,
                discount_minor=discount.minor,
                tax_rate=line.tax_rate,
                tax_category=line.tax_category,
                tax_minor=tax.minor,
                total_minor=line.total.to_money().minor,
            )
        )
    given = priced.totals
    shipping, shipping_tax = given.shipping_total.to_money(), given.shipping_tax.to_money()
    totals = domain.totals(cur, money_lines, shipping, shipping_tax, tax_included=priced.prices_include_tax)
    if totals.grand_total != given.grand_total.to_money():  # both are sums of the same lines
        raise RuntimeError(f"quote {quote.number}: totals disagree with orders' pricing")
    quote.prices_include_tax = priced.prices_include_tax
    quote.shipping_price_minor = shipping_price.to_money().minor if shipping_price is not None else None
    quote.subtotal_minor = totals.subtotal.minor
    quote.discount_minor = totals.discount.minor
    quote.shipping_minor = totals.shipping.minor
    quote.shipping_tax_minor = shipping_tax.minor
    quote.tax_minor = totals.tax.minor
    quote.grand_total_minor = totals.grand_total.minor
    quote.tax_breakdown = [
        {
            "rate": entry.rate,
            "category": entry.category,
            "taxable_minor": entry.taxable.to_money().minor,
            "tax_minor": entry.tax.to_money().minor,
        }
        for entry in given.tax_breakdown
    ] or None
    return lines


async def create_quote(session: AsyncSession, actor: Principal, body: QuoteCreate) -> Quote:
    """A draft quote, priced; 422 naming the field when the channel, customer, a SKU or an amount cannot be."""
    channel = await channels.selling_channel(session, body.channel)
    await _check_customer(session, body.customer_id)
    today = utcnow().date()
    valid_until = body.valid_until or domain.default_validity(today)
    _check_validity(valid_until, today)
    _no_duplicates(body.lines)
    shipping_address = body.shipping_address.model_dump(mode="json", exclude_none=True)
    billing_address = body.billing_address.model_dump(mode="json", exclude_none=True) if body.billing_address else None
    terms = _Terms(
        channel.id,
        body.currency or channel.default_currency,
        body.customer_id,
        shipping_address,
        billing_address,
        body.lines,
        body.shipping_price,
        body.prices_include_tax,
    )
    priced = await _preview(session, actor, terms)
    now = utcnow()
    quote = QuoteRow(
        id=uuid7(),
        number=domain.number(today.year, await repository.next_number(session, today.year)),
        channel_id=channel.id,
        customer_id=body.customer_id,
        currency=terms.currency,
        status=QuoteStatus.DRAFT.value,
        valid_until=valid_until,
        reserve_stock=body.reserve_stock,
        shipping_address=shipping_address,
        billing_address=billing_address,
        notes=body.notes,
        created_at=now,
        updated_at=now,
        version=1,
    )
    lines = _apply(quote, priced, body.shipping_price)
    await repository.add(session, quote, lines)
    view = reading.quote_view(quote, lines, channel.code)
    reading.record(session, "quote.created", view, actor.actor)
    return view


def _line_in(line: LineRow, currency: str) -> QuoteLineIn:
    return QuoteLineIn.model_construct(
        sku=line.sku,
        quantity=line.quantity,
        unit_price=MoneyIn.of(Money.from_minor(line.unit_price_minor, currency)),
        discount=MoneyIn.of(Money.from_minor(line.discount_minor, currency)) if line.discount_minor else None,
    )


_PRICED_BY = frozenset({"lines", "shipping_address", "billing_address", "shipping_price", "prices_include_tax"})


async def update_quote(
    session: AsyncSession, actor: Principal, quote_id: uuid.UUID, body: QuoteUpdate, if_match: str | None
) -> Quote:
    """Change a draft (412 on a stale If-Match, 409 ``quote_not_draft`` once sent); priced again when what its
    prices depend on changed."""
    quote = await reading.load(session, quote_id, for_update=True)
    check_if_match(if_match, quote.version)
    try:
        domain.check_editable(quote.status)
    except domain.QuoteRefused as exc:
        raise Conflict(str(exc), code=exc.code, current_status=quote.status) from exc
    given = body.model_fields_set
    if not given:
        return await reading.view_of(session, quote)
    if "valid_until" in given:
        if body.valid_until is None:
            raise field_error("/body/valid_until", "a quote has a validity date", "invalid_validity")
        _check_validity(body.valid_until, utcnow().date())
        quote.valid_until = body.valid_until
    if body.reserve_stock is not None:
        quote.reserve_stock = body.reserve_stock
    if "notes" in given:
        quote.notes = body.notes
    if "shipping_address" in given:
        if body.shipping_address is None:
            raise field_error("/body/shipping_address", "a quote has a shipping address", "missing")
        quote.shipping_address = body.shipping_address.model_dump(mode="json", exclude_none=True)
    if "billing_address" in given:
        billing = body.billing_address
        quote.billing_address = billing.model_dump(mode="json", exclude_none=True) if billing else None
    lines = (await repository.lines_of(session, [quote.id]))[quote.id]
    if given & _PRICED_BY:
        if body.lines is not None:
            _no_duplicates(body.lines)
        current = [_line_in(line, quote.currency) for line in lines]
        stored_shipping = (
            None
            if quote.shipping_price_minor is None
            else MoneyIn.of(Money.from_minor(quote.shipping_price_minor, quote.currency))
        )
        terms = _Terms(
            quote.channel_id,
            quote.currency,
            quote.customer_id,
            quote.shipping_address,
            quote.billing_address,
            body.lines if body.lines is not None else current,
            body.shipping_price if "shipping_price" in given else stored_shipping,
            body.prices_include_tax if body.prices_include_tax is not None else quote.prices_include_tax,
        )
        priced = await _preview(session, actor, terms)
        lines = _apply(quote, priced, terms.shipping_price)
        await repository.replace_lines(session, quote.id, lines)
    quote.version += 1
    quote.updated_at = utcnow()
    await session.flush()
    view = await reading.view_of(session, quote)
    reading.record(session, "quote.updated", view, actor.actor)
    return view
