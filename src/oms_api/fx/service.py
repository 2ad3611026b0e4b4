"""Exchange-rate use cases (facade): rates in force on a date, conversion to the base currency, adding and
listing rates, importing ECB files.

Other contexts call ``rate_on`` and ``to_base`` (payments store the ``Conversion`` of every financial fact).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.fx import domain, repository
from oms_api.fx.adding import Added, add_rates
from oms_api.fx.domain import Conversion, FxRate, PublishedRate
from oms_api.fx.importing import BATCH_ROWS, ImportReport, check, import_ecb
from oms_api.fx.models import ExchangeRate
from oms_api.fx.schemas import FxRateCreate
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Unprocessable
from oms_api.kit.money import Money
from oms_api.kit.pagination import PageParams, Slice

__all__ = [
    "BATCH_ROWS",
    "Added",
    "Conversion",
    "FxRate",
    "ImportReport",
    "add_rates",
    "check",
    "convert",
    "create_rates",
    "import_ecb",
    "list_rates",
    "rate_on",
    "to_base",
]


def missing_rate(from_currency: str, to_currency: str, on: date) -> Unprocessable:
    return Unprocessable(
        f"No exchange rate from {from_currency} to {to_currency} was published on or before {on.isoformat()}, "
        "directly or through a common base: add one (POST /v1/fx-rates or oms-api fx import)",
        code="fx_rate_missing",
        title="Exchange rate missing",
        from_currency=from_currency,
        to_currency=to_currency,
        date=on.isoformat(),
    )


async def rate_on(session: AsyncSession, from_currency: str, to_currency: str, on: date) -> FxRate:
    """The rate from ``from_currency`` to ``to_currency`` in force on ``on``: the latest published on or before it,
    stored, inverse of the stored reverse, or crossed through a base quoting both (``fx.domain.choose``); the
    identity for one currency. None found is 422 ``fx_rate_missing``, never a guess."""
    same = from_currency == to_currency
    legs = [] if same else await repository.legs(session, {from_currency, to_currency}, on)
    found = domain.choose(from_currency, to_currency, legs, on)
    if found is None:
        raise missing_rate(from_currency, to_currency, on)
    return found


async def convert(session: AsyncSession, amount: Money, to_currency: str, on: date) -> tuple[FxRate, Money]:
    """``amount`` in ``to_currency`` at the rate in force on ``on``, and that rate."""
    rate = await rate_on(session, amount.currency, to_currency, on)
    return rate, domain.convert(amount, rate.rate, to_currency)


async def to_base(session: AsyncSession, amount: Money, on: date, settings_base: str) -> Conversion:
    """``amount`` in ``settings_base`` (``Settings.base_currency``) at the rate in force on ``on``, with the rate
    and its date; 422 ``fx_rate_missing`` without one."""
    rate = await rate_on(session, amount.currency, settings_base, on)
    return domain.conversion_to_base(amount, rate, settings_base)


async def create_rates(session: AsyncSession, actor: Principal, given: list[FxRateCreate]) -> Added:
    """``POST /v1/fx-rates``: every rate stored or none (a clash is 409 ``fx_rate_conflict``)."""
    rates = [PublishedRate(item.base, item.quote, item.rate_date, Decimal(item.rate), item.source) for item in given]
    return await add_rates(session, rates, on_clash="refuse", actor=actor.actor)


async def list_rates(
    session: AsyncSession,
    page: PageParams,
    *,
    base: str | None = None,
    quote: str | None = None,
    rate_date: date | None = None,
    on: date | None = None,
) -> Slice[ExchangeRate]:
    return await repository.list_rates(session, page, base=base, quote=quote, rate_date=rate_date, on=on)
