"""Quote rules (pure): the lifecycle, validity, numbers and totals.

A quote is drafted (its lines and prices may change), sent to the customer (its content is frozen; with
``reserve_stock`` its stock is held from then on), and then accepted (it becomes an order), declined, or expired
when its validity date has passed. A quote may be accepted up to and including its ``valid_until`` day (UTC),
whether or not the expiry job has run yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum

from oms_api.kit.money import Money

DEFAULT_VALIDITY_DAYS = 30
MAX_VALIDITY_DAYS = 366
NUMBER_PREFIX = "Q"


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"


S = QuoteStatus
TRANSITIONS: dict[QuoteStatus, frozenset[QuoteStatus]] = {
    S.DRAFT: frozenset({S.SENT}),
    S.SENT: frozenset({S.ACCEPTED, S.DECLINED, S.EXPIRED}),
    S.ACCEPTED: frozenset(),
    S.DECLINED: frozenset(),
    S.EXPIRED: frozenset(),
}


class QuoteRefused(Exception):
    """What a quote refuses to do now: ``code`` is the problem's code."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


def is_past(valid_until: date, today: date) -> bool:
    """The validity has run out: ``valid_until`` was the last day."""
    return today > valid_until


def hold_expiry(valid_until: date) -> datetime:
    """When a sent quote's held stock lapses: the end of its last valid day (UTC)."""
    return datetime.combine(valid_until + timedelta(days=1), time.min, tzinfo=UTC)


def default_validity(today: date) -> date:
    return today + timedelta(days=DEFAULT_VALIDITY_DAYS)


def validity_problem(valid_until: date, today: date) -> str | None:
    """Why ``valid_until`` cannot be given to a quote (None when it can)."""
    if valid_until < today:
        return "the validity date has passed"
    if valid_until > today + timedelta(days=MAX_VALIDITY_DAYS):
        return f"a quote is valid for at most {MAX_VALIDITY_DAYS} days"
    return None


def check_action(status: str, target: QuoteStatus, valid_until: date, today: date) -> None:
    """Refuse (``QuoteRefused``) moving a quote from ``status`` to ``target`` now.

    Only a draft may be sent, and only while its validity lasts; only a sent quote may be accepted (not past its
    validity: ``quote_expired``), declined or expired (only past its validity)."""
    current = QuoteStatus(status)
    if target not in TRANSITIONS[current]:
        code = "quote_not_sent" if current == S.DRAFT else f"quote_{current.value}"
        raise QuoteRefused(code, f"A quote that is {current.value} cannot become {target.value}")
    past = is_past(valid_until, today)
    if target == S.SENT and past:
        raise QuoteRefused("validity_passed", f"The quote was valid until {valid_until}: give a later valid_until")
    if target == S.ACCEPTED and past:
        raise QuoteRefused("quote_expired", f"The quote was valid until {valid_until}")
    if target == S.EXPIRED and not past:
        raise QuoteRefused("quote_still_valid", f"The quote is valid until {valid_until}")


def check_editable(status: str) -> None:
    """Only a draft's content changes (a sent quote is what the customer saw)."""
    if status != S.DRAFT:
        raise QuoteRefused("quote_not_draft", f"A quote that is {status} cannot change: only drafts can")


def allowed(status: str) -> list[str]:
    return sorted(t.value for t in TRANSITIONS[QuoteStatus(status)])


def number(year: int, sequence: int) -> str:
    """``Q-2026-000123``: readable, unique, and the order's ``external_ref`` once accepted."""
    return f"{NUMBER_PREFIX}-{year}-{sequence:06d}"


@dataclass(frozen=True, slots=True)
class LineMoney:
    """A priced line as the totals need it."""

    quantity: int
    unit_price: Money
    discount: Money
    tax: Money


@dataclass(frozen=True, slots=True)
class Totals:
    subtotal: Money
    """The lines' value before discounts (including tax when prices include it)."""
    discount: Money
    shipping: Money
    tax: Money
    """All tax, lines and shipping."""
    grand_total: Money


def totals(
    currency: str, lines: Sequence[LineMoney], shipping: Money, shipping_tax: Money, *, tax_included: bool
) -> Totals:
    """The quote's totals as plain sums of its lines (each line's tax rounded on its own, as orders do), so the
    order its acceptance places has the same totals. When prices include tax the tax is not added again."""
    zero = Money.zero(currency)
    subtotal, discount, tax = zero, zero, shipping_tax
    for line in lines:
        subtotal = subtotal + line.unit_price.times(line.quantity)
        discount = discount + line.discount
        tax = tax + line.tax
    grand = subtotal - discount + shipping + (zero if tax_included else tax)
    return Totals(subtotal=subtotal, discount=discount, shipping=shipping, tax=tax, grand_total=grand)
