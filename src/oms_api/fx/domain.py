"""Exchange-rate rules (pure): rates, cross rates, conversion and the ECB reference-rate files.

This module is the one place where conversion rounding is stated:

- a rate is exact as published (a decimal, never a float);
- a rate that is not stored but derived (the inverse of a stored rate, or a cross rate through a common base) is
  computed to ``RATE_PRECISION`` significant digits, rounded half up: far finer than any amount needs, and the
  same whatever the order of the operations;
- a converted amount is the amount times the rate, rounded once, half up, to the target currency's minor unit
  (``kit.money.round_money``).

A rate ``base → quote`` says how many units of ``quote`` one unit of ``base`` buys (ECB: 1 EUR = 1.0865 USD).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

from oms_api.kit.money import Money, round_money

RATE_PRECISION = 28
"""Significant digits of a derived rate (an inverse or a cross rate)."""
MAX_RATE_DECIMALS = 16
MAX_RATE_INTEGER_DIGITS = 12
MAX_RATE_TEXT = MAX_RATE_INTEGER_DIGITS + 1 + MAX_RATE_DECIMALS
"""A stored rate is a decimal text of at most 12 integer digits and 16 decimals: exact on every database."""
ECB_BASE = "EUR"
ECB_SOURCE = "ecb"


class RateError(ValueError):
    """A rate that is not a positive decimal within the stored bounds."""


@dataclass(frozen=True, slots=True)
class PublishedRate:
    """One published rate: 1 ``base`` = ``rate`` ``quote`` on ``rate_date``, as ``source`` published it."""

    base: str
    quote: str
    rate_date: date
    rate: Decimal
    source: str = ECB_SOURCE

    @property
    def key(self) -> tuple[str, str, date]:
        return (self.base, self.quote, self.rate_date)


@dataclass(frozen=True, slots=True)
class FxRate:
    """The rate in force from ``base`` to ``quote`` on a date, and how it was found.

    ``via`` names the common base of a cross rate (None for a stored rate, its inverse or the identity);
    ``rate_date`` is the date the rate was published for (the older of the two legs of a cross rate)."""

    base: str
    quote: str
    rate: Decimal
    rate_date: date
    source: str
    via: str | None = None
    inverted: bool = False


@dataclass(frozen=True, slots=True)
class Conversion:
    """An amount converted into the base currency, with the rate used and the date it was published for."""

    rate: Decimal
    rate_date: date
    base_currency: str
    base_amount: Money


def check_rate(rate: Decimal) -> Decimal:
    """``rate`` if it is a finite positive decimal of at most 12 integer digits and 16 decimals."""
    if not rate.is_finite() or rate <= 0:
        raise RateError("a rate must be a positive number")
    if rate >= Decimal(10) ** MAX_RATE_INTEGER_DIGITS:
        raise RateError(f"a rate has at most {MAX_RATE_INTEGER_DIGITS} integer digits")
    exp = rate.normalize().as_tuple().exponent
    assert isinstance(exp, int)
    if -exp > MAX_RATE_DECIMALS:
        raise RateError(f"a rate has at most {MAX_RATE_DECIMALS} decimals")
    return rate


def rate_text(rate: Decimal) -> str:
    """The canonical text of a rate (what is stored): plain notation, no trailing zeros (``1.0865``, ``162``)."""
    return format(rate.normalize(), "f")


def convert(amount: Money, rate: Decimal, to_currency: str) -> Money:
    """``amount`` times ``rate``, rounded half up to ``to_currency``'s minor unit: the one rounding of a conversion."""
    with localcontext() as context:
        context.prec = 80  # exact: an amount's 19 digits times a rate's 28, and room to quantize the product
        return Money(round_money(amount.amount * rate, to_currency), to_currency)


def derived(value: Decimal) -> Decimal:
    """A derived rate rounded to ``RATE_PRECISION`` significant digits, half up."""
    with localcontext() as context:
        context.prec = RATE_PRECISION
        context.rounding = ROUND_HALF_UP
        return +value


def inverse(rate: Decimal) -> Decimal:
    """``quote → base`` from ``base → quote``."""
    with localcontext() as context:
        context.prec = RATE_PRECISION
        context.rounding = ROUND_HALF_UP
        return Decimal(1) / rate


def cross_rate(pivot_to_from: Decimal, pivot_to_to: Decimal) -> Decimal:
    """``from → to`` through a common base (the pivot): (pivot → to) / (pivot → from).

    ECB publishes EUR → X; with the base currency USD, X → USD = (EUR → USD) / (EUR → X)."""
    with localcontext() as context:
        context.prec = RATE_PRECISION
        context.rounding = ROUND_HALF_UP
        return pivot_to_to / pivot_to_from


@dataclass(frozen=True, slots=True)
class Leg:
    """A stored rate ``base → quote`` (the latest on or before the date asked), as a leg of a lookup."""

    base: str
    quote: str
    rate: Decimal
    rate_date: date
    source: str


def choose(from_currency: str, to_currency: str, legs: Iterable[Leg], on: date) -> FxRate | None:
    """The rate in force from ``from_currency`` to ``to_currency`` given the latest stored rates (on or before
    ``on``) of every base to either currency, or None when no combination of them gives one.

    Candidates: the stored rate itself, the inverse of the stored reverse rate, and a cross rate through every
    base that quotes both. The one published most recently wins (a cross rate counts from its older leg); on a
    tie the stored rate comes first, then its inverse, then the crosses by base code."""
    if from_currency == to_currency:
        return FxRate(from_currency, to_currency, Decimal(1), on, "identity")
    by_pair = {(leg.base, leg.quote): leg for leg in legs}
    candidates: list[tuple[date, int, str, FxRate]] = []
    direct = by_pair.get((from_currency, to_currency))
    if direct is not None:
        found = FxRate(from_currency, to_currency, direct.rate, direct.rate_date, direct.source)
        candidates.append((direct.rate_date, 0, "", found))
    reverse = by_pair.get((to_currency, from_currency))
    if reverse is not None:
        found = FxRate(
            from_currency, to_currency, inverse(reverse.rate), reverse.rate_date, reverse.source, inverted=True
        )
        candidates.append((reverse.rate_date, 1, "", found))
    pivots = {base for base, _ in by_pair} - {from_currency, to_currency}
    for pivot in pivots:
        leg_from, leg_to = by_pair.get((pivot, from_currency)), by_pair.get((pivot, to_currency))
        if leg_from is None or leg_to is None:
            continue
        published = min(leg_from.rate_date, leg_to.rate_date)
        sources = sorted({leg_from.source, leg_to.source})
        found = FxRate(
            from_currency,
            to_currency,
            cross_rate(leg_from.rate, leg_to.rate),
            published,
            "+".join(sources),
            via=pivot,
        )
        candidates.append((published, 2, pivot, found))
    if not candidates:
        return None
    latest = max(candidate[0] for candidate in candidates)
    return min((c for c in candidates if c[0] == latest), key=lambda c: (c[1], c[2]))[3]


def conversion_to_base(amount: Money, rate: FxRate, base_currency: str) -> Conversion:
    """``amount`` converted with ``rate`` (which must run from its currency to ``base_currency``)."""
    if rate.base != amount.currency or rate.quote != base_currency:
        raise ValueError(f"a {rate.base} → {rate.quote} rate cannot convert {amount.currency} to {base_currency}")
    return Conversion(rate.rate, rate.rate_date, base_currency, convert(amount, rate.rate, base_currency))


@dataclass(frozen=True, slots=True)
class Clash:
    """A rate given for a pair and date that already has another value (stored, or earlier in the same batch)."""

    given: PublishedRate
    existing: Decimal


@dataclass(frozen=True, slots=True)
class Sorted:
    """A batch of rates sorted against what is stored: new ones, ones already there with the same value (by key),
    and clashes."""

    new: tuple[PublishedRate, ...]
    same: tuple[tuple[str, str, date], ...]
    clashes: tuple[Clash, ...]


def sort_batch(given: Iterable[PublishedRate], stored: Mapping[tuple[str, str, date], Decimal]) -> Sorted:
    """What adding ``given`` to the ``stored`` rates (of the same keys) does: a rate is published once per pair and
    date, so the same value again changes nothing and another value is a clash, never an overwrite. Values are
    compared as numbers (``1.10`` is ``1.1``)."""
    seen: dict[tuple[str, str, date], Decimal] = dict(stored)
    new: list[PublishedRate] = []
    same: list[tuple[str, str, date]] = []
    clashes: list[Clash] = []
    for rate in given:
        existing = seen.get(rate.key)
        if existing is None:
            seen[rate.key] = rate.rate
            new.append(rate)
        elif existing == rate.rate:
            same.append(rate.key)
        else:
            clashes.append(Clash(rate, existing))
    return Sorted(tuple(new), tuple(same), tuple(clashes))


# --- the European Central Bank's reference-rate files -----------------------------------------------------------

_MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
DAILY, HISTORICAL = "daily", "historical"


class EcbFormatError(ValueError):
    """A line of an ECB file that is not in its documented format."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


@dataclass(frozen=True, slots=True)
class EcbDay:
    """The rates of one line of an ECB file (one date), base EUR; currencies marked N/A are absent."""

    line: int
    rate_date: date
    rates: tuple[PublishedRate, ...]


def _daily_date(text: str) -> date | None:
    """``03 December 2026`` (the daily file)."""
    parts = text.split()
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    month = _MONTHS.get(parts[1].lower())
    if month is None:
        return None
    try:
        return date(int(parts[2]), month, int(parts[0]))
    except ValueError:
        return None


def _iso_date(text: str) -> date | None:
    """``2026-12-03`` (the historical file)."""
    if len(text) != 10 or text[4] != "-" or text[7] != "-":
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _fields(line: str) -> list[str]:
    """A line's comma-separated fields, trimmed, without the empty one its trailing comma makes."""
    fields = [field.strip() for field in line.split(",")]
    if len(fields) > 1 and fields[-1] == "":
        fields.pop()
    return fields


def ecb_format(lines: Iterable[str]) -> str:
    """``daily`` or ``historical``: the format of an ECB file, told by the date of its first data line."""
    for number, line in enumerate(lines, start=1):
        if number == 1 or not line.strip():
            continue
        first = _fields(line)[0]
        if _iso_date(first) is not None:
            return HISTORICAL
        if _daily_date(first) is not None:
            return DAILY
        raise EcbFormatError(number, f"{first!r} is not a date like 2026-12-03 or 03 December 2026")
    return DAILY


def parse_ecb(lines: Iterable[str], source: str = ECB_SOURCE) -> Iterator[EcbDay]:
    """The dates and rates of an ECB reference-rate file, daily (``eurofxref.csv``) or historical
    (``eurofxref-hist.csv``), line by line: a header ``Date, USD, JPY, …`` then one line per date, values in the
    header's order, ``N/A`` where a currency was not quoted that day. Raises ``EcbFormatError`` naming the line."""
    header: list[str] | None = None
    parse_date = None
    for number, raw in enumerate(lines, start=1):
        line = raw.lstrip("\ufeff") if number == 1 else raw
        if not line.strip():
            continue
        fields = _fields(line)
        if header is None:
            if fields[0] != "Date" or len(fields) < 2:
                raise EcbFormatError(number, "the header must be 'Date' followed by currency codes")
            for code in fields[1:]:
                if len(code) != 3 or not code.isascii() or not code.isalpha() or not code.isupper():
                    raise EcbFormatError(number, f"{code!r} in the header is not a currency code")
            if len(set(fields[1:])) != len(fields) - 1:
                raise EcbFormatError(number, "a currency appears twice in the header")
            header = fields[1:]
            continue
        if parse_date is None:
            parse_date = _iso_date if _iso_date(fields[0]) is not None else _daily_date
        rate_date = parse_date(fields[0])
        if rate_date is None:
            raise EcbFormatError(number, f"{fields[0]!r} is not a date like the file's others")
        if len(fields) - 1 != len(header):
            raise EcbFormatError(number, f"{len(fields) - 1} values for {len(header)} currencies")
        rates: list[PublishedRate] = []
        for quote, value in zip(header, fields[1:], strict=True):
            if value in ("N/A", ""):
                continue
            try:
                rate = check_rate(Decimal(value))
            except (InvalidOperation, RateError):
                raise EcbFormatError(number, f"{quote} rate {value!r} is not a positive decimal number") from None
            rates.append(PublishedRate(ECB_BASE, quote, rate_date, rate, source))
        yield EcbDay(number, rate_date, tuple(rates))
    if header is None:
        raise EcbFormatError(1, "the file is empty: an ECB file starts with a 'Date, USD, …' header")
