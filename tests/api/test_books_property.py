"""The books stay balanced whatever happens, through HTTP on both databases: hypothesis draws sequences of orders,
shipments (each invoiced as it ships and captured), refunds, credit notes and exchange rates published between
them, in the base currency or in another one; after each sequence every journal entry balances, the trial balance
is zero in every currency and in the base currency, and the AR aging buckets add up to the open invoices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from oms_api.fx import domain as fx_rules
from oms_api.kit.money import Money, round_money
from tests.support.invoicing import check, invoicing_shop
from tests.support.payments import APPROVE, ship

BASE = "EUR"
FOREIGN = ["USD", "JPY", "GBP", "CHF", "SEK", "PLN", "CZK", "DKK", "NOK", "HUF"]
"""One foreign currency per example (a currency's rate for a date can be published once); JPY has no decimals."""

STEP = st.tuples(
    st.sampled_from(["order", "ship", "ship", "refund", "credit", "rate"]), st.integers(0, 99), st.integers(0, 99)
)
HISTORIES = st.fixed_dictionaries(
    {
        "foreign": st.booleans(),
        "policy": st.sampled_from(["authorize_at_placement", "capture_at_placement"]),
        "first": st.tuples(st.just("order"), st.integers(0, 99), st.integers(0, 99)),
        "steps": st.lists(STEP, min_size=3, max_size=8),
    }
)
"""A history is drawn whole before it runs (each step with two free choices), so that what it draws never depends on
what the database holds."""


@pytest.fixture
def currencies() -> Iterator[str]:
    """Shared by the examples of one test run, which share its database."""
    return iter(FOREIGN)


async def _pages(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = check(await api.get(path, params={**params, "limit": 100, **({"cursor": cursor} if cursor else {})}))
        rows += page["data"]
        cursor = page.get("next_cursor")
        if not cursor:
            return rows


async def _rate(api: httpx.AsyncClient, quote: str, on: date, rate: str) -> None:
    body = {"base": BASE, "quote": quote, "rate": rate, "rate_date": on.isoformat()}
    check(await api.post("/v1/fx-rates", json=body), 201)


class History:
    """What one drawn sequence made: its shop, orders and their shipments still to ship."""

    def __init__(self, shop: dict[str, Any], currency: str) -> None:
        self.shop = shop
        self.currency = currency
        self.orders: list[str] = []
        self.to_ship: list[str] = []
        self.rate_today = False

    async def order(self, api: httpx.AsyncClient, pick: int, option: int) -> None:
        mugs, tees = pick % 4, option % 4
        lines = [(self.shop["mug"], mugs), (self.shop["tee"], tees)]
        price = str(round_money(Decimal(["9.99", "10.00", "12.35"][(pick + option) % 3]), self.currency))
        body = {
            "channel": self.shop["channel"],
            "external_ref": f"PROP-{self.shop['channel']}-{len(self.orders)}",
            "currency": self.currency,
            "shipping_address": {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"},
            "shipping_price": {"amount": str(round_money(Decimal("4.95"), self.currency)), "currency": self.currency},
            "lines": [
                {"sku": sku, "quantity": qty, "unit_price": {"amount": price, "currency": self.currency}}
                for sku, qty in lines
                if qty
            ]
            or [{"sku": self.shop["mug"], "quantity": 1, "unit_price": {"amount": price, "currency": self.currency}}],
            "payment": {"method": APPROVE},
        }
        made = check(await api.post("/v1/orders", json=body), 201)
        self.orders.append(made["id"])
        shipments = check(await api.post(f"/v1/orders/{made['id']}/shipments"), 201)["data"]
        self.to_ship += [s["id"] for s in shipments]

    async def ship(self, api: httpx.AsyncClient, pick: int, option: int) -> None:
        if self.to_ship:
            await ship(api, self.to_ship.pop(pick % len(self.to_ship)), self.shop["carrier"])

    async def refund(self, api: httpx.AsyncClient, pick: int, option: int) -> None:
        for order_id in self.orders:
            for payment in check(await api.get(f"/v1/orders/{order_id}/payments"))["data"]:
                refundable = Decimal(payment["captured"]["amount"]) - Decimal(payment["refunded"]["amount"])
                if refundable > 0:
                    share = [Decimal("0.5"), Decimal("1")][option % 2]
                    amount = round_money(refundable * share, self.currency)
                    body = {"reason": "goodwill", "amount": {"amount": str(amount), "currency": self.currency}}
                    check(await api.post(f"/v1/payments/{payment['id']}/refund", json=body))
                    return

    async def credit(self, api: httpx.AsyncClient, pick: int, option: int) -> None:
        for order_id in self.orders:
            for summary in check(await api.get("/v1/invoices", params={"order_id": order_id}))["data"]:
                invoice = check(await api.get(f"/v1/invoices/{summary['id']}"))
                if summary["status"] == "credited" or Decimal(invoice["credited"]["amount"]) > 0:
                    continue
                line = invoice["lines"][0]
                body = {"reason": "damaged", "lines": [{"invoice_line_id": line["id"], "quantity": 1}]}
                if option % 2:
                    body = {"reason": "late delivery", "shipping": True}
                    if not any(row["kind"] == "shipping" for row in invoice["lines"]):
                        continue
                check(await api.post(f"/v1/invoices/{summary['id']}/credit-notes", json=body), 201)
                return

    async def rate(self, api: httpx.AsyncClient, pick: int, option: int) -> None:
        """Today's rate, published once, after yesterday's: documents and payments before it used yesterday's."""
        if self.currency != BASE and not self.rate_today:
            await _rate(api, self.currency, date.today(), ["0.85", "1.2", "160.5"][option % 3])
            self.rate_today = True


@settings(
    max_examples=4,
    deadline=None,
    database=None,
    phases=[Phase.generate],  # a failure names its steps; shrinking whole order histories would take minutes
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=HISTORIES)
async def test_random_histories_keep_every_entry_balanced_and_the_trial_balance_at_zero(
    api: httpx.AsyncClient, currencies: Iterator[str], drawn: dict[str, Any]
) -> None:
    currency = next(currencies) if drawn["foreign"] else BASE
    if drawn["foreign"]:
        await _rate(api, currency, date.today() - timedelta(days=1), "1.1")
    shop = await invoicing_shop(api, policy="per_shipment", payment_policy=drawn["policy"], default_currency=currency)
    history = History(shop, currency)
    for step, pick, option in [drawn["first"], *drawn["steps"]]:
        await getattr(history, step)(api, pick, option)

    for entry in await _pages(api, "/v1/accounting/journal-entries"):
        lines = check(await api.get(f"/v1/accounting/journal-entries/{entry['id']}"))["lines"]
        assert sum(_amount(x["debit"]) - _amount(x["credit"]) for x in lines) == 0, entry
        if not entry["base_pending"]:
            assert sum(_amount(x["base_debit"]) - _amount(x["base_credit"]) for x in lines) == 0, entry

    trial = check(await api.get("/v1/accounting/trial-balance"))
    for side in [trial["base"], *trial["currencies"]]:
        assert side["debit"] == side["credit"], side

    aging = check(await api.get("/v1/reports/ar-aging"))
    for row in [*aging["customers"], {"buckets": aging["total"]}]:
        buckets = row["buckets"]
        parts = [_amount(value) for key, value in buckets.items() if key != "total"]
        assert sum(parts) == _amount(buckets["total"])
    open_base = Decimal(0)
    for summary in await _pages(api, "/v1/invoices"):
        if summary["status"] in ("draft", "paid", "credited"):
            continue
        invoice = check(await api.get(f"/v1/invoices/{summary['id']}"))
        due = Money.of(invoice["amount_due"]["amount"], invoice["currency"])
        if invoice["currency"] == BASE:
            open_base += due.amount
        elif invoice["base"] is not None:
            open_base += fx_rules.convert(due, Decimal(invoice["base"]["fx_rate"]), BASE).amount
    assert _amount(aging["total"]["total"]) == open_base


def _amount(value: Any) -> Decimal:
    return Decimal(value["amount"] if isinstance(value, dict) else value)
