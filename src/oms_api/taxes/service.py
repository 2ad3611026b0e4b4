"""The face of taxes: its use cases, re-exported. Other contexts import only this module (and ``domain``).

- Order placement asks ``rates_for`` (one SELECT) and taxes its lines with ``domain.line_tax`` and
  ``domain.breakdown``.
- The catalog asks ``tax_category_exists`` before a SKU names a category.
"""

from __future__ import annotations

from oms_api.taxes.categories import (
    create_category,
    delete_category,
    get_category,
    list_categories,
    tax_category_exists,
)
from oms_api.taxes.rates import create_rate, delete_rate, get_rate, list_rates, rates_for, update_rate

__all__ = [
    "create_category",
    "create_rate",
    "delete_category",
    "delete_rate",
    "get_category",
    "get_rate",
    "list_categories",
    "list_rates",
    "rates_for",
    "tax_category_exists",
    "update_rate",
]
