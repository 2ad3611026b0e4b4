"""Pricing an order: each line's tax, the shipping charge and its tax, the totals and the breakdown per rate.

A line's tax comes from the first of:
1. the tax the line gives (a storefront's order keeps the tax it was sold with; the OMS does not recompute it);
2. the rate the line gives (the caller decided which rate applies);
3. the rate of the SKU's tax category at the destination (the shipping address's country and region) on the
   day of placement (``taxes``). A destination with no rate at all is one where the seller collects no tax
   (the line is untaxed); a destination with rates but none for the category is refused (422
   ``tax_rate_missing``): charging nothing there would undercharge every such order.

Shipping is taxed by the same destination's rule: the ``shipping`` category's rate where one is set, else the
``standard`` rate. Prices are tax-exclusive (tax added on top) or tax-inclusive (the tax is the part of the price
it makes up) by the order's ``prices_include_tax``, else its channel's ``price_basis``.

Rounding is per line, half up, to the currency's minor unit (``taxes.domain.line_tax``): a line's tax is what
the customer sees on it, and the order's tax total and breakdown are plain sums of lines, so they always add
up. (Rounding the total instead can differ from the sum of the lines by a minor unit per line.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.errors import field_error
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import domain
from oms_api.orders.schemas import OrderCreate
from oms_api.stock.service import SkuStock
from oms_api.taxes import domain as tax_rules
from oms_api.taxes import service as taxes

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.channels.models import Channel

SHIPPING = "shipping"
SHIPPING_CATEGORIES = (SHIPPING, "standard")
"""The tax categories whose rate taxes shipping, the first one set at the destination."""
GIVEN = ""
"""The breakdown's category of a rate the order gave (shown as no category)."""


@dataclass(frozen=True, slots=True)
class Priced:
    """An order's money, ready to be written."""

    lines: list[domain.LineAmounts]
    rates: list[str]
    """Per line, the rate applied as a decimal string ("" when the line's tax was given or none applies)."""
    categories: list[str | None]
    """Per line, the tax category whose rate the service resolved (None otherwise)."""
    shipping_tax: Money
    totals: domain.Totals
    breakdown: list[dict[str, Any]] | None
    tax_included: bool


def _money(value: MoneyIn | None, currency: str, pointer: str) -> Money | None:
    if value is None:
        return None
    if value.currency != currency:
        raise field_error(pointer + "/currency", f"must be the order currency {currency}", "currency_mismatch")
    return value.to_money()


def _included(body: OrderCreate, channel: Channel) -> bool:
    if body.prices_include_tax is not None:
        return body.prices_include_tax
    return channel.price_basis == "tax_inclusive"


def shipping_charge(body: OrderCreate, channel: Channel, lines_value: Money) -> Money | None:
    """The order's shipping charge: as the order gives it, else by the channel's shipping charge (a flat amount,
    nothing from its free-over threshold; a ``selected_rate`` charge is added when the first shipment selects
    its rate)."""
    currency = body.currency
    given = _money(body.shipping_price, currency, "/body/shipping_price")
    charge = channel.shipping_charge or {}
    if given is not None or charge.get("mode") != "flat":
        return given
    amount = MoneyIn.model_validate(charge["amount"]).to_money()
    if amount.currency != currency:
        raise field_error(
            "/body/shipping_price",
            f"channel {channel.code!r} charges shipping in {amount.currency}; give shipping_price in {currency}",
            "shipping_price_required",
        )
    free_over = charge.get("free_over")
    if free_over is not None and lines_value.amount >= MoneyIn.model_validate(free_over).to_money().amount:
        return Money.zero(currency)
    return amount


async def price(
    session: AsyncSession,
    body: OrderCreate,
    channel: Channel,
    skus: dict[str, SkuStock],
    on: date,
    *,
    destination_taxed: bool | None = None,
) -> Priced:
    """Each line's amounts, the shipping charge and tax, and the totals (422 naming the field for amounts that
    cannot be, and for a line no tax rate covers at a destination that taxes).

    ``destination_taxed`` False (placement's first query found no tax rate for the destination's country) spares
    the query of the rules."""
    cur = body.currency
    basis: tax_rules.Basis = "tax_inclusive" if _included(body, channel) else "tax_exclusive"
    included = basis == "tax_inclusive"
    address = body.shipping_address
    categories = {skus[line.sku].tax_category if line.sku in skus else "standard" for line in body.lines}
    rules = None
    wanted = any(line.tax is None and line.tax_rate is None for line in body.lines) or body.shipping_tax is None
    if wanted and destination_taxed is not False:
        rules = await taxes.rates_for(
            session, address.country, address.region, categories | set(SHIPPING_CATEGORIES), on
        )
    rated: list[tax_rules.ResolvedRate | None] = []
    amounts: list[domain.LineAmounts] = []
    taxed: list[tax_rules.TaxedLine] = []
    for i, line in enumerate(body.lines):
        at = f"/body/lines/{i}"
        unit = _money(line.unit_price, cur, at + "/unit_price")
        assert unit is not None
        discount = _money(line.discount, cur, at + "/discount") or Money.zero(cur)
        tax = _money(line.tax, cur, at + "/tax")
        rate: tax_rules.ResolvedRate | None = None
        if tax is None and line.tax_rate is not None:
            rate = tax_rules.ResolvedRate(line.tax_rate, GIVEN, "given by the order", None)
        elif tax is None and rules is not None:
            known = skus.get(line.sku)
            rate = _resolve(rules, known.tax_category if known else "standard", f"{at}/sku")
        value = unit.times(line.quantity) - discount
        if rate is not None and value.amount >= 0:  # a discount above the value is refused by line_amounts
            line_tax = tax_rules.line_tax(value, rate.rate, basis)
            tax = line_tax.tax
            taxed.append(tax_rules.TaxedLine.of(rate, line_tax))
        rated.append(rate)
        priced = domain.PricedLine(line.quantity, unit, discount, None, tax, tax_included=included)
        try:
            amounts.append(domain.line_amounts(i, priced))
        except domain.PricingError as exc:
            raise field_error(f"{at}/{exc.field}", str(exc), "invalid_amount") from exc
    lines_value = sum((a.gross - a.discount for a in amounts), Money.zero(cur))
    shipping = shipping_charge(body, channel, lines_value)
    shipping_tax = _money(body.shipping_tax, cur, "/body/shipping_tax")
    if shipping_tax is None and shipping is not None and shipping.amount and rules is not None:
        shipping_tax, shipping_taxed = tax_shipping(rules, shipping, basis)
        if shipping_taxed is not None:
            taxed.append(shipping_taxed)
    shipping_tax = shipping_tax or Money.zero(cur)
    try:
        totals = domain.order_totals(cur, amounts, shipping, shipping_tax, tax_included=included)
    except domain.PricingError as exc:
        raise field_error(f"/body/{exc.field}", str(exc), "invalid_amount") from exc
    return Priced(
        lines=amounts,
        rates=[tax_rules.rate_text(r.rate) if r else "" for r in rated],
        categories=[r.category if r and r.category != GIVEN else None for r in rated],
        shipping_tax=shipping_tax,
        totals=totals,
        breakdown=[_stored(entry) for entry in tax_rules.breakdown(taxed)] or None,
        tax_included=included,
    )


def _resolve(rules: tax_rules.TaxRules, category: str, pointer: str) -> tax_rules.ResolvedRate | None:
    """The rate of ``category`` at the destination; None where the destination taxes nothing."""
    if not rules.taxes_country:
        return None
    found = rules.rate_of(category)
    if found is None:
        raise field_error(
            pointer,
            f"no {category!r} tax rate is in force in {rules.country} for this SKU's tax category",
            "tax_rate_missing",
        )
    return found


def tax_shipping(
    rules: tax_rules.TaxRules, shipping: Money, basis: tax_rules.Basis
) -> tuple[Money, tax_rules.TaxedLine | None]:
    """The tax of a shipping charge at the destination, and what the breakdown counts of it (None: untaxed)."""
    rate = shipping_rate_of(rules)
    if rate is None:
        return Money.zero(shipping.currency), None
    amounts = tax_rules.line_tax(shipping, rate.rate, basis)
    return amounts.tax, tax_rules.TaxedLine.of(rate, amounts)


def shipping_rate_of(rules: tax_rules.TaxRules) -> tax_rules.ResolvedRate | None:
    """The rate that taxes shipping at the destination: its ``shipping`` rate, else its ``standard`` one."""
    if not rules.taxes_country:
        return None
    for category in SHIPPING_CATEGORIES:
        found = rules.rate_of(category)
        if found is not None:
            return tax_rules.ResolvedRate(found.rate, SHIPPING, found.name, found.rate_id, found.exempt)
    return None


def _stored(entry: tax_rules.BreakdownEntry) -> dict[str, Any]:
    stored = entry.to_json()
    if stored["category"] == GIVEN:
        stored["category"] = None
    return stored


def merge_breakdown(stored: list[dict[str, Any]] | None, entry: dict[str, Any]) -> list[dict[str, Any]]:
    """A stored breakdown with one more taxed amount added to its (rate, category) entry."""
    merged = [dict(e) for e in stored or ()]
    for existing in merged:
        if (existing["rate"], existing.get("category")) == (entry["rate"], entry.get("category")):
            existing["taxable_minor"] += entry["taxable_minor"]
            existing["tax_minor"] += entry["tax_minor"]
            return merged
    return [*merged, entry]
