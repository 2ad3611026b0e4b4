"""Document numbers: ``{prefix}-{year}-{n:06d}`` inside one series (legal entity, document type, year).

The counter itself lives in ``document_series.next_number`` and is taken under the row's lock in the issuing
transaction (``invoices.numbering``): a rollback gives the number back, so a series has no gap. A database sequence
would not: it never gives a number back."""

from __future__ import annotations

from enum import StrEnum


class DocType(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


PREFIXES: dict[DocType, str] = {DocType.INVOICE: "INV", DocType.CREDIT_NOTE: "CN"}
WIDTH = 6
"""Digits of the counter; a series may pass 999999 (the number then simply grows wider)."""


def prefix_of(doc_type: DocType) -> str:
    return PREFIXES[doc_type]


def format_number(prefix: str, year: int, sequence: int) -> str:
    """``INV-2026-000123``. ``sequence`` counts from 1."""
    if sequence < 1:
        raise ValueError("a document number counts from 1")
    if not 1 <= year <= 9999:
        raise ValueError("a document year has four digits")
    return f"{prefix}-{year:04d}-{sequence:0{WIDTH}d}"


def parse_number(number: str) -> tuple[str, int, int]:
    """(prefix, year, sequence) of a formatted number (``ValueError`` for anything else)."""
    prefix, year, sequence = number.rsplit("-", 2)
    if not (prefix and year.isdigit() and len(year) == 4 and sequence.isdigit() and len(sequence) >= WIDTH):
        raise ValueError(f"{number!r} is not a document number")
    return prefix, int(year), int(sequence)
