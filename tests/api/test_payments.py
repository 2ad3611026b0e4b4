"""Payments through HTTP, on SQLite and PostgreSQL: placement by the channel's policy, captures per shipment,
refunds, voids, holds, the API's refusals, and a gateway that does not answer in time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oms_api.kit.auth import Scope
from oms_api.settings import Settings
from tests.conftest import KeyMaker
from tests.support.factories import place_order, recorded_events
from tests.support.payments import (
    APPROVE,
    DECLINE,
    NO_FUNDS,
    THREE_DS,
    TIMES_OUT,
    gateway_keys,
    order_payments,
    paying_shop,
    run_reconciliation,
    ship,
)


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


async def placed(
    api: httpx.AsyncClient, shop: dict[str, Any], method: str | None = APPROVE, **extra: Any
) -> dict[str, Any]:
    """An order of 2 mugs (BIG) and 1 tee (SMALL): 30.00 EUR."""
    payment = {"payment": {"method": method}} if method else {}
    return await place_order(api, shop["channel"], [(shop["mug"], 2), (shop["tee"], 1)], **payment, **extra)


async def shipments_of(api: httpx.AsyncClient, order_id: str) -> dict[str, dict[str, Any]]:
    response = await api.post(f"/v1/orders/{order_id}/shipments")
    assert response.status_code == 201, response.text
    return {s["warehouse"]: s for s in response.json()["data"]}


async def order(api: httpx.AsyncClient, order_id: str) -> dict[str, Any]:
    body: dict[str, Any] = (await api.get(f"/v1/orders/{order_id}")).json()
    return body


# --- the flow -----------------------------------------------------------------------------------------


async def test_an_order_authorised_at_placement_captures_shipment_by_shipment_and_refunds_in_part(
    api: httpx.AsyncClient, database_url: str
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    assert made["status"] == "confirmed"
    assert made["payment_status"] == "authorized"
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert payment["status"] == "authorized"
    assert payment["method"] == "card •••• 4242"
    assert (payment["authorized"], payment["captured"], payment["capturable"]) == (
        money("30.00"),
        money("0.00"),
        money("30.00"),
    )

    shipments = await shipments_of(api, made["id"])
    await ship(api, shipments[shop["big"]]["id"], shop["carrier"])
    assert (await order(api, made["id"]))["payment_status"] == "partially_captured"
    after_first = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert after_first["status"] == "partially_captured"
    assert after_first["captured"] == money("20.00")

    await ship(api, shipments[shop["small"]]["id"], shop["carrier"])
    assert (await order(api, made["id"]))["payment_status"] == "paid"
    paid = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert (paid["status"], paid["captured"], paid["capturable"]) == ("captured", money("30.00"), money("0.00"))
    captures = [t for t in paid["transactions"] if t["kind"] == "capture" and t["request_id"] is None]
    assert [(c["amount"]["amount"], c["final"]) for c in captures] == [("20.00", False), ("10.00", True)]
    assert [key for kind, key in await gateway_keys(database_url, payment["id"]) if kind == "capture"] == [
        f"pay_{payment['id']}:capture:shipment:{shipments[shop['big']]['id']}",
        f"pay_{payment['id']}:capture:shipment:{shipments[shop['small']]['id']}",
    ]

    refund = await api.post(
        f"/v1/payments/{payment['id']}/refund", json={"reason": "a mug arrived broken", "amount": money("10.00")}
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["status"] == "partially_refunded"
    assert refund.json()["refundable"] == money("20.00")
    assert (await order(api, made["id"]))["payment_status"] == "partially_refunded"
    types = [e["type"] for e in await recorded_events(database_url, payment["id"])]
    assert types == ["payment.authorized", "payment.captured", "payment.captured", "payment.refunded"]


async def test_cancelling_the_unshipped_remainder_voids_what_remains(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    shipments = await shipments_of(api, made["id"])
    await ship(api, shipments[shop["big"]]["id"], shop["carrier"])
    cancelled = await api.post(f"/v1/orders/{made['id']}/cancel", json={"reason": "the tee is discontinued"})
    assert cancelled.status_code == 200, cancelled.text
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["captured"], payment["voided"], payment["capturable"]) == (
        money("20.00"),
        money("10.00"),
        money("0.00"),
    )
    assert payment["status"] == "captured"
    void = [t for t in payment["transactions"] if t["kind"] == "void"]
    assert [(t["status"], t["reason"]) for t in void] == [
        ("requested", "the tee is discontinued"),
        ("succeeded", "the tee is discontinued"),
    ]
    assert (await order(api, made["id"]))["payment_status"] == "paid"  # what it still owes is what was captured


async def test_cancelling_an_unshipped_order_voids_its_authorisation(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    cancelled = await api.post(f"/v1/orders/{made['id']}/cancel", json={"reason": "customer changed their mind"})
    assert cancelled.status_code == 200, cancelled.text
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["status"], payment["voided"], payment["capturable"]) == ("voided", money("30.00"), money("0.00"))
    assert (await order(api, made["id"]))["payment_status"] == "unpaid"


# --- placement by policy ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("card", "code"), [(DECLINE, "card_declined"), (NO_FUNDS, "insufficient_funds")], ids=["declined", "no_funds"]
)
async def test_a_refused_authorisation_holds_the_order_until_a_payment_succeeds(
    api: httpx.AsyncClient, card: str, code: str
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop, card)
    assert (made["status"], made["hold_type"], made["payment_status"]) == ("on_hold", "payment", "unpaid")
    assert code in made["status_reason"]
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert payment["status"] == "failed"
    assert payment["last_error"]["code"] == code
    refused = await api.post(f"/v1/orders/{made['id']}/shipments")
    assert refused.status_code == 409

    again = await api.post(f"/v1/orders/{made['id']}/payments", json={"method": APPROVE})
    assert again.status_code == 201, again.text
    assert again.json()["status"] == "authorized"
    assert again.json()["amount"] == money("30.00")
    assert again.headers["location"] == f"/v1/payments/{again.json()['id']}"
    resumed = await order(api, made["id"])
    assert (resumed["status"], resumed["hold_type"], resumed["payment_status"]) == ("confirmed", None, "authorized")


async def test_an_authorisation_that_needs_the_customer_holds_the_order_until_confirmed(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop, THREE_DS)
    assert (made["status"], made["hold_type"]) == ("on_hold", "payment")
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert payment["status"] == "requires_action"
    confirmed = await api.post(f"/v1/payments/{payment['id']}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "authorized"
    assert (await order(api, made["id"]))["status"] == "confirmed"
    again = await api.post(f"/v1/payments/{payment['id']}/confirm")
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_confirm")


async def test_an_order_without_a_method_on_a_paying_channel_is_held(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop, None)
    assert (made["status"], made["hold_type"], made["status_reason"]) == (
        "on_hold",
        "payment",
        "no payment method was given",
    )
    assert (await order_payments(api, made["id"]))["data"] == []


async def test_capture_at_placement_takes_the_money_at_once(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "capture_at_placement")
    made = await placed(api, shop)
    assert (made["status"], made["payment_status"]) == ("confirmed", "paid")
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["status"], payment["captured"]) == ("captured", money("30.00"))


async def test_a_storefronts_own_payment_is_recorded_as_captured_and_cannot_be_moved_here(
    api: httpx.AsyncClient,
) -> None:
    shop = await paying_shop(api, "external")
    made = await placed(api, shop, None, payment={"external_status": "captured", "external_reference": "ch_123"})
    assert (made["status"], made["payment_status"]) == ("confirmed", "paid")
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["gateway"], payment["gateway_reference"], payment["status"]) == ("external", "ch_123", "captured")
    refused = await api.post(f"/v1/payments/{payment['id']}/refund", json={"reason": "no"})
    assert (refused.status_code, refused.json()["code"]) == (409, "external_payment")


async def test_on_terms_orders_take_no_payment(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "on_terms")
    made = await placed(api, shop)
    assert (made["status"], made["payment_status"]) == ("confirmed", "on_terms")
    assert (await order_payments(api, made["id"]))["data"] == []


# --- the API's refusals ---------------------------------------------------------------------------------------


async def test_capturing_more_than_authorised_and_refunding_more_than_captured_are_conflicts(
    api: httpx.AsyncClient,
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    [payment] = (await order_payments(api, made["id"]))["data"]
    url = f"/v1/payments/{payment['id']}"
    too_much = await api.post(f"{url}/capture", json={"amount": money("30.01")})
    assert (too_much.status_code, too_much.json()["code"]) == (409, "capture_exceeds_authorized")
    assert too_much.json()["capturable"] == "30.00"
    nothing = await api.post(f"{url}/refund", json={"reason": "nothing captured yet"})
    assert (nothing.status_code, nothing.json()["code"]) == (409, "nothing_to_refund")

    part = await api.post(f"{url}/capture", json={"amount": money("12.50"), "final": False})
    assert part.status_code == 200, part.text
    assert (part.json()["status"], part.json()["capturable"]) == ("partially_captured", money("17.50"))
    over = await api.post(f"{url}/refund", json={"reason": "too much", "amount": money("12.51")})
    assert (over.status_code, over.json()["code"]) == (409, "refund_exceeds_captured")
    assert over.json()["refundable"] == "12.50"
    other = await api.post(
        f"{url}/refund", json={"reason": "wrong money", "amount": {"amount": "1", "currency": "USD"}}
    )
    assert (other.status_code, other.json()["errors"][0]["code"]) == (422, "currency_mismatch")

    rest = await api.post(f"{url}/capture", json={})
    assert (rest.json()["status"], rest.json()["captured"]) == ("captured", money("30.00"))
    again = await api.post(f"{url}/capture", json={})
    assert (again.status_code, again.json()["code"]) == (409, "nothing_to_capture")
    void = await api.post(f"{url}/void", json={})
    assert (void.status_code, void.json()["code"]) == (409, "nothing_to_void")


async def test_authorising_in_another_currency_is_refused(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "on_terms")
    made = await placed(api, shop, None)
    response = await api.post(
        f"/v1/orders/{made['id']}/payments", json={"method": APPROVE, "amount": {"amount": "5.00", "currency": "USD"}}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "pointer": "/body/amount/currency",
        "detail": "must be the order currency EUR",
        "code": "currency_mismatch",
    }


async def test_a_refund_by_lines_is_worth_their_units_and_names_them(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api, "capture_at_placement")
    made = await placed(api, shop)
    mug_line = next(line for line in made["lines"] if line["sku"] == shop["mug"])
    [payment] = (await order_payments(api, made["id"]))["data"]
    refund = await api.post(
        f"/v1/payments/{payment['id']}/refund",
        json={"reason": "returned", "lines": [{"order_line_id": mug_line["id"], "quantity": 1}]},
    )
    assert refund.status_code == 200, refund.text
    assert refund.json()["refunded"] == money("10.00")
    entry = next(t for t in refund.json()["transactions"] if t["kind"] == "refund")
    assert entry["lines"] == [{"order_line_id": mug_line["id"], "quantity": 1}]
    assert entry["reason"] == "returned"
    assert entry["fx"] == {"rate": "1", "rate_date": entry["fx"]["rate_date"], "base_amount": money("10.00")}
    wrong = await api.post(
        f"/v1/payments/{payment['id']}/refund",
        json={"reason": "x", "lines": [{"order_line_id": payment["id"], "quantity": 1}]},
    )
    assert (wrong.status_code, wrong.json()["errors"][0]["code"]) == (422, "unknown_line")


async def test_a_retried_capture_with_the_same_key_captures_once(api: httpx.AsyncClient, database_url: str) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    [payment] = (await order_payments(api, made["id"]))["data"]
    url = f"/v1/payments/{payment['id']}/capture"
    body = {"amount": money("5.00"), "final": False}
    first = await api.post(url, json=body, headers={"Idempotency-Key": "cap-1"})
    second = await api.post(url, json=body, headers={"Idempotency-Key": "cap-1"})
    assert first.status_code == second.status_code == 200
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json()["captured"] == money("5.00")
    keys = [key for kind, key in await gateway_keys(database_url, payment["id"]) if kind == "capture"]
    assert len(keys) == 1
    assert keys[0].startswith(f"pay_{payment['id']}:capture:k")


async def test_payments_are_listed_by_status_and_order_with_a_cursor(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    orders = [await placed(api, shop, card) for card in (APPROVE, DECLINE, APPROVE, APPROVE)]
    page = await api.get("/v1/payments", params={"status": "authorized", "limit": 2})
    assert page.status_code == 200, page.text
    first = page.json()
    assert [p["order_id"] for p in first["data"]] == [orders[0]["id"], orders[2]["id"]]
    assert first["has_more"] is True
    rest = await api.get("/v1/payments", params={"status": "authorized", "limit": 2, "cursor": first["next_cursor"]})
    assert [p["order_id"] for p in rest.json()["data"]] == [orders[3]["id"]]
    failed = await api.get("/v1/payments", params={"status": "failed"})
    assert [p["order_id"] for p in failed.json()["data"]] == [orders[1]["id"]]
    by_order = await api.get("/v1/payments", params={"order_id": orders[2]["id"]})
    assert [p["status"] for p in by_order.json()["data"]] == ["authorized"]
    assert "transactions" not in by_order.json()["data"][0]


async def test_orders_are_filtered_by_their_payment_status(api: httpx.AsyncClient) -> None:
    shop = await paying_shop(api)
    approved, declined = await placed(api, shop, APPROVE), await placed(api, shop, DECLINE)
    authorized = (await api.get("/v1/orders", params={"payment_status": "authorized"})).json()["data"]
    assert [(o["id"], o["payment_status"]) for o in authorized] == [(approved["id"], "authorized")]
    unpaid = (await api.get("/v1/orders", params={"payment_status": "unpaid"})).json()["data"]
    assert [o["id"] for o in unpaid] == [declined["id"]]
    assert (await api.get("/v1/orders", params={"payment_status": "sideways"})).status_code == 422


async def test_payments_need_their_scopes(
    client: httpx.AsyncClient, api: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop)
    reader = {"Authorization": f"Bearer {await make_key(Scope.PAYMENTS_READ.value)}"}
    listed = await client.get(f"/v1/orders/{made['id']}/payments", headers=reader)
    assert listed.status_code == 200
    payment_id = listed.json()["data"][0]["id"]
    refused = await client.post(f"/v1/payments/{payment_id}/capture", json={}, headers=reader)
    assert refused.status_code == 403
    orders_only = {"Authorization": f"Bearer {await make_key(Scope.ORDERS_READ.value)}"}
    assert (await client.get(f"/v1/payments/{payment_id}", headers=orders_only)).status_code == 403


# --- a gateway that does not answer in time -----------------------------------------------------------------------


async def test_a_timed_out_authorisation_is_pending_until_the_worker_settles_it(
    api: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop, TIMES_OUT)
    assert (made["status"], made["hold_type"]) == ("on_hold", "payment")
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["status"], payment["pending"], payment["capturable"]) == ("pending", True, money("0.00"))
    assert [t["status"] for t in payment["transactions"]] == ["requested", "pending"]

    assert await run_reconciliation(settings) == 1
    [settled] = (await order_payments(api, made["id"]))["data"]
    assert (settled["status"], settled["pending"], settled["authorized"]) == ("authorized", False, money("30.00"))
    assert [t["status"] for t in settled["transactions"]] == ["requested", "pending", "succeeded"]
    assert (await order(api, made["id"]))["status"] == "confirmed"
    assert await run_reconciliation(settings) == 0  # nothing left in doubt

    capture = await api.post(f"/v1/payments/{payment['id']}/capture", json={"amount": money("30.00")})
    assert capture.status_code == 200, capture.text
    assert (capture.json()["status"], capture.json()["pending"], capture.json()["captured"]) == (
        "authorized",
        True,
        money("0.00"),
    )
    assert capture.json()["capturable"] == money("0.00")  # a capture in doubt counts as done meanwhile
    assert await run_reconciliation(settings) == 1
    done = (await api.get(f"/v1/payments/{payment['id']}")).json()
    assert (done["status"], done["captured"], done["pending"]) == ("captured", money("30.00"), False)
    # settling asked the gateway again with the same keys: one request per operation, never a second one
    assert [kind for kind, _ in await gateway_keys(database_url, payment["id"])] == ["authorization", "capture"]
    types = [e["type"] for e in await recorded_events(database_url, payment["id"])]
    assert types == ["payment.pending", "payment.authorized", "payment.pending", "payment.captured"]


async def test_an_authorisation_settled_after_its_order_was_cancelled_is_released(
    api: httpx.AsyncClient, settings: Settings
) -> None:
    shop = await paying_shop(api)
    made = await placed(api, shop, TIMES_OUT)
    cancelled = await api.post(f"/v1/orders/{made['id']}/cancel", json={"reason": "gave up waiting"})
    assert cancelled.status_code == 200, cancelled.text
    [waiting] = (await order_payments(api, made["id"]))["data"]
    assert waiting["status"] == "pending"  # nothing known to void yet

    await run_reconciliation(settings)  # authorised after all: released at once (the card times out once more)
    [releasing] = (await order_payments(api, made["id"]))["data"]
    assert (releasing["status"], releasing["capturable"], releasing["pending"]) == ("voided", money("0.00"), True)
    await run_reconciliation(settings)
    [payment] = (await order_payments(api, made["id"]))["data"]
    assert (payment["status"], payment["authorized"], payment["voided"]) == ("voided", money("30.00"), money("30.00"))
    assert [(t["kind"], t["status"]) for t in payment["transactions"]][-3:] == [
        ("void", "requested"),
        ("void", "pending"),
        ("void", "succeeded"),
    ]
    assert (await order(api, made["id"]))["payment_status"] == "unpaid"


def test_the_worker_runs_the_reconciliation_job() -> None:
    from oms_api.worker.jobs import default_jobs

    jobs = {job.name: job for job in default_jobs(Settings(job_payments_reconcile_seconds=30))}
    assert jobs["payments_reconcile"].interval_seconds == 30
