"""Catalog rules (pure)."""

from __future__ import annotations

from stdnum import ean
from stdnum.exceptions import ValidationError


def normalise_gtin(value: str) -> str:
    """The compact GTIN (8, 12, 13 or 14 digits) if its check digit is right, else ``ValueError``."""
    try:
        return str(ean.validate(value))
    except ValidationError as exc:
        raise ValueError(f"not a valid GTIN barcode: {exc}") from exc


def sale_refusal(sku: str, *, known: bool, active: bool) -> tuple[str, str] | None:
    """Why a line naming ``sku`` cannot be sold, as ``(code, detail)``, or None when it can: the one wording
    that placement, checkout, carts, delivery promises and storefront intake use."""
    if not known:
        return "unknown_sku", f"unknown SKU {sku!r}"
    if not active:
        return "sku_inactive", f"SKU {sku!r} is not sold"
    return None
