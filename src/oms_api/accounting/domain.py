"""Posting rules (pure): which accounts a financial fact debits and credits, and its amounts in the base currency.

A fact becomes ``Leg`` s, each naming an account by its role (and qualifier: the tax rate, the gateway), with a
debit or a credit in minor units of the document currency. ``to_base`` then gives every leg its base amount:

- document in the base currency: the base amounts are the document amounts (rate 1);
- a rate given: a leg whose base amount the fact itself states (an *anchor*: the payment's converted amount, the
  invoice's base total) keeps it; every other leg is ``round_half_up(amount x rate)``; the rounding difference
  that leaves goes to the largest leg that is not an anchor (the first of equals), so that base debits equal base
  credits exactly;
- no rate, and every leg an anchor (an FX difference, a payment whose converted amount is stated): those amounts;
- no rate otherwise (none was in force): no base amounts at all, and the entry is ``base_pending``. A rate is
  never guessed.

Every entry balances in the document currency (``balanced``), and in the base currency when it has one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from oms_api.kit.money import exponent


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class Role(StrEnum):
    RECEIVABLES = "receivables"
    REVENUE = "revenue"
    SHIPPING_REVENUE = "shipping_revenue"
    TAX_PAYABLE = "tax_payable"
    CLEARING = "clearing"
    REFUNDS_RETURNS = "refunds_returns"
    WRITE_OFFS = "write_offs"
    FX_GAIN = "fx_gain"
    FX_LOSS = "fx_loss"


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType


DEFAULTS: dict[Role, AccountSpec] = {
    Role.RECEIVABLES: AccountSpec("1200", "Accounts receivable", AccountType.ASSET),
    Role.REVENUE: AccountSpec("4000", "Sales revenue", AccountType.REVENUE),
    Role.SHIPPING_REVENUE: AccountSpec("4100", "Shipping revenue", AccountType.REVENUE),
    Role.REFUNDS_RETURNS: AccountSpec("4900", "Refunds and returns", AccountType.REVENUE),
    Role.WRITE_OFFS: AccountSpec("6900", "Bad debt write-offs", AccountType.EXPENSE),
    Role.FX_GAIN: AccountSpec("7900", "Exchange rate gains", AccountType.REVENUE),
    Role.FX_LOSS: AccountSpec("8900", "Exchange rate losses", AccountType.EXPENSE),
}
"""The unqualified accounts, seeded on first use."""


def rate_label(rate: Decimal) -> str:
    """A tax rate (a fraction) as a percentage label: 0.19 -> ``19``, 0.075 -> ``7.5``, 0 -> ``0``."""
    percent = (rate * 100).normalize()
    return format(percent, "f")


def spec_for(role: Role, qualifier: str = "") -> AccountSpec:
    """The default account of a role (qualified roles get one account per qualifier, created on first use)."""
    if role is Role.TAX_PAYABLE:
        return AccountSpec(f"2200-{qualifier}", f"Tax payable {qualifier} %", AccountType.LIABILITY)
    if role is Role.CLEARING:
        return AccountSpec(f"1100-{qualifier}", f"Clearing: {qualifier}", AccountType.ASSET)
    return DEFAULTS[role]


@dataclass(frozen=True, slots=True)
class Leg:
    """One line to post: an account by role, a debit or a credit in document minor units, and its base amounts
    once ``to_base`` gave them (or when the fact states them: an anchor)."""

    role: Role | None
    """None: a manual leg, on the account ``account_id`` names."""
    qualifier: str = ""
    debit: int = 0
    credit: int = 0
    base_debit: int | None = None
    base_credit: int | None = None
    description: str | None = None
    account_id: uuid.UUID | None = None
    """The account itself (manual entries and reversals), instead of the role's."""

    @property
    def amount(self) -> int:
        return self.debit + self.credit

    @property
    def anchored(self) -> bool:
        return self.base_debit is not None or self.base_credit is not None


def debit(role: Role, amount: int, qualifier: str = "", *, base: int | None = None, note: str | None = None) -> Leg:
    """A debit leg; a negative amount is the same money on the other side (a credit)."""
    if amount < 0:
        return credit(role, -amount, qualifier, base=None if base is None else -base, note=note)
    return Leg(
        role, qualifier, debit=amount, base_debit=base, base_credit=None if base is None else 0, description=note
    )


def credit(role: Role, amount: int, qualifier: str = "", *, base: int | None = None, note: str | None = None) -> Leg:
    if amount < 0:
        return debit(role, -amount, qualifier, base=None if base is None else -base, note=note)
    return Leg(
        role, qualifier, credit=amount, base_credit=base, base_debit=None if base is None else 0, description=note
    )


def balanced(legs: list[Leg]) -> bool:
    return sum(leg.debit for leg in legs) == sum(leg.credit for leg in legs)


def base_balanced(legs: list[Leg]) -> bool:
    if any(leg.base_debit is None or leg.base_credit is None for leg in legs):
        return False
    return sum(leg.base_debit or 0 for leg in legs) == sum(leg.base_credit or 0 for leg in legs)


# --- the facts --------------------------------------------------------------------------------------------------


def invoice_legs(
    total: int, items_net: int, shipping_net: int, taxes: list[tuple[str, int]], *, base_total: int | None = None
) -> list[Leg]:
    """An invoice: Dr receivables (the total) / Cr revenue (items and free amounts), shipping revenue, and tax
    payable per rate (``taxes``: (rate label, tax)). ``base_total`` anchors receivables."""
    legs = [
        debit(Role.RECEIVABLES, total, base=base_total, note="Invoice total"),
        credit(Role.REVENUE, items_net, note="Items"),
        credit(Role.SHIPPING_REVENUE, shipping_net, note="Shipping"),
        *(credit(Role.TAX_PAYABLE, tax, label, note=f"Tax {label} %") for label, tax in taxes),
    ]
    return _significant(legs)


def credit_note_legs(total: int, net: int, taxes: list[tuple[str, int]], *, base_total: int | None = None) -> list[Leg]:
    """A credit note: Dr refunds and returns (its net: items, shipping and amounts), Dr tax payable per rate / Cr
    receivables (the total)."""
    legs = [
        debit(Role.REFUNDS_RETURNS, net, note="Credited net"),
        *(debit(Role.TAX_PAYABLE, tax, label, note=f"Tax {label} %") for label, tax in taxes),
        credit(Role.RECEIVABLES, total, base=base_total, note="Credit note total"),
    ]
    return _significant(legs)


def money_in_legs(source: str, amount: int, *, base: int | None = None) -> list[Leg]:
    """Money received (a capture, a transfer, a payment another system reported): Dr clearing:<source> / Cr
    receivables."""
    return _significant(
        [
            debit(Role.CLEARING, amount, source, base=base, note=f"Received through {source}"),
            credit(Role.RECEIVABLES, amount, base=base, note="Settles receivables"),
        ]
    )


def money_out_legs(source: str, amount: int, *, base: int | None = None) -> list[Leg]:
    """Money given back (a refund): Dr receivables / Cr clearing:<source>."""
    return _significant(
        [
            debit(Role.RECEIVABLES, amount, base=base, note="Refund owed back"),
            credit(Role.CLEARING, amount, source, base=base, note=f"Refunded through {source}"),
        ]
    )


def write_off_legs(amount: int, *, base: int | None = None) -> list[Leg]:
    return _significant(
        [
            debit(Role.WRITE_OFFS, amount, base=base, note="Written off"),
            credit(Role.RECEIVABLES, amount, base=base, note="Uncollectable"),
        ]
    )


def fx_legs(base_balance: int) -> list[Leg]:
    """An order's receivables are settled in its currency but ``base_balance`` is left in the base currency: move
    it to FX gains or losses (document amounts 0). Positive: less base money came in than was booked (a loss)."""
    if base_balance > 0:
        return [
            Leg(Role.FX_LOSS, base_debit=base_balance, base_credit=0, description="Exchange rate loss"),
            Leg(Role.RECEIVABLES, base_debit=0, base_credit=base_balance, description="Exchange rate difference"),
        ]
    return [
        Leg(Role.RECEIVABLES, base_debit=-base_balance, base_credit=0, description="Exchange rate difference"),
        Leg(Role.FX_GAIN, base_debit=0, base_credit=-base_balance, description="Exchange rate gain"),
    ]


def reversed_legs(legs: list[Leg]) -> list[Leg]:
    """The legs that cancel ``legs``: debits and credits swapped, in both currencies."""
    return [
        replace(leg, debit=leg.credit, credit=leg.debit, base_debit=leg.base_credit, base_credit=leg.base_debit)
        for leg in legs
    ]


def _significant(legs: list[Leg]) -> list[Leg]:
    """Without the legs of nothing (a zero tax, no shipping)."""
    return [leg for leg in legs if leg.amount or (leg.base_debit or leg.base_credit)]


# --- the base currency ------------------------------------------------------------------------------------------


def convert_minor(amount_minor: int, currency: str, base_currency: str, rate: Decimal) -> int:
    """Minor units of ``currency`` times ``rate`` in minor units of ``base_currency``, rounded half up."""
    exact = Decimal(amount_minor).scaleb(-exponent(currency)) * rate
    return int(exact.scaleb(exponent(base_currency)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class Unbalanced(ValueError):
    """Legs whose debits and credits differ (a bug in a rule, or a manual entry to refuse)."""


def to_base(legs: list[Leg], currency: str, base_currency: str, rate: Decimal | None) -> tuple[list[Leg], bool]:
    """``legs`` with their base amounts by the rule of the module docstring, and whether the base is pending (no
    base amounts: ``rate`` None for a foreign currency)."""
    if not balanced(legs):
        raise Unbalanced("debits and credits differ")
    if currency == base_currency:
        rate = Decimal(1)
    if rate is None:
        if not legs or not all(leg.anchored for leg in legs):
            return [replace(leg, base_debit=None, base_credit=None) for leg in legs], True
        stated = [replace(leg, base_debit=leg.base_debit or 0, base_credit=leg.base_credit or 0) for leg in legs]
        if not base_balanced(stated):
            raise Unbalanced("the base amounts the fact states do not balance")
        return stated, False
    out = [
        leg
        if leg.anchored
        else replace(
            leg,
            base_debit=convert_minor(leg.debit, currency, base_currency, rate),
            base_credit=convert_minor(leg.credit, currency, base_currency, rate),
        )
        for leg in legs
    ]
    out = [replace(leg, base_debit=leg.base_debit or 0, base_credit=leg.base_credit or 0) for leg in out]
    difference = sum(leg.base_debit or 0 for leg in out) - sum(leg.base_credit or 0 for leg in out)
    if difference:
        free = [i for i, leg in enumerate(out) if not legs[i].anchored]
        if not free:
            raise Unbalanced("the base amounts the fact states do not balance")
        largest = max(free, key=lambda i: (out[i].amount, -i))
        leg = out[largest]
        if leg.debit:
            out[largest] = replace(leg, base_debit=(leg.base_debit or 0) - difference)
        else:
            out[largest] = replace(leg, base_credit=(leg.base_credit or 0) + difference)
    return out, False


def order_fx_difference(receivables: list[tuple[int, int | None]]) -> int | None:
    """Given an order's receivables lines in one currency as (document balance, base balance or None), the base
    balance to move to FX when the document balance is zero and the base one is not; None otherwise (or when a
    base amount is pending: nothing is known to move)."""
    if not receivables or any(base is None for _, base in receivables):
        return None
    if sum(amount for amount, _ in receivables) != 0:
        return None
    base_balance = sum(base or 0 for _, base in receivables)
    return base_balance or None
