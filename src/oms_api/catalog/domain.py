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
