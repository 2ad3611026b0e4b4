"""How the catalog reacts to other contexts' changes (subscribed on the event bus by ``oms_api.bootstrap``)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import repository
from oms_api.kit.errors import Conflict
from oms_api.taxes.events import TaxCategoryDeleting


async def on_tax_category_deleting(session: AsyncSession, event: TaxCategoryDeleting) -> None:
    """A tax category is about to be deleted: refused while a SKU is in it (every SKU keeps a known category)."""
    sku = await repository.a_sku_with_tax_category(session, event.code)
    if sku is not None:
        raise Conflict(
            f"Tax category {event.code!r} is used by SKU {sku!r} (and maybe others): move them to another first",
            code="tax_category_in_use",
            sku=sku,
        )
