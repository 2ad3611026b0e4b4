"""Tax rules (pure): a line's tax on either price basis, the breakdown per rate, and which rate applies.

Rounding is per line, half up, to the currency's minor unit (``kit.money.round_money``), and only here. Each line's
tax is the figure the customer sees on that line (receipt, invoice, the storefront's basket), so it is rounded where
it is shown; every total (per rate, per order) is the sum of rounded lines and therefore always adds up to what the
lines say. Rounding the total instead can differ from the lines' sum by a few minor units: three lines of 0.33 at
7 % are 0.02 tax each, 0.06 in all, where 0.99 at 7 % would be 0.07.

- ``tax_exclusive`` (prices without tax, US and B2B): net = amount, tax = round(net * rate), gross = net + tax.
- ``tax_inclusive`` (prices with tax, EU retail): gross = amount, tax = round(gross * rate / (1 + rate)),
  net = gross - tax, so net + tax is exactly the price the customer was shown.

A rate is valid from ``valid_from`` (inclusive) until ``valid_to`` (exclusive, open when None): a rate end-dated
on the day its successor starts leaves neither a gap nor a day with two rates.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import Literal

from oms_api.kit.money import Money, round_money

Basis = Literal["tax_exclusive", "tax_inclusive"]

STANDARD = "standard"
REDUCED = "reduced"
ZERO = "zero"
EXEMPT = "exempt"
BUILTIN_CATEGORIES = (STANDARD, REDUCED, ZERO, EXEMPT)
"""Seeded by the migration and never deleted: every SKU has a category, and these are the ones every country knows."""
UNTAXED_CATEGORIES = frozenset({ZERO, EXEMPT})
"""Categories taxed at 0 without any rate row: zero-rated supplies and exempt ones (still shown in the breakdown,
exempt ones flagged, because invoices must say which is which)."""

RATE_DECIMALS = 6
_ONE = Decimal(1)


def check_rate(rate: Decimal) -> Decimal:
    """``rate`` if it is a fraction 0 ≤ rate < 1 with at most six decimals (what the rate table stores)."""
    if not rate.is_finite() or rate < 0 or rate >= _ONE:
        raise ValueError(f"a tax rate is a fraction from 0 up to (not including) 1, not {rate}")
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
        raise ValueError(f"a tax rate has at most {RATE_DECIMALS} decimals, not {rate}")
    return rate


def rate_text(rate: Decimal) -> str:
    """The shortest decimal spelling of a rate: ``0.19``, ``0.055``, ``0`` (never ``1.9E-1`` nor ``0.190000``)."""
    if rate == 0:
        return "0"
    return format(rate.normalize(), "f")


def percent_text(rate: Decimal) -> str:
    """``19`` for 0.19, ``5.5`` for 0.055."""
    return rate_text(rate * 100)


# --- one line -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineTax:
    """A line's value without tax (``net``), its tax, and with tax (``gross``): net + tax == gross, exactly."""

    net: Money
    tax: Money
    gross: Money


def line_tax(amount: Money, rate: Decimal, basis: Basis) -> LineTax:
    """The tax of one line whose value after its discount is ``amount``, on the channel's price basis. ``rate`` may
    be any fraction up to 1 (a rate an order gives; the rate table holds rates below 1)."""
    if not rate.is_finite() or not 0 <= rate <= _ONE:
        raise ValueError(f"a tax rate is a fraction from 0 to 1, not {rate}")
    currency = amount.currency
    if basis == "tax_exclusive":
        tax = Money(round_money(amount.amount * rate, currency), currency)
        return LineTax(net=amount, tax=tax, gross=amount + tax)
    if basis == "tax_inclusive":
        # The quotient is a rational number; 50 digits hold it exactly whenever it lies on a half minor unit, and
        # closely enough otherwise that rounding can never go the wrong way for any amount a column can hold.
        with localcontext() as ctx:
            ctx.prec = 50
            tax = Money(round_money(amount.amount * rate / (_ONE + rate), currency), currency)
        return LineTax(net=amount - tax, tax=tax, gross=amount)
    raise ValueError(f"unknown price basis {basis!r}")


# --- breakdown per rate ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ResolvedRate:
    """The rate a line is taxed at: its value, the category it was found for, the rate's name and its row
    (``rate_id`` None for the zero and exempt categories taxed at 0 without a row)."""

    rate: Decimal
    category: str
    name: str
    rate_id: uuid.UUID | None
    exempt: bool = False


@dataclass(frozen=True, slots=True)
class TaxedLine:
    """One taxed amount (a line, or shipping) as the breakdown counts it."""

    category: str
    rate: Decimal
    net: Money
    tax: Money
    exempt: bool = False

    @classmethod
    def of(cls, resolved: ResolvedRate, amounts: LineTax) -> TaxedLine:
        return cls(resolved.category, resolved.rate, amounts.net, amounts.tax, resolved.exempt)


@dataclass(frozen=True, slots=True)
class BreakdownEntry:
    """The lines taxed at one rate in one category: their value without tax (``taxable``) and their tax."""

    rate: Decimal
    category: str
    exempt: bool
    taxable: Money
    tax: Money

    def to_json(self) -> dict[str, object]:
        """The stored form (minor units, the rate as a decimal string)."""
        return {
            "rate": rate_text(self.rate),
            "category": self.category,
            "exempt": self.exempt,
            "taxable_minor": self.taxable.minor,
            "tax_minor": self.tax.minor,
        }


def breakdown(entries: Iterable[TaxedLine]) -> list[BreakdownEntry]:
    """One entry per (rate, category), highest rate first, then by category; its figures are sums of the lines'
    (already rounded) figures, so the entries add up to the lines exactly. Lines must share one currency."""
    groups: dict[tuple[Decimal, str, bool], tuple[Money, Money]] = {}
    for line in entries:
        key = (line.rate, line.category, line.exempt)
        taxable, tax = groups.get(key, (Money.zero(line.net.currency), Money.zero(line.tax.currency)))
        groups[key] = (taxable + line.net, tax + line.tax)
    ordered = sorted(groups.items(), key=lambda item: (-item[0][0], item[0][1], item[0][2]))
    return [
        BreakdownEntry(rate=Decimal(rate_text(rate)), category=category, exempt=exempt, taxable=taxable, tax=tax)
        for (rate, category, exempt), (taxable, tax) in ordered
    ]


# --- which rate applies ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateRule:
    """A row of the rate table."""

    id: uuid.UUID
    country: str
    region: str | None
    category: str
    rate: Decimal
    name: str
    valid_from: date
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day < self.valid_to)


def overlaps(a_from: date, a_to: date | None, b_from: date, b_to: date | None) -> bool:
    """Whether two validity periods ``[from, to)`` (None: open-ended) share a day."""
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def normalise_region(value: str | None) -> str | None:
    """A region as the rate table spells it (upper case, no surrounding spaces; empty is None)."""
    cleaned = (value or "").strip().upper()
    return cleaned or None


def resolve(
    rates: Iterable[RateRule], country: str, region: str | None, category: str, on: date
) -> ResolvedRate | None:
    """The rate of ``category`` at a destination on a day: a rate for the destination's region before the
    country-wide one; among equals (which the table refuses to hold) the latest to start. The ``zero`` and
    ``exempt`` categories are taxed at 0 when no row says otherwise; any other category without a rate is None."""
    wanted = normalise_region(region)
    best: RateRule | None = None
    for rule in rates:
        if rule.country != country or rule.category != category or not rule.valid_on(on):
            continue
        if rule.region is not None and rule.region != wanted:
            continue
        if best is None or (rule.region is not None, rule.valid_from, rule.id) > (
            best.region is not None,
            best.valid_from,
            best.id,
        ):
            best = rule
    if best is not None:
        return ResolvedRate(best.rate, category, best.name, best.id, exempt=category == EXEMPT)
    if category in UNTAXED_CATEGORIES:
        name = f"{country} exempt" if category == EXEMPT else f"{country} zero rate"
        return ResolvedRate(Decimal(0), category, name, None, exempt=category == EXEMPT)
    return None


@dataclass(frozen=True, slots=True)
class TaxRules:
    """The rates that apply at one destination on one day, for the categories asked for (``taxes.service
    .rates_for`` loads them in one query).

    ``taxes_country``: whether any rate applies at this destination on that day (country-wide, or for its region).
    A destination without one is where tax is not collected: its lines are untaxed, whatever ``rate_of`` says. At a
    destination that does collect, ``rate_of`` None means the category has no rate there (a configuration gap).
    """

    country: str
    region: str | None
    on: date
    categories: frozenset[str]
    rates: tuple[RateRule, ...]
    taxes_country: bool

    def rate_of(self, category: str) -> ResolvedRate | None:
        """The rate of ``category`` (one of the categories loaded: another is a programming error)."""
        if category not in self.categories:
            raise KeyError(f"tax category {category!r} was not loaded (loaded: {sorted(self.categories)})")
        return resolve(self.rates, self.country, self.region, category, self.on)
