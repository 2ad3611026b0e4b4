"""Settlement rules (pure): what an invoice still owes, the status that follows from its figures, and how money
that moved for an order is shared among the order's invoices.

Amounts are integer minor units in the invoice's currency. An invoice's figures only grow by allocations
(payments in, refunds out), credit notes and write-offs; its status is always derived from them, never set by hand,
so that every path (gateway capture, bank transfer, credit note, overdue job) agrees.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from datetime import date
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)


class InvoiceStatus(StrEnum):
    DRAFT = "draft"
    ISSUED = "issued"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    CREDITED = "credited"


OPEN_STATUSES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.OVERDUE})
"""Issued invoices with something due: receivables."""


def amount_due(total: int, paid: int, credited: int, written_off: int) -> int:
    """What the customer still owes (negative when credit notes or payments exceed the total: money owed back)."""
    return total - paid - credited - written_off


def derive_status(
    *, total: int, paid: int, credited: int, written_off: int, due_date: date | None, today: date
) -> InvoiceStatus:
    """The status of an issued invoice from its figures.

    ``credited`` wins when credit notes cover the whole total (the invoice is cancelled in effect, whatever was
    paid: that money is owed back through a refund). Nothing due is ``paid``, including what was written off
    (the write-off shows in ``written_off_minor``; like ERPNext, the invoice is settled). Something due past the
    due date is ``overdue``, before that ``partially_paid`` when anything was paid, else ``issued``.
    """
    if total > 0 and credited >= total:
        return InvoiceStatus.CREDITED
    if amount_due(total, paid, credited, written_off) <= 0:
        return InvoiceStatus.PAID
    if due_date is not None and due_date < today:
        return InvoiceStatus.OVERDUE
    if paid > 0:
        return InvoiceStatus.PARTIALLY_PAID
    return InvoiceStatus.ISSUED


def allocate_payment(amount: int, open_invoices: Sequence[tuple[K, int]]) -> tuple[list[tuple[K, int]], int]:
    """Share a payment among invoices, given oldest first as ``(key, amount due)``: each is paid in full before the
    next gets anything. Returns the positive shares and what is left over (waits for the next invoice)."""
    if amount < 0:
        raise ValueError("a payment is a positive amount")
    shares: list[tuple[K, int]] = []
    left = amount
    for key, due in open_invoices:
        if left == 0:
            break
        share = min(left, max(due, 0))
        if share > 0:
            shares.append((key, share))
            left -= share
    return shares, left


def allocate_refund(
    amount: int, unallocated: int, paid_invoices: Sequence[tuple[K, int]]
) -> tuple[list[tuple[K, int]], int]:
    """Share a refund: first out of the order's money not allocated to any invoice yet (``unallocated``, e.g. an
    overpayment or a prepayment for lines that will not ship), then as negative allocations on the invoices given
    newest first as ``(key, paid)``, each down to zero. Returns the negative shares and what could not be placed
    (a refund of more than was ever received: it stays a receipt of the order, unallocated)."""
    if amount < 0:
        raise ValueError("a refund is a positive amount")
    left = amount - min(amount, max(unallocated, 0))
    shares: list[tuple[K, int]] = []
    for key, paid in paid_invoices:
        if left == 0:
            break
        share = min(left, max(paid, 0))
        if share > 0:
            shares.append((key, -share))
            left -= share
    return shares, left


def spread(amount: int, pots: Sequence[tuple[K, int]]) -> list[tuple[K, int]]:
    """Take ``amount`` from pots given in order as ``(key, available)``, each up to what it holds (which receipt an
    allocation comes from: the oldest unallocated money first)."""
    taken: list[tuple[K, int]] = []
    left = amount
    for key, available in pots:
        if left <= 0:
            break
        share = min(left, max(available, 0))
        if share > 0:
            taken.append((key, share))
            left -= share
    return taken
