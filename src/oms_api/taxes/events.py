"""What taxes tell others: public event types (``tax_rate.*`` and ``tax_category.*``; ``data`` is the rate or the
category, as it stands after the change or as it was before a deletion) and the domain events other contexts
react to on the in-process bus."""

from __future__ import annotations

from dataclasses import dataclass

from oms_api.kit.auth import Principal
from oms_api.kit.event_types import declare
from oms_api.taxes.schemas import TaxCategory, TaxRate


@dataclass(frozen=True, slots=True)
class TaxCategoryDeleting:
    """Domain event: a tax category is about to be deleted (its row locked, no rate naming it). Published in the
    deleting transaction before the row goes; a context whose rows name the category refuses by raising (the
    catalog, when a SKU is in it: 409 ``tax_category_in_use``), which fails the deletion. Taxes never reads
    another context's tables for this, so the catalog can ask taxes about categories without a cycle."""

    code: str
    actor: Principal


TAX_RATE_CREATED = declare("tax_rate.created", "A tax rate was added.", TaxRate)
TAX_RATE_UPDATED = declare("tax_rate.updated", "A tax rate was renamed or end-dated (valid_to).", TaxRate)
TAX_RATE_DELETED = declare("tax_rate.deleted", "A tax rate was deleted (data: the rate as it was).", TaxRate)
TAX_CATEGORY_CREATED = declare("tax_category.created", "A tax category was added.", TaxCategory)
TAX_CATEGORY_DELETED = declare(
    "tax_category.deleted", "A tax category was deleted (data: the category as it was).", TaxCategory
)
