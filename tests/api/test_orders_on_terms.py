"""Orders on terms through HTTP, on SQLite and PostgreSQL: no card is authorised, the order's payment status says
``on_terms``, and its invoice is due by the customer's terms."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import httpx

from tests.support.factories import make_customer, place_order
from tests.support.invoicing import check, invoice, make_entity
from tests.support.payments import APPROVE, order_payments, paying_shop

NET_30 = {"kind": "net", "days": 30}


async def order_of(api: httpx.AsyncClient, shop: dict[str, Any], customer: dict[str, Any] | None, **extra: Any) -> Any:
    who = {"customer": {"id": customer["id"]}} if customer else {}
    return await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)], **who, **extra)


async def test_a_customer_with_terms_who_names_no_payment_method_is_invoiced(api: httpx.AsyncClient) -> None:
    await make_entity(api, is_default=True)
    shop = await paying_shop(api, "authorize_at_placement")
    customer = await make_customer(api, company="Babbage Ltd", payment_terms=NET_30)
    made = await order_of(api, shop, customer)
    assert (made["status"], made["payment_status"], made["hold_type"]) == ("confirmed", "on_terms", None)
    assert (await order_payments(api, made["id"]))["data"] == []

    issued = await invoice(api, made["id"])
    assert issued["status"] == "issued"
    assert issued["due_date"] == (date.fromisoformat(issued["issue_date"]) + timedelta(days=30)).isoformat()

    listed = check(await api.get("/v1/orders", params={"payment_status": "on_terms"}))
    assert [o["id"] for o in listed["data"]] == [made["id"]]


async def test_a_customer_with_terms_may_still_pay_by_card(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "authorize_at_placement")
    customer = await make_customer(api, company="Babbage Ltd", payment_terms=NET_30)
    made = await order_of(api, shop, customer, payment={"method": APPROVE})
    assert made["payment_status"] == "authorized"


async def test_without_terms_an_order_with_no_method_waits_for_payment(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "authorize_at_placement")
    consumer = await make_customer(api)
    made = await order_of(api, shop, consumer)
    assert (made["status"], made["hold_type"], made["payment_status"]) == ("on_hold", "payment", "unpaid")


async def test_an_on_terms_channel_invoices_every_order(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "on_terms")
    made = await order_of(api, shop, None)
    assert (made["status"], made["payment_status"]) == ("confirmed", "on_terms")


async def test_an_external_channel_takes_its_own_money_whatever_the_customer(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "external")
    customer = await make_customer(api, company="Babbage Ltd", payment_terms=NET_30)
    made = await order_of(api, shop, customer)
    assert (made["status"], made["payment_status"]) == ("confirmed", "unpaid")
