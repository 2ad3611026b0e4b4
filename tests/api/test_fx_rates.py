"""/v1/fx-rates through HTTP, and the facade other contexts call (``fx.service.to_base``), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from oms_api.fx import service as fx
from oms_api.fx.adding import day_id
from oms_api.kit.auth import Scope
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.errors import Unprocessable
from oms_api.kit.money import Money
from tests.conftest import KeyMaker
from tests.support.factories import recorded_events


def _rate(quote: str, rate: str, day: str = "2026-12-03", base: str = "EUR", **extra: Any) -> dict[str, Any]:
    return {"base": base, "quote": quote, "rate": rate, "rate_date": day, **extra}


async def _add(api: httpx.AsyncClient, body: Any) -> dict[str, Any]:
    response = await api.post("/v1/fx-rates", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def _seed(api: httpx.AsyncClient) -> None:
    """ECB-like EUR rates on three days (no rate on the 2nd for JPY)."""
    await _add(
        api,
        [
            _rate("USD", "1.0800", "2026-12-01", source="ecb"),
            _rate("JPY", "160.00", "2026-12-01", source="ecb"),
            _rate("GBP", "0.8500", "2026-12-01", source="ecb"),
            _rate("USD", "1.0850", "2026-12-02", source="ecb"),
            _rate("GBP", "0.8520", "2026-12-02", source="ecb"),
            _rate("USD", "1.0865", "2026-12-03", source="ecb"),
            _rate("JPY", "162.45", "2026-12-03", source="ecb"),
            _rate("GBP", "0.8543", "2026-12-03", source="ecb"),
        ],
    )


async def test_creating_one_rate_returns_it_exactly_and_records_its_event(
    api: httpx.AsyncClient, database_url: str
) -> None:
    body = await _add(api, _rate("USD", "1.08650000000001"))
    assert body["skipped"] == []
    [created] = body["created"]
    assert created["base"] == "EUR"
    assert created["quote"] == "USD"
    assert created["rate"] == "1.08650000000001"  # 15 significant digits, exact on both databases
    assert created["rate_date"] == "2026-12-03"
    assert created["source"] == "api"
    listed = (await api.get("/v1/fx-rates")).json()["data"]
    assert listed == [created]
    events = await recorded_events(database_url, str(day_id("EUR", date(2026, 12, 3))))
    assert [(e["type"], e["aggregate_type"]) for e in events] == [("fx_rate.created", "fx_rates")]
    assert events[0]["data"] == {"base": "EUR", "rate_date": "2026-12-03", "rates": [created]}


async def test_a_batch_is_recorded_as_one_event_per_base_and_date(api: httpx.AsyncClient, database_url: str) -> None:
    await _seed(api)
    for day, quotes in (("2026-12-01", {"USD", "JPY", "GBP"}), ("2026-12-02", {"USD", "GBP"})):
        events = await recorded_events(database_url, str(day_id("EUR", date.fromisoformat(day))))
        assert len(events) == 1
        assert {rate["quote"] for rate in events[0]["data"]["rates"]} == quotes


async def test_the_same_rate_again_is_skipped_and_another_value_is_a_409(
    api: httpx.AsyncClient, database_url: str
) -> None:
    [first] = (await _add(api, _rate("USD", "1.0865")))["created"]
    again = await _add(api, [_rate("USD", "1.08650"), _rate("JPY", "162.45")])
    assert again["skipped"] == [first]
    assert [rate["quote"] for rate in again["created"]] == ["JPY"]

    clash = await api.post("/v1/fx-rates", json=[_rate("GBP", "0.85"), _rate("USD", "1.09")])
    assert clash.status_code == 409
    assert clash.headers["content-type"] == "application/problem+json"
    problem = clash.json()
    assert problem["code"] == "fx_rate_conflict"
    assert problem["conflicts"] == [
        {"base": "EUR", "quote": "USD", "rate_date": "2026-12-03", "rate": "1.09", "existing_rate": "1.0865"}
    ]
    listed = (await api.get("/v1/fx-rates")).json()["data"]
    assert {(r["quote"], r["rate"]) for r in listed} == {("USD", "1.0865"), ("JPY", "162.45")}, "all or nothing"
    events = await recorded_events(database_url, str(day_id("EUR", date(2026, 12, 3))))
    assert len(events) == 2, "one per request that added rates, none for the refused one"


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        (_rate("XYZ", "1.1"), "/body/quote"),
        (_rate("USD", "1.1", base="XXX"), "/body/base"),
        (_rate("usd", "1.1"), "/body/quote"),
        (_rate("USD", "0"), "/body/rate"),
        (_rate("USD", "-1.1"), "/body/rate"),
        (_rate("USD", "1.12345678901234567"), "/body/rate"),
        (_rate("EUR", "1"), "/body"),
        ({**_rate("USD", "1.1"), "rate": 1.1}, "/body/rate"),
    ],
)
async def test_bad_rates_are_422_with_a_pointer(api: httpx.AsyncClient, body: dict[str, Any], pointer: str) -> None:
    response = await api.post("/v1/fx-rates", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"
    assert any(error["pointer"].startswith(pointer) for error in response.json()["errors"]), response.json()


async def test_a_batch_holds_at_most_1000_rates(api: httpx.AsyncClient) -> None:
    too_many = [_rate("USD", "1.1", f"2026-{1 + i // 28:02d}-{1 + i % 28:02d}") for i in range(336)] * 3
    response = await api.post("/v1/fx-rates", json=[*too_many, _rate("JPY", "160")])
    assert response.status_code == 422
    assert (await api.get("/v1/fx-rates")).json()["data"] == []


async def test_lists_filter_by_quote_base_date_and_page_with_cursors(api: httpx.AsyncClient) -> None:
    await _seed(api)
    await _add(api, _rate("JPY", "150.5", base="USD"))

    async def quotes(**params: str) -> list[tuple[str, str, str]]:
        response = await api.get("/v1/fx-rates", params=params)
        assert response.status_code == 200, response.text
        return [(r["base"], r["quote"], r["rate_date"]) for r in response.json()["data"]]

    assert len(await quotes()) == 9
    assert await quotes(quote="JPY") == [
        ("EUR", "JPY", "2026-12-01"),
        ("EUR", "JPY", "2026-12-03"),
        ("USD", "JPY", "2026-12-03"),
    ]
    assert await quotes(base="USD") == [("USD", "JPY", "2026-12-03")]
    assert await quotes(date="2026-12-02") == [("EUR", "USD", "2026-12-02"), ("EUR", "GBP", "2026-12-02")]
    assert await quotes(date="2026-12-03", quote="JPY", base="EUR") == [("EUR", "JPY", "2026-12-03")]

    first = await api.get("/v1/fx-rates", params={"quote": "USD", "limit": 2})
    assert first.json()["has_more"] is True
    cursor = first.json()["next_cursor"]
    second = await api.get("/v1/fx-rates", params={"quote": "USD", "limit": 2, "cursor": cursor})
    seen = [r["rate_date"] for r in first.json()["data"] + second.json()["data"]]
    assert seen == ["2026-12-01", "2026-12-02", "2026-12-03"]
    assert second.json()["has_more"] is False
    wrong = await api.get("/v1/fx-rates", params={"quote": "GBP", "limit": 2, "cursor": cursor})
    assert wrong.status_code == 400
    assert wrong.json()["code"] == "invalid_cursor"


async def test_on_lists_the_rate_of_each_pair_in_force_that_day(api: httpx.AsyncClient) -> None:
    await _seed(api)
    response = await api.get("/v1/fx-rates", params={"on": "2026-12-02"})
    assert response.status_code == 200
    in_force = {(r["quote"], r["rate_date"], r["rate"]) for r in response.json()["data"]}
    assert in_force == {("USD", "2026-12-02", "1.085"), ("GBP", "2026-12-02", "0.852"), ("JPY", "2026-12-01", "160")}
    only_jpy = await api.get("/v1/fx-rates", params={"on": "2026-12-05", "quote": "JPY"})
    assert [(r["rate_date"], r["rate"]) for r in only_jpy.json()["data"]] == [("2026-12-03", "162.45")]
    assert (await api.get("/v1/fx-rates", params={"on": "2026-11-30"})).json()["data"] == []
    page = await api.get("/v1/fx-rates", params={"on": "2026-12-02", "limit": 2})
    rest = await api.get("/v1/fx-rates", params={"on": "2026-12-02", "limit": 2, "cursor": page.json()["next_cursor"]})
    assert len(page.json()["data"]) + len(rest.json()["data"]) == 3
    both = await api.get("/v1/fx-rates", params={"on": "2026-12-02", "date": "2026-12-02"})
    assert both.status_code == 400
    assert both.json()["code"] == "conflicting_filters"


async def test_a_bad_currency_filter_is_422(api: httpx.AsyncClient) -> None:
    for params in ({"quote": "XYZ"}, {"base": "eur"}, {"quote": "XAU"}):
        response = await api.get("/v1/fx-rates", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["pointer"] == f"/query/{next(iter(params))}"


async def test_conversion_uses_the_latest_rate_on_or_before_the_date(api: httpx.AsyncClient) -> None:
    await _seed(api)
    response = await api.get(
        "/v1/fx-rates/convert", params={"amount": "100.00", "from": "EUR", "to": "JPY", "date": "2026-12-02"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "amount": {"amount": "100.00", "currency": "EUR"},
        "result": {"amount": "16000", "currency": "JPY"},
        "rate": "160",
        "rate_date": "2026-12-01",
        "source": "ecb",
        "via": None,
        "inverted": False,
    }
    later = await api.get(
        "/v1/fx-rates/convert", params={"amount": "10.00", "from": "EUR", "to": "JPY", "date": "2026-12-31"}
    )
    assert later.json()["result"] == {"amount": "1625", "currency": "JPY"}  # 1624.5, half up
    assert later.json()["rate_date"] == "2026-12-03"


async def test_a_cross_rate_goes_through_eur_and_an_inverse_is_used(api: httpx.AsyncClient) -> None:
    """With the base currency USD and ECB's EUR rates: JPY -> USD = (EUR -> USD) / (EUR -> JPY). An older rate of
    another base (USD -> JPY in November) loses to the cross rate published since."""
    await _seed(api)
    await _add(api, [_rate("JPY", "150", "2026-11-02", base="USD"), _rate("CHF", "0.9", "2026-11-02", base="GBP")])
    cross = await api.get(
        "/v1/fx-rates/convert", params={"amount": "16245", "from": "JPY", "to": "USD", "date": "2026-12-03"}
    )
    assert cross.status_code == 200, cross.text
    body = cross.json()
    assert body["result"] == {"amount": "108.65", "currency": "USD"}
    assert (body["via"], body["rate_date"], body["source"]) == ("EUR", "2026-12-03", "ecb")
    assert Decimal(body["rate"]) == (Decimal("1.0865") / Decimal("162.45")).quantize(Decimal(body["rate"]))
    inverse = await api.get(
        "/v1/fx-rates/convert", params={"amount": "108.65", "from": "USD", "to": "EUR", "date": "2026-12-03"}
    )
    assert inverse.json()["result"] == {"amount": "100.00", "currency": "EUR"}
    assert inverse.json()["inverted"] is True
    november = await api.get(
        "/v1/fx-rates/convert", params={"amount": "1500", "from": "JPY", "to": "USD", "date": "2026-11-30"}
    )
    assert november.json()["result"] == {"amount": "10.00", "currency": "USD"}
    assert (november.json()["inverted"], november.json()["via"], november.json()["source"]) == (True, None, "api")


async def test_a_missing_rate_is_a_422_naming_both_currencies_and_the_date(api: httpx.AsyncClient) -> None:
    await _seed(api)
    for params in (
        {"amount": "1.00", "from": "EUR", "to": "CHF", "date": "2026-12-03"},
        {"amount": "1.00", "from": "EUR", "to": "USD", "date": "2026-11-30"},  # before the first rate
        {"amount": "1.00", "from": "JPY", "to": "USD", "date": "2026-11-30"},
    ):
        response = await api.get("/v1/fx-rates/convert", params=params)
        assert response.status_code == 422, params
        problem = response.json()
        assert problem["code"] == "fx_rate_missing"
        assert (problem["from_currency"], problem["to_currency"], problem["date"]) == (
            params["from"],
            params["to"],
            params["date"],
        )
        assert params["from"] in problem["detail"]
        assert params["to"] in problem["detail"]
        assert params["date"] in problem["detail"]


async def test_conversion_refuses_bad_amounts_and_currencies(api: httpx.AsyncClient) -> None:
    await _seed(api)
    cases = [
        ({"amount": "1.005", "from": "EUR", "to": "USD"}, "/query/amount"),
        ({"amount": "1.5", "from": "JPY", "to": "USD"}, "/query/amount"),
        ({"amount": "abc", "from": "EUR", "to": "USD"}, "/query/amount"),
        ({"amount": "1", "from": "XYZ", "to": "USD"}, "/query/from"),
        ({"amount": "1", "from": "EUR", "to": "XXX"}, "/query/to"),
    ]
    for params, pointer in cases:
        response = await api.get("/v1/fx-rates/convert", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["pointer"] == pointer, response.json()
    huf = await api.get("/v1/fx-rates/convert", params={"amount": "10.50", "from": "HUF", "to": "HUF"})
    assert huf.status_code == 200, huf.text
    assert huf.json()["result"] == {"amount": "10.50", "currency": "HUF"}
    assert huf.json()["source"] == "identity"


async def test_scopes_guard_reading_and_writing(api: httpx.AsyncClient, make_key: KeyMaker) -> None:
    reader = {"Authorization": f"Bearer {await make_key(Scope.FX_READ.value)}"}
    writer = {"Authorization": f"Bearer {await make_key(Scope.FX_WRITE.value)}"}
    assert (await api.get("/v1/fx-rates", headers=reader)).status_code == 200
    refused = await api.post("/v1/fx-rates", json=_rate("USD", "1.1"), headers=reader)
    assert refused.status_code == 403
    assert refused.json()["required_scope"] == "fx:write"
    assert (await api.post("/v1/fx-rates", json=_rate("USD", "1.1"), headers=writer)).status_code == 201
    assert (await api.get("/v1/fx-rates/convert?amount=1&from=EUR&to=USD", headers=writer)).status_code == 403


async def test_to_base_is_the_conversion_payments_store(api: httpx.AsyncClient, database_url: str) -> None:
    await _seed(api)
    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            usd = await fx.to_base(session, Money.of("16245", "JPY"), date(2026, 12, 4), "USD")
            assert usd.base_currency == "USD"
            assert usd.base_amount == Money.of("108.65", "USD")
            assert usd.rate_date == date(2026, 12, 3)
            assert usd.rate == Decimal("1.0865") / Decimal("162.45")
            same = await fx.to_base(session, Money.of("10.00", "EUR"), date(2026, 12, 4), "EUR")
            assert (same.rate, same.base_amount) == (Decimal(1), Money.of("10.00", "EUR"))
            with pytest.raises(Unprocessable) as missing:
                await fx.to_base(session, Money.of("1.00", "CHF"), date(2026, 12, 4), "USD")
            assert missing.value.code == "fx_rate_missing"
            rate = await fx.rate_on(session, "GBP", "USD", date(2026, 12, 2))
            assert (rate.via, rate.rate_date) == ("EUR", date(2026, 12, 2))
    finally:
        await engine.dispose()
