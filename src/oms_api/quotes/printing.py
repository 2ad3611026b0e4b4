"""The quote's PDF: the quote with its seller, its buyer and the payment terms its order would be on.

The seller is the legal entity that would invoice the order (the one the channel names, else the default one),
read through ``invoices.service``; with none set up, the channel's name. The buyer is the customer as invoicing
sees it (``customers.service.billing_of``): company, contact, VAT id, and the quote's billing address (else its
shipping address).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.invoices import service as invoices
from oms_api.kit.errors import NotFound
from oms_api.kit.pagination import PageParams
from oms_api.quotes import pdf, reading

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.invoices.models import LegalEntity

NO_TERMS = "at ordering, by the channel's payment methods"
ENTITIES_PAGE = 200
"""Legal entities are a handful: the default one is found on the first page."""


def _address_lines(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return []
    city = " ".join(p for p in (address.get("postal_code"), address.get("city")) if p)
    parts = [address.get("line1"), address.get("line2"), city, address.get("region"), address.get("country")]
    return [str(p) for p in parts if p]


async def _entity(session: AsyncSession, code: str | None) -> LegalEntity | None:
    """The legal entity that would invoice: the channel's, else the default one (None when neither exists)."""
    if code:
        try:
            return await invoices.get_entity(session, code)
        except NotFound:
            return None
    page = await invoices.list_entities(session, PageParams(limit=ENTITIES_PAGE, after=None))
    return next((e for e in page.items if e.is_default), None)


async def _seller(session: AsyncSession, channel_id: uuid.UUID) -> list[str]:
    channel = await channels.channel_by_id(session, channel_id)
    entity = await _entity(session, channel.legal_entity)
    if entity is None:
        return [channel.name]
    lines = [entity.name, *_address_lines(entity.address)]
    if entity.vat_id:
        lines.append(f"VAT id {entity.vat_id}")
    if entity.email:
        lines.append(entity.email)
    return lines


async def quote_pdf(session: AsyncSession, quote_id: uuid.UUID) -> tuple[str, bytes]:
    """The quote's number and its A4 PDF (404 ``quote_not_found``)."""
    row = await reading.load(session, quote_id)
    view = await reading.view_of(session, row)
    billing = await customers.billing_of(session, row.customer_id)
    buyer: list[str] = []
    terms = NO_TERMS
    if billing is not None:
        buyer.append(billing.company or billing.name)
        if billing.company and billing.name and billing.name != billing.company:
            buyer.append(f"Attn. {billing.name}")
        if billing.vat_id:
            buyer.append(f"VAT id {billing.vat_id}")
        if billing.terms is not None:
            terms = billing.terms.describe()
    buyer += _address_lines(row.billing_address or row.shipping_address)
    sheet = pdf.QuoteSheet(quote=view, seller=await _seller(session, row.channel_id), buyer=buyer, terms=terms)
    return row.number, pdf.render(sheet)
