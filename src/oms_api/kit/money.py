"""Money as ``Decimal`` with ISO 4217 minor units (exponents come from CLDR data via babel).

Pure functions: the domain layer may import this module and nothing else from the kit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies


class CurrencyError(ValueError):
    """An unknown currency or an amount finer than the currency allows."""


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_currency(code: str) -> bool:
    """True for an active ISO 4217 alphabetic code (``EUR``), false for anything else."""
    return len(code) == 3 and code.isupper() and code.isalpha() and code in _known_currencies()


@lru_cache(maxsize=512)
def exponent(currency: str) -> int:
    """Minor-unit digits of ``currency``: JPY 0, EUR 2, KWD 3."""
    if not is_currency(currency):
        raise CurrencyError(f"{currency!r} is not an ISO 4217 currency code")
    return int(get_currency_precision(currency))


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
