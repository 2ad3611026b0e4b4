"""Stock levels, the movement ledger and availability through HTTP, on SQLite and PostgreSQL.

After every test the ledger must replay exactly to the stock levels (the autouse fixture).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.ids import uuid7
from oms_api.stock.domain import MAX_STOCK
from oms_api.stock.models import StockLevel, StockMovement
from tests.conftest import KeyMaker
from tests.support.factories import make_sku, make_warehouse, receive, recorded_events
from tests.support.ledger import ledger_discrepancies


@pytest.fixture(autouse=True)
async def ledger_replays(database_url: str) -> AsyncIterator[None]:
    yield
    assert await ledger_discrepancies(database_url) == []


async def _move(api: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await api.post("/v1/stock-movements", json=body)


async def _adjust(api: httpx.AsyncClient, sku: str, warehouse: str, quantity: int, reason: str) -> httpx.Response:
    return await _move(api, type="adjustment", sku=sku, warehouse=warehouse, quantity=quantity, reason=reason)


async def _transfer(api: httpx.AsyncClient, sku: str, source: str, target: str, quantity: int) -> httpx.Response:
    body = {"type": "transfer", "sku": sku, "from_warehouse": source, "to_warehouse": target, "quantity": quantity}
    return await api.post("/v1/stock-movements", json=body)


async def _level(api: httpx.AsyncClient, sku: str, warehouse: str) -> dict[str, Any] | None:
    response = await api.get("/v1/stock-levels", params={"sku": sku, "warehouse": warehouse})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data[0] if data else None


async def _ledger(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await api.get("/v1/stock-movements", params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


async def _stocked(api: httpx.AsyncClient, quantity: int) -> tuple[str, str, dict[str, Any]]:
    """A new SKU with ``quantity`` received at a new warehouse: (sku code, warehouse code, level)."""
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    result = await receive(api, sku["sku"], warehouse["code"], quantity)
    return sku["sku"], warehouse["code"], result["stock_levels"][0]


async def _change_directly(
    database_url: str, level_id: str, *, on_hand: int = 0, reserved: int = 0, type_: str = "reservation"
) -> None:
    """Change a level behind the API, with its ledger row (as order reservations, another module, do)."""
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            stmt = (
                update(StockLevel)
                .where(StockLevel.id == uuid.UUID(level_id))
                .values(
                    on_hand=StockLevel.on_hand + on_hand,
                    reserved=StockLevel.reserved + reserved,
                    version=StockLevel.version + 1,
                )
                .returning(StockLevel.sku_id, StockLevel.warehouse_id, StockLevel.on_hand, StockLevel.reserved)
            )
            row = (await session.execute(stmt)).one()
            session.add(
                StockMovement(
                    id=uuid7(),
                    sku_id=row.sku_id,
                    warehouse_id=row.warehouse_id,
                    type=type_,
                    on_hand_delta=on_hand,
                    reserved_delta=reserved,
                    on_hand_after=row.on_hand,
                    reserved_after=row.reserved,
                    actor="test",
                )
            )
    finally:
        await engine.dispose()


async def _reserve_directly(database_url: str, level_id: str, quantity: int) -> None:
    await _change_directly(database_url, level_id, reserved=quantity)


# --- receipts ---------------------------------------------------------------------------------------------------


async def test_a_receipt_creates_the_stock_level_and_writes_the_ledger(api: httpx.AsyncClient) -> None:
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    response = await _move(
        api, type="receipt", sku=sku["sku"], warehouse=warehouse["code"], quantity=12, reference="PO-1", note="dock 3"
    )
    assert response.status_code == 201, response.text
    body = response.json()
    [movement] = body["movements"]
    [level] = body["stock_levels"]
    assert movement["type"] == "receipt"
    assert (movement["sku"], movement["sku_id"]) == (sku["sku"], sku["id"])
    assert (movement["warehouse"], movement["warehouse_id"]) == (warehouse["code"], warehouse["id"])
    assert (movement["on_hand_delta"], movement["reserved_delta"]) == (12, 0)
    assert (movement["on_hand_after"], movement["reserved_after"]) == (12, 0)
    assert (movement["reference"], movement["note"], movement["reason"]) == ("PO-1", "dock 3", None)
    assert movement["group_id"] is None
    assert movement["actor"].startswith("api_key:")
    assert (level["on_hand"], level["reserved"], level["available"]) == (12, 0, 12)
    assert (level["sku"], level["warehouse"], level["version"]) == (sku["sku"], warehouse["code"], 1)
    assert (level["reorder_point"], level["safety_stock"]) == (None, 0)
    assert await _level(api, sku["sku"], warehouse["code"]) == level


async def test_a_second_receipt_adds_to_the_same_level(api: httpx.AsyncClient) -> None:
    sku, warehouse, first = await _stocked(api, 5)
    second = (await receive(api, sku, warehouse, 7))["stock_levels"][0]
    assert second["id"] == first["id"]
    assert (second["on_hand"], second["available"], second["version"]) == (12, 12, 2)
    assert [m["on_hand_after"] for m in await _ledger(api, sku=sku)] == [5, 12]


async def test_movements_for_unknown_skus_or_warehouses_are_not_found(api: httpx.AsyncClient) -> None:
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    no_sku = await _move(api, type="receipt", sku="NOPE", warehouse=warehouse["code"], quantity=1)
    no_warehouse = await _move(api, type="receipt", sku=sku["sku"], warehouse="NOPE", quantity=1)
    no_target = await _transfer(api, sku["sku"], warehouse["code"], "NOPE", 1)
    assert no_sku.status_code == no_warehouse.status_code == no_target.status_code == 404
    assert no_sku.json()["code"] == "sku_not_found"
    assert no_warehouse.json()["code"] == "warehouse_not_found"
    assert no_target.json()["code"] == "warehouse_not_found"


async def test_inactive_skus_and_warehouses_may_still_receive_stock(api: httpx.AsyncClient) -> None:
    sku = await make_sku(api, active=False)
    warehouse = await make_warehouse(api, active=False)
    result = await receive(api, sku["id"], warehouse["id"], 3)
    assert result["stock_levels"][0]["on_hand"] == 3


async def test_invalid_movements_are_refused_with_pointers_into_the_body(api: httpx.AsyncClient) -> None:
    base = {"type": "receipt", "sku": "S", "warehouse": "W", "quantity": 1}
    cases = [
        ({**base, "quantity": 0}, "/body/quantity"),
        ({**base, "quantity": 10_000_001}, "/body/quantity"),
        ({**base, "note": "x" * 501}, "/body/note"),
        ({**base, "note": "x\u0000"}, "/body/note"),
        ({**base, "reference": "PO\u00001"}, "/body/reference"),
        ({**base, "sku": "S\u0000"}, "/body/sku"),
        ({**base, "colour": "red"}, "/body/colour"),
        ({**base, "type": "theft"}, "/body/type"),
        ({"sku": "S", "warehouse": "W", "quantity": 1}, "/body/type"),
        ({"type": "transfer", "sku": "S", "from_warehouse": "A", "quantity": 1}, "/body/to_warehouse"),
    ]
    for body, pointer in cases:
        response = await api.post("/v1/stock-movements", json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer], body


async def test_a_retried_receipt_with_an_idempotency_key_counts_once(api: httpx.AsyncClient) -> None:
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    body = {"type": "receipt", "sku": sku["sku"], "warehouse": warehouse["code"], "quantity": 4}
    first = await api.post("/v1/stock-movements", json=body, headers={"Idempotency-Key": "grn-77"})
    again = await api.post("/v1/stock-movements", json=body, headers={"Idempotency-Key": "grn-77"})
    assert first.status_code == again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    level = await _level(api, sku["sku"], warehouse["code"])
    assert level is not None
    assert level["on_hand"] == 4


async def test_stock_beyond_the_level_limit_is_refused(api: httpx.AsyncClient, database_url: str) -> None:
    sku, source, level = await _stocked(api, 10)
    full = (await make_warehouse(api))["code"]
    target = (await receive(api, sku, full, 1))["stock_levels"][0]
    await _change_directly(database_url, target["id"], on_hand=MAX_STOCK - 6, type_="receipt")
    too_much = await _move(api, type="receipt", sku=sku, warehouse=full, quantity=6)
    assert (too_much.status_code, too_much.json()["code"]) == (409, "stock_limit_exceeded")
    refused = await _transfer(api, sku, source, full, 6)
    assert refused.status_code == 409
    source_level = await _level(api, sku, source)
    assert source_level is not None
    assert source_level["on_hand"] == 10
    filled = await _transfer(api, sku, source, full, 5)
    assert filled.status_code == 201, filled.text
    assert filled.json()["stock_levels"][1]["on_hand"] == MAX_STOCK
    assert level["id"] == source_level["id"]


# --- adjustments ------------------------------------------------------------------------------------------------


async def test_each_adjustment_reason_moves_stock_in_its_direction(api: httpx.AsyncClient) -> None:
    sku, warehouse, _ = await _stocked(api, 10)
    steps = [("cycle_count", 3, 13), ("cycle_count", -2, 11), ("damage", -1, 10), ("loss", -4, 6), ("found", 2, 8)]
    for reason, quantity, expected in steps:
        response = await _adjust(api, sku, warehouse, quantity, reason)
        assert response.status_code == 201, response.text
        [movement] = response.json()["movements"]
        assert (movement["type"], movement["reason"]) == ("adjustment", reason)
        assert (movement["on_hand_delta"], movement["on_hand_after"]) == (quantity, expected)
        assert response.json()["stock_levels"][0]["on_hand"] == expected


async def test_an_adjustment_against_its_reason_is_refused(api: httpx.AsyncClient) -> None:
    sku, warehouse, _ = await _stocked(api, 10)
    for reason, quantity in [("damage", 1), ("loss", 2), ("found", -1)]:
        response = await _adjust(api, sku, warehouse, quantity, reason)
        assert response.status_code == 422, reason
        [error] = response.json()["errors"]
        assert (error["pointer"], error["code"]) == ("/body/quantity", "wrong_sign")
    level = await _level(api, sku, warehouse)
    assert level is not None
    assert (level["on_hand"], level["version"]) == (10, 1)


async def test_an_adjustment_needs_a_known_reason_and_a_non_zero_quantity(api: httpx.AsyncClient) -> None:
    sku, warehouse, _ = await _stocked(api, 10)
    missing = await _move(api, type="adjustment", sku=sku, warehouse=warehouse, quantity=-1)
    unknown = await _adjust(api, sku, warehouse, -1, "theft")
    zero = await _adjust(api, sku, warehouse, 0, "cycle_count")
    huge = await _adjust(api, sku, warehouse, -10_000_001, "cycle_count")
    for response, pointer in [(missing, "/body/reason"), (unknown, "/body/reason"), (zero, "/body/quantity")]:
        assert response.status_code == 422
        assert [e["pointer"] for e in response.json()["errors"]] == [pointer]
    assert huge.status_code == 422


async def test_a_decrease_below_zero_is_refused_and_changes_nothing(api: httpx.AsyncClient) -> None:
    sku, warehouse, before = await _stocked(api, 5)
    response = await _adjust(api, sku, warehouse, -6, "cycle_count")
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "insufficient_stock"
    assert (problem["available"], problem["requested"]) == (5, 6)
    assert await _level(api, sku, warehouse) == before
    assert len(await _ledger(api, sku=sku)) == 1
    emptied = await _adjust(api, sku, warehouse, -5, "loss")
    assert emptied.status_code == 201
    assert emptied.json()["stock_levels"][0]["on_hand"] == 0


async def test_a_decrease_into_reserved_stock_is_refused(api: httpx.AsyncClient, database_url: str) -> None:
    sku, warehouse, level = await _stocked(api, 10)
    await _reserve_directly(database_url, level["id"], 3)
    refused = await _adjust(api, sku, warehouse, -8, "damage")
    assert refused.status_code == 409
    assert refused.json()["available"] == 7
    allowed = await _adjust(api, sku, warehouse, -7, "damage")
    assert allowed.status_code == 201, allowed.text
    [after] = allowed.json()["stock_levels"]
    assert (after["on_hand"], after["reserved"], after["available"]) == (3, 3, 0)
    [movement] = allowed.json()["movements"]
    assert (movement["on_hand_after"], movement["reserved_after"]) == (3, 3)
    again = await _adjust(api, sku, warehouse, -1, "damage")
    assert (again.status_code, again.json()["available"]) == (409, 0)


async def test_a_decrease_where_the_sku_was_never_stocked_is_refused(api: httpx.AsyncClient) -> None:
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    response = await _adjust(api, sku["sku"], warehouse["code"], -1, "cycle_count")
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["available"]) == ("insufficient_stock", 0)
    assert await _level(api, sku["sku"], warehouse["code"]) is None


async def test_a_found_adjustment_creates_a_missing_level(api: httpx.AsyncClient) -> None:
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    response = await _adjust(api, sku["sku"], warehouse["code"], 2, "found")
    assert response.status_code == 201, response.text
    assert response.json()["stock_levels"][0]["on_hand"] == 2


# --- transfers --------------------------------------------------------------------------------------------------


async def test_a_transfer_moves_stock_between_warehouses_atomically(api: httpx.AsyncClient) -> None:
    sku, source, _ = await _stocked(api, 10)
    target = (await make_warehouse(api))["code"]
    response = await _move(
        api, type="transfer", sku=sku, from_warehouse=source, to_warehouse=target, quantity=4, reference="TR-9"
    )
    assert response.status_code == 201, response.text
    out, into = response.json()["movements"]
    assert (out["type"], out["warehouse"], out["on_hand_delta"], out["on_hand_after"]) == (
        "transfer_out",
        source,
        -4,
        6,
    )
    assert (into["type"], into["warehouse"], into["on_hand_delta"], into["on_hand_after"]) == (
        "transfer_in",
        target,
        4,
        4,
    )
    assert out["group_id"] == into["group_id"] is not None
    assert out["reference"] == into["reference"] == "TR-9"
    levels = {level["warehouse"]: level["on_hand"] for level in response.json()["stock_levels"]}
    assert levels == {source: 6, target: 4}
    grouped = await _ledger(api, reference="TR-9")
    assert {m["group_id"] for m in grouped} == {out["group_id"]}


async def test_transfers_into_existing_levels_work_in_both_directions(api: httpx.AsyncClient) -> None:
    sku, first, _ = await _stocked(api, 10)
    second = (await make_warehouse(api))["code"]
    await receive(api, sku, second, 10)
    there = await _transfer(api, sku, first, second, 3)
    back = await _transfer(api, sku, second, first, 5)
    assert there.status_code == back.status_code == 201
    first_level, second_level = await _level(api, sku, first), await _level(api, sku, second)
    assert first_level is not None
    assert second_level is not None
    assert (first_level["on_hand"], second_level["on_hand"]) == (12, 8)


async def test_a_transfer_short_of_available_stock_is_refused_and_changes_nothing(
    api: httpx.AsyncClient, database_url: str
) -> None:
    sku, source, level = await _stocked(api, 10)
    target = (await make_warehouse(api))["code"]
    await _reserve_directly(database_url, level["id"], 4)
    response = await _transfer(api, sku, source, target, 7)
    assert response.status_code == 409
    assert (response.json()["code"], response.json()["available"]) == ("insufficient_stock", 6)
    assert await _level(api, sku, target) is None
    source_level = await _level(api, sku, source)
    assert source_level is not None
    assert (source_level["on_hand"], source_level["reserved"]) == (10, 4)
    assert [m["type"] for m in await _ledger(api, sku=sku)] == ["receipt", "reservation"]


async def test_a_transfer_from_a_warehouse_without_the_sku_is_refused(api: httpx.AsyncClient) -> None:
    sku, target, _ = await _stocked(api, 10)
    empty = (await make_warehouse(api))["code"]
    response = await _transfer(api, sku, empty, target, 1)
    assert response.status_code == 409
    assert response.json()["available"] == 0


async def test_a_transfer_needs_two_different_warehouses(api: httpx.AsyncClient) -> None:
    sku, warehouse, _ = await _stocked(api, 10)
    warehouse_id = (await api.get(f"/v1/warehouses/{warehouse}")).json()["id"]
    response = await _transfer(api, sku, warehouse, warehouse_id, 1)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["pointer"], error["code"]) == ("/body/to_warehouse", "same_warehouse")


# --- the ledger -------------------------------------------------------------------------------------------------


async def test_the_ledger_filters_by_sku_warehouse_type_reference_and_time(api: httpx.AsyncClient) -> None:
    sku, first, _ = await _stocked(api, 10)
    other_sku, _, _ = await _stocked(api, 1)
    second = (await make_warehouse(api))["code"]
    await _adjust(api, sku, first, -1, "damage")
    await _move(api, type="transfer", sku=sku, from_warehouse=first, to_warehouse=second, quantity=2, reference="T1")
    everything = await _ledger(api)
    assert len(everything) == 5
    assert [m["id"] for m in everything] == sorted(m["id"] for m in everything)
    assert len(await _ledger(api, sku=sku)) == 4
    sku_id = everything[0]["sku_id"]
    assert len(await _ledger(api, sku=sku_id)) == 4
    assert [m["type"] for m in await _ledger(api, sku=other_sku)] == ["receipt"]
    assert [m["type"] for m in await _ledger(api, warehouse=second)] == ["transfer_in"]
    assert [m["type"] for m in await _ledger(api, sku=sku, warehouse=first)] == [
        "receipt",
        "adjustment",
        "transfer_out",
    ]
    assert [m["reason"] for m in await _ledger(api, type="adjustment")] == ["damage"]
    assert {m["type"] for m in await _ledger(api, reference="T1")} == {"transfer_out", "transfer_in"}
    assert await _ledger(api, sku="NOPE") == []
    pivot = everything[2]["created_at"]
    after = await _ledger(api, created_after=pivot)
    before = await _ledger(api, created_before=pivot)
    assert {m["id"] for m in after} | {m["id"] for m in before} == {m["id"] for m in everything}
    assert not {m["id"] for m in after} & {m["id"] for m in before}
    assert everything[2]["id"] in {m["id"] for m in after}


async def test_the_ledger_pages_oldest_first(api: httpx.AsyncClient) -> None:
    sku, warehouse, _ = await _stocked(api, 1)
    for _ in range(4):
        await receive(api, sku, warehouse, 1)
    first = (await api.get("/v1/stock-movements", params={"limit": 3})).json()
    second = (await api.get("/v1/stock-movements", params={"limit": 3, "cursor": first["next_cursor"]})).json()
    assert first["has_more"] is True
    assert second["has_more"] is False
    afters = [m["on_hand_after"] for m in first["data"] + second["data"]]
    assert afters == [1, 2, 3, 4, 5]


async def test_malformed_ledger_filters_are_refused(api: httpx.AsyncClient) -> None:
    cases = [
        ({"created_after": "2026-01-01T00:00:00"}, "/query/created_after"),
        ({"created_before": "yesterday"}, "/query/created_before"),
        ({"created_after": "0001-01-01T00:00:00+01:00"}, "/query/created_after"),
        ({"created_before": "9999-12-31T23:59:59-05:00"}, "/query/created_before"),
        ({"reference": "a\u0000"}, "/query/reference"),
        ({"sku": "a\u0000"}, "/query/sku"),
        ({"type": "Receipt!"}, "/query/type"),
    ]
    for params, pointer in cases:
        response = await api.get("/v1/stock-movements", params=params)
        assert response.status_code == 422, params
        assert response.json()["errors"][0]["pointer"] == pointer
    assert (await api.get("/v1/skus/a%00b/availability")).status_code == 422


async def test_the_ledger_check_reports_a_level_that_does_not_replay(api: httpx.AsyncClient, database_url: str) -> None:
    _, _, level = await _stocked(api, 5)
    engine = create_engine(database_url)
    try:
        for on_hand in (6, 5):  # tamper, then restore so that the fixture's own check passes
            async with session_scope(session_factory(engine)) as session:
                stmt = update(StockLevel).where(StockLevel.id == uuid.UUID(level["id"])).values(on_hand=on_hand)
                await session.execute(stmt)
            if on_hand == 6:
                [found] = await ledger_discrepancies(database_url)
                assert found["stock_level_id"] == level["id"]
                assert (found["on_hand"], found["ledger_on_hand"]) == (6, 5)
    finally:
        await engine.dispose()


# --- stock levels -----------------------------------------------------------------------------------------------


async def test_stock_levels_are_listed_by_sku_and_warehouse(api: httpx.AsyncClient) -> None:
    sku, first, level = await _stocked(api, 3)
    second = await make_warehouse(api)
    await receive(api, sku, second["code"], 4)
    other, _, _ = await _stocked(api, 1)
    everything = (await api.get("/v1/stock-levels")).json()["data"]
    assert len(everything) == 3
    by_sku = (await api.get("/v1/stock-levels", params={"sku": level["sku_id"]})).json()["data"]
    assert [(lv["warehouse"], lv["on_hand"]) for lv in by_sku] == [(first, 3), (second["code"], 4)]
    by_warehouse = (await api.get("/v1/stock-levels", params={"warehouse": second["id"]})).json()["data"]
    assert [lv["sku"] for lv in by_warehouse] == [sku]
    page = (await api.get("/v1/stock-levels", params={"limit": 2})).json()
    rest = (await api.get("/v1/stock-levels", params={"limit": 2, "cursor": page["next_cursor"]})).json()
    assert [lv["id"] for lv in page["data"] + rest["data"]] == [lv["id"] for lv in everything]
    assert rest["data"][0]["sku"] == other


async def test_a_stock_level_has_an_etag_and_unknown_ones_are_not_found(api: httpx.AsyncClient) -> None:
    _, _, level = await _stocked(api, 3)
    found = await api.get(f"/v1/stock-levels/{level['id']}")
    assert found.status_code == 200
    assert found.json() == level
    assert found.headers["etag"] == '"1"'
    missing = await api.get(f"/v1/stock-levels/{uuid7()}")
    assert (missing.status_code, missing.json()["code"]) == (404, "stock_level_not_found")
    malformed = await api.get("/v1/stock-levels/not-an-id")
    assert malformed.status_code == 422


async def test_patching_a_stock_level_sets_replenishment_settings_with_if_match(
    api: httpx.AsyncClient, database_url: str
) -> None:
    sku, warehouse, level = await _stocked(api, 3)
    url = f"/v1/stock-levels/{level['id']}"
    changed = await api.patch(url, json={"reorder_point": 5, "safety_stock": 2}, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["reorder_point"], body["safety_stock"], body["version"]) == (5, 2, 2)
    assert (body["on_hand"], body["sku"], body["warehouse"]) == (3, sku, warehouse)
    assert changed.headers["etag"] == '"2"'
    stale = await api.patch(url, json={"reorder_point": 1}, headers={"If-Match": '"1"'})
    assert (stale.status_code, stale.json()["code"]) == (412, "stale_version")
    cleared = await api.patch(url, json={"reorder_point": None})
    assert (cleared.json()["reorder_point"], cleared.json()["version"]) == (None, 3)
    events = [e for e in await recorded_events(database_url, level["id"]) if e["type"] == "stock_level.updated"]
    assert [e["data"]["reorder_point"] for e in events] == [5, None]


async def test_a_stock_change_makes_the_stock_level_etag_stale(api: httpx.AsyncClient) -> None:
    sku, warehouse, level = await _stocked(api, 3)
    await receive(api, sku, warehouse, 1)
    stale = await api.patch(f"/v1/stock-levels/{level['id']}", json={"safety_stock": 1}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412


async def test_invalid_replenishment_settings_are_refused(api: httpx.AsyncClient) -> None:
    _, _, level = await _stocked(api, 3)
    url = f"/v1/stock-levels/{level['id']}"
    cases = [
        ({"reorder_point": -1}, "/body/reorder_point"),
        ({"safety_stock": -1}, "/body/safety_stock"),
        ({"safety_stock": None}, "/body/safety_stock"),
        ({"on_hand": 100}, "/body/on_hand"),
    ]
    for body, pointer in cases:
        response = await api.patch(url, json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"][0]["pointer"] == pointer
    unknown = await api.patch(f"/v1/stock-levels/{uuid7()}", json={"safety_stock": 1})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "stock_level_not_found")


async def test_stock_changes_record_stock_changed_events(api: httpx.AsyncClient, database_url: str) -> None:
    sku, source, level = await _stocked(api, 10)
    target = (await make_warehouse(api))["code"]
    result = (await _transfer(api, sku, source, target, 4)).json()
    events = await recorded_events(database_url, level["id"])
    assert [e["type"] for e in events] == ["stock.changed", "stock.changed"]
    assert events[-1]["data"] == {
        "sku": sku,
        "sku_id": level["sku_id"],
        "warehouse": source,
        "warehouse_id": level["warehouse_id"],
        "on_hand": 6,
        "reserved": 0,
        "available": 6,
    }
    target_level = result["stock_levels"][1]
    [arrived] = await recorded_events(database_url, target_level["id"])
    assert (arrived["data"]["warehouse"], arrived["data"]["on_hand"]) == (target, 4)


async def test_stock_changes_need_the_stock_write_scope(
    api: httpx.AsyncClient, client: httpx.AsyncClient, make_key: KeyMaker
) -> None:
    sku, warehouse, level = await _stocked(api, 1)
    reader = {"Authorization": f"Bearer {await make_key('stock:read')}"}
    body = {"type": "receipt", "sku": sku, "warehouse": warehouse, "quantity": 1}
    refused = await client.post("/v1/stock-movements", json=body, headers=reader)
    assert (refused.status_code, refused.json()["code"]) == (403, "insufficient_scope")
    patched = await client.patch(f"/v1/stock-levels/{level['id']}", json={"safety_stock": 1}, headers=reader)
    assert patched.status_code == 403
    assert (await client.get("/v1/stock-levels", headers=reader)).status_code == 200
    assert (await client.get(f"/v1/skus/{sku}/availability", headers=reader)).status_code == 200


# --- availability -----------------------------------------------------------------------------------------------


async def test_availability_totals_every_warehouse_holding_stock_and_every_active_one(
    api: httpx.AsyncClient, database_url: str
) -> None:
    sku = await make_sku(api)
    main = await make_warehouse(api, code="WH-MAIN", priority=10)
    also = await make_warehouse(api, code="WH-ALSO", priority=10)
    spare = await make_warehouse(api, code="WH-SPARE", priority=-1)
    closing = await make_warehouse(api, code="WH-CLOSING", priority=50)
    await make_warehouse(api, code="WH-CLOSED", active=False)
    level = (await receive(api, sku["sku"], main["code"], 8))["stock_levels"][0]
    await receive(api, sku["sku"], closing["code"], 2)
    await api.patch(f"/v1/warehouses/{closing['code']}", json={"active": False})
    await _reserve_directly(database_url, level["id"], 3)
    response = await api.get(f"/v1/skus/{sku['sku']}/availability")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["sku"], body["sku_id"]) == (sku["sku"], sku["id"])
    assert (body["on_hand"], body["reserved"], body["available"]) == (10, 3, 7)
    rows = [
        (w["warehouse"], w["warehouse_active"], w["on_hand"], w["reserved"], w["available"]) for w in body["warehouses"]
    ]
    assert rows == [
        ("WH-CLOSING", False, 2, 0, 2),
        ("WH-ALSO", True, 0, 0, 0),
        ("WH-MAIN", True, 8, 3, 5),
        ("WH-SPARE", True, 0, 0, 0),
    ]
    assert body["warehouses"][2]["warehouse_id"] == main["id"]
    assert spare["id"] == body["warehouses"][3]["warehouse_id"]
    assert also["id"] == (await api.get(f"/v1/skus/{sku['id']}/availability")).json()["warehouses"][1]["warehouse_id"]


async def test_availability_of_an_unknown_sku_is_not_found(api: httpx.AsyncClient) -> None:
    response = await api.get("/v1/skus/NOPE/availability")
    assert (response.status_code, response.json()["code"]) == (404, "sku_not_found")


# --- concurrency (PostgreSQL: real row locks between connections) -----------------------------------------------


@pytest.mark.postgres_only
async def test_concurrent_decrements_never_take_more_than_the_stock(api: httpx.AsyncClient, db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent connections")
    sku, warehouse, _ = await _stocked(api, 20)
    responses = await asyncio.gather(*(_adjust(api, sku, warehouse, -1, "loss") for _ in range(50)))
    statuses = [r.status_code for r in responses]
    assert statuses.count(201) == 20
    assert statuses.count(409) == 30
    assert all(r.json()["code"] == "insufficient_stock" for r in responses if r.status_code == 409)
    level = await _level(api, sku, warehouse)
    assert level is not None
    assert (level["on_hand"], level["reserved"]) == (0, 0)
    assert sorted(r.json()["movements"][0]["on_hand_after"] for r in responses if r.status_code == 201) == list(
        range(20)
    )


@pytest.mark.postgres_only
async def test_concurrent_first_receipts_share_one_stock_level(api: httpx.AsyncClient, db_kind: str) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent connections")
    sku, warehouse = await make_sku(api), await make_warehouse(api)
    body = {"type": "receipt", "sku": sku["sku"], "warehouse": warehouse["code"], "quantity": 1}
    responses = await asyncio.gather(*(api.post("/v1/stock-movements", json=body) for _ in range(20)))
    assert [r.status_code for r in responses] == [201] * 20
    assert len({r.json()["stock_levels"][0]["id"] for r in responses}) == 1
    level = await _level(api, sku["sku"], warehouse["code"])
    assert level is not None
    assert level["on_hand"] == 20


@pytest.mark.postgres_only
async def test_opposite_concurrent_transfers_neither_deadlock_nor_lose_stock(
    api: httpx.AsyncClient, db_kind: str
) -> None:
    if db_kind != "postgresql":
        pytest.skip("needs PostgreSQL's concurrent connections")
    sku, east, _ = await _stocked(api, 30)
    west = (await make_warehouse(api))["code"]
    await receive(api, sku, west, 30)
    moves = [_transfer(api, sku, east, west, 1) for _ in range(15)] + [
        _transfer(api, sku, west, east, 1) for _ in range(15)
    ]
    responses = await asyncio.gather(*moves)
    assert [r.status_code for r in responses] == [201] * 30
    east_level, west_level = await _level(api, sku, east), await _level(api, sku, west)
    assert east_level is not None
    assert west_level is not None
    assert (east_level["on_hand"], west_level["on_hand"]) == (30, 30)
