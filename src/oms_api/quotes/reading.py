"""Reading quotes: one with its lines, lists, and the wire form (also the events' payload)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.kit import outbox
from oms_api.kit.errors import NotFound
from oms_api.kit.money import Money
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.schemas import Address
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.orders.schemas import TaxBreakdownEntry
from oms_api.quotes import domain, repository
from oms_api.quotes.models import Quote as QuoteRow
from oms_api.quotes.models import QuoteLine as LineRow
from oms_api.quotes.schemas import Quote, QuoteLine, QuoteSummary, QuoteTotals


def _money(minor: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money.from_minor(minor, currency))


async def load(session: AsyncSession, quote_id: uuid.UUID, *, for_update: bool = False) -> QuoteRow:
    quote = await repository.get(session, quote_id, for_update=for_update)
    if quote is None:
        raise NotFound(f"No quote {quote_id}", code="quote_not_found")
    return quote


def quote_view(quote: QuoteRow, lines: Sequence[LineRow], channel_code: str) -> Quote:
    cur = quote.currency
    held = quote.reserve_stock and quote.status == domain.QuoteStatus.SENT
    return Quote(
        id=quote.id,
        number=quote.number,
        channel=channel_code,
        channel_id=quote.channel_id,
        customer_id=quote.customer_id,
        currency=cur,
        status=quote.status,
        allowed_transitions=domain.allowed(quote.status),
        valid_until=quote.valid_until,
        reserve_stock=quote.reserve_stock,
        stock_held_until=domain.hold_expiry(quote.valid_until) if held else None,
        shipping_address=Address.model_validate(quote.shipping_address),
        billing_address=Address.model_validate(quote.billing_address) if quote.billing_address else None,
        notes=quote.notes,
        prices_include_tax=quote.prices_include_tax,
        lines=[
            QuoteLine(
                id=line.id,
                line_no=line.line_no,
                sku=line.sku,
                sku_id=line.sku_id,
                name=line.name,
                quantity=line.quantity,
                unit_price=_money(line.unit_price_minor, cur),
                discount=_money(line.discount_minor, cur),
                tax_rate=line.tax_rate or None,
                tax_category=line.tax_category,
                tax=_money(line.tax_minor, cur),
                total=_money(line.total_minor, cur),
            )
            for line in lines
        ],
        totals=QuoteTotals(
            subtotal=_money(quote.subtotal_minor, cur),
            discount_total=_money(quote.discount_minor, cur),
            shipping_total=_money(quote.shipping_minor, cur),
            shipping_tax=_money(quote.shipping_tax_minor, cur),
            tax_total=_money(quote.tax_minor, cur),
            grand_total=_money(quote.grand_total_minor, cur),
            tax_breakdown=[
                TaxBreakdownEntry(
                    rate=entry["rate"],
                    category=entry.get("category"),
                    taxable=_money(entry["taxable_minor"], cur),
                    tax=_money(entry["tax_minor"], cur),
                )
                for entry in quote.tax_breakdown or ()
            ],
        ),
        sent_at=quote.sent_at,
        accepted_at=quote.accepted_at,
        declined_at=quote.declined_at,
        expired_at=quote.expired_at,
        decline_reason=quote.decline_reason,
        order_id=quote.order_id,
        created_at=quote.created_at,
        updated_at=quote.updated_at,
        version=quote.version,
    )


async def view_of(session: AsyncSession, quote: QuoteRow) -> Quote:
    lines = (await repository.lines_of(session, [quote.id]))[quote.id]
    channel = await channels.channel_by_id(session, quote.channel_id)
    return quote_view(quote, lines, channel.code)


async def get_quote(session: AsyncSession, quote_id: uuid.UUID) -> Quote:
    return await view_of(session, await load(session, quote_id))


def summary_of(quote: QuoteRow) -> QuoteSummary:
    return QuoteSummary(
        id=quote.id,
        number=quote.number,
        channel_id=quote.channel_id,
        customer_id=quote.customer_id,
        currency=quote.currency,
        status=quote.status,
        valid_until=quote.valid_until,
        reserve_stock=quote.reserve_stock,
        grand_total=_money(quote.grand_total_minor, quote.currency),
        order_id=quote.order_id,
        created_at=quote.created_at,
        version=quote.version,
    )


async def list_quotes(
    session: AsyncSession, page: PageParams, *, status: str | None = None, customer_id: uuid.UUID | None = None
) -> Slice[QuoteRow]:
    return await repository.list_quotes(session, page, status=status, customer_id=customer_id)


def record(session: AsyncSession, type_: str, view: Quote, actor: str, reason: str | None = None) -> None:
    """Buffer the public event ``type_`` with the whole quote as its payload."""
    outbox.record(session, type_, "quote", view.id, view.model_dump(mode="json"), actor=actor, reason=reason)
