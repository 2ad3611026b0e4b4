"""Who is calling, and what it may do: plain values, so that code far from HTTP (storefront mappings, jobs) can
name an actor without importing the web stack."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum


class Scope(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    STOCK_READ = "stock:read"
    STOCK_WRITE = "stock:write"
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    ADMIN = "admin"
    FULFILMENT_READ = "fulfilment:read"
    FULFILMENT_WRITE = "fulfilment:write"
    WEBHOOKS_READ = "webhooks:read"
    WEBHOOKS_WRITE = "webhooks:write"
    METRICS_READ = "metrics:read"
    FX_READ = "fx:read"
    FX_WRITE = "fx:write"
    TAXES_READ = "taxes:read"
    TAXES_WRITE = "taxes:write"
    PAYMENTS_READ = "payments:read"
    PAYMENTS_WRITE = "payments:write"
    INVOICES_READ = "invoices:read"
    INVOICES_WRITE = "invoices:write"
    ACCOUNTING_READ = "accounting:read"
    ACCOUNTING_WRITE = "accounting:write"
    QUOTES_READ = "quotes:read"
    QUOTES_WRITE = "quotes:write"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the API key behind the request."""

    api_key_id: uuid.UUID
    name: str
    scopes: frozenset[str]

    def allows(self, scope: str) -> bool:
        return Scope.ADMIN in self.scopes or scope in self.scopes

    @property
    def actor(self) -> str:
        """How this caller is named in ledgers and histories."""
        return f"api_key:{self.api_key_id}"
