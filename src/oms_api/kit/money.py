"""Money as ``Decimal`` with ISO 4217 minor units (the currencies and their exponents come from ISO 4217 itself,
through the maintained ``iso4217`` package: CLDR, which babel carries, gives HUF, IDR, COP… no decimals where ISO
gives two, and IQD none where ISO gives three).

Pure functions: the domain layer may import this module and nothing else from the kit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

import iso4217


class CurrencyError(ValueError):
    """An unknown currency, an amount finer than the currency allows or one larger than the service stores."""


NON_CURRENCIES = frozenset({"XAU", "XAG", "XPT", "XPD", "XDR", "XBA", "XBB", "XBC", "XBD", "XSU", "XUA", "XTS", "XXX"})
"""ISO 4217 codes that name no money (their minor unit is "N.A."): precious metals, the IMF's SDR, bond-market
units, the SUCRE and ADB units, the testing code and ``XXX`` "no currency". Nothing is priced or sold in them."""

NO_MINOR_UNIT_EXPONENT = 2
"""The exponent the non-currencies are read with: ISO gives them none, and before they were refused they were
stored with two decimals (CLDR's default)."""

_WITHDRAWN_WITHOUT_DECIMALS = "ADP BYR ESP ITL LUF MGF MRO SLL STD TMM TRL ZMK ZWD"
_WITHDRAWN_WITH_TWO_DECIMALS = """
    AFA ALK ANG AOK AON AOR ARA ARL ARM ARP ATS AZM BAD BAN BEC BEF BEL BGL BGM BGN BGO BOL BOP BRB BRC BRE BRN BRR BRZ
    BUK BYB CLE CNH CSD CSK CUC CYP DDM DEM ECS ECV EEK ESA ESB FIM FRF GEK GHC GNS GQE GRD GWE GWP HRD HRK IEP ILP ILR
    ISJ KRH KRO LTL LTT LUC LUL LVL LVR MAF MCF MDC MKN MLF MTL MTP MVP MXP MZE MZM NIC NLG PEI PES PLZ PTE RHD ROL RUR
    SDD SDP SIT SKK SRG SUR TJR TPE UAK UGS USS UYP VEB VEF VNN XEU XFO XFU XRE YDD YUD YUM YUN YUR ZAL ZRN ZRZ ZWL ZWR
"""
WITHDRAWN_EXPONENTS: dict[str, int] = {
    **dict.fromkeys(_WITHDRAWN_WITHOUT_DECIMALS.split(), 0),
    **dict.fromkeys(_WITHDRAWN_WITH_TWO_DECIMALS.split(), 2),
}
"""Codes accepted before ISO 4217 became the source (CLDR's list, which keeps withdrawn ones such as BGN, HRK or
ANG) that the current ISO table no longer has, with the exponent their amounts were stored with. No longer
currencies (``is_currency`` is false), but stored amounts in them can still be read."""


@lru_cache(maxsize=1)
def _iso_exponents() -> dict[str, int | None]:
    """ISO 4217's current table: code to minor-unit digits (None for "N.A.")."""
    table: dict[str, int | None] = {}
    for code, entry in iso4217.raw_table.items():
        if not code:
            continue  # "No universal currency" (Antarctica…) has no code
        units = str(entry["CcyMnrUnts"])
        table[str(code)] = int(units) if units.isdigit() else None
    return table


@lru_cache(maxsize=1)
def _currencies() -> frozenset[str]:
    return frozenset(_iso_exponents()) - NON_CURRENCIES


def is_currency(code: str) -> bool:
    """True for an ISO 4217 alphabetic code of money (``EUR``), false for anything else (``XXX``, ``XAU``…)."""
    return code in _currencies()


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Minor-unit digits of ``currency`` per ISO 4217: JPY 0, EUR 2, HUF 2, KWD 3, IQD 3, CLF 4.

    Known even for the non-currencies and the withdrawn codes, so that amounts stored before they were refused can
    still be read."""
    iso = _iso_exponents()
    if currency in iso:
        digits = iso[currency]
        return NO_MINOR_UNIT_EXPONENT if digits is None else digits
    if currency in WITHDRAWN_EXPONENTS:
        return WITHDRAWN_EXPONENTS[currency]
    raise CurrencyError(f"{currency!r} is not an ISO 4217 currency code")


STORED_MINOR_MAX = 2**63 - 1
"""Money is stored as integer minor units in BIGINT columns: signed 64 bits on PostgreSQL and on SQLite."""
MAX_ORDER_LINES = 200
MAX_LINE_QUANTITY = 100_000


def _max_amount_minor() -> int:
    """The largest amount a request may give, in minor units: the largest ``10**k - 1`` for which the largest order
    still fits a column. That order has ``MAX_ORDER_LINES`` lines of ``MAX_LINE_QUANTITY`` units at this unit price,
    each with a tax as large as its value (a tax rate is at most 1, a given tax at most one amount), plus
    shipping and shipping tax of this amount: ``2 * lines * quantity + 2`` amounts in all."""
    ceiling = STORED_MINOR_MAX // (2 * MAX_ORDER_LINES * MAX_LINE_QUANTITY + 2)
    return int(10 ** (len(str(ceiling)) - 1)) - 1


MAX_AMOUNT_MINOR = _max_amount_minor()
"""99,999,999,999 minor units: 999,999,999.99 EUR, 99,999,999,999 JPY, 99,999,999.999 KWD."""


def max_amount(currency: str) -> Decimal:
    """The largest amount a request may give in ``currency`` (``MAX_AMOUNT_MINOR`` in its minor units)."""
    return from_minor(MAX_AMOUNT_MINOR, currency)


def check_bounded(amount: Decimal, currency: str, largest_minor: int = MAX_AMOUNT_MINOR) -> Decimal:
    """``amount`` if its minor units are at most ``largest_minor``, so that totals made of it fit their column."""
    if abs(amount.scaleb(exponent(currency))) > largest_minor:
        raise CurrencyError(f"must be at most {from_minor(largest_minor, currency)} {currency}")
    return amount


def fits_column(value: Money) -> bool:
    """Whether ``value`` can be stored (its minor units fit a BIGINT column)."""
    return abs(value.minor) <= STORED_MINOR_MAX


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-exponent(currency))


def check_amount(amount: Decimal, currency: str) -> Decimal:
    """``amount`` if it is finite and has no more decimals than ``currency`` allows."""
    if not amount.is_finite():
        raise CurrencyError("amount must be a finite number")
    digits = exponent(currency)
    exp = amount.as_tuple().exponent
    assert isinstance(exp, int)
    if -exp > digits and amount != amount.quantize(quantum(currency)):
        raise CurrencyError(f"{currency} amounts have at most {digits} decimal place(s)")
    return amount.quantize(quantum(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Commercial rounding (half up) to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_UP)


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer minor units (cents) of an amount already exact in ``currency``: how money is stored."""
    scaled = amount.scaleb(exponent(currency))
    if scaled != scaled.to_integral_value():
        raise CurrencyError(f"{amount} is finer than {currency} allows")
    return int(scaled)


def from_minor(value: int, currency: str) -> Decimal:
    return Decimal(value).scaleb(-exponent(currency)).quantize(quantum(currency))


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency; arithmetic refuses to mix currencies."""

    amount: Decimal
    currency: str

    @classmethod
    def of(cls, amount: Decimal | int | str, currency: str) -> Money:
        return cls(check_amount(Decimal(amount), currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0).quantize(quantum(currency)), currency)

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def times(self, factor: Decimal | int) -> Money:
        """Multiplied and rounded to the currency's minor unit."""
        return Money(round_money(self.amount * Decimal(factor), self.currency), self.currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise CurrencyError(f"cannot combine {self.currency} and {other.currency}")

    @property
    def minor(self) -> int:
        return to_minor(self.amount, self.currency)

    @classmethod
    def from_minor(cls, value: int, currency: str) -> Money:
        return cls(from_minor(value, currency), currency)

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"
