"""Picking through HTTP, on SQLite and PostgreSQL: layout, the four methods, scans and short picks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from oms_api.kit.event_types import catalogue
from tests.support.factories import (
    assign_bin,
    make_bin,
    make_channel,
    make_shipments,
    make_sku,
    make_warehouse,
    place_order,
    receive,
    recorded_events,
)


@pytest.fixture
async def floor(api: httpx.AsyncClient) -> dict[str, Any]:
    """A warehouse with zones A (walked first) and B, four bins, three SKUs in bins and one without."""
    channel = await make_channel(api)
    wh = await make_warehouse(api, priority=10)
    code = wh["code"]
    zone_b = await _zone(api, code, "B", 2)
    zone_a = await _zone(api, code, "A", 1)
    await make_bin(api, code, "A", "A-1-05", "1", 5)
    await make_bin(api, code, "A", "A-2-03", "2", 3)
    await make_bin(api, code, "B", "B-1-01", "1", 1)
    skus = {name: await make_sku(api) for name in ("mug", "tee", "cap", "pen")}
    await assign_bin(api, skus["mug"]["sku"], code, "A-2-03")
    await assign_bin(api, skus["tee"]["sku"], code, "A-1-05")
    await assign_bin(api, skus["cap"]["sku"], code, "B-1-01")
    for sku in skus.values():
        await receive(api, sku["sku"], code, 50)
    return {"channel": channel["code"], "warehouse": code, "skus": skus, "zone_a": zone_a, "zone_b": zone_b}


def assert_as_declared(events: list[dict[str, Any]]) -> None:
    """Every event matches the data schema its type declares in the catalogue partners subscribe from."""
    for event in events:
        catalogue()[event["type"]].schema.model_validate(event["data"])


async def _zone(api: httpx.AsyncClient, warehouse: str, code: str, sequence: int) -> dict[str, Any]:
    response = await api.post(
        f"/v1/warehouses/{warehouse}/zones", json={"code": code, "name": f"Zone {code}", "sequence": sequence}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def order_with_shipment(api: httpx.AsyncClient, floor: dict[str, Any], *lines: tuple[str, int]) -> dict[str, Any]:
    order = await place_order(api, floor["channel"], [(floor["skus"][name]["sku"], qty) for name, qty in lines])
    [shipment] = await make_shipments(api, order["id"])
    return shipment


async def generate(api: httpx.AsyncClient, floor: dict[str, Any], method: str, **extra: Any) -> dict[str, Any]:
    response = await api.post("/v1/pick-lists", json={"warehouse": floor["warehouse"], "method": method, **extra})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def confirm(
    api: httpx.AsyncClient, pick_list: dict[str, Any], line: dict[str, Any], **body: Any
) -> httpx.Response:
    payload = {"barcode": line["barcode"], "quantity": line["quantity"], **body}
    return await api.post(f"/v1/pick-lists/{pick_list['id']}/lines/{line['id']}/confirm", json=payload)


async def test_zones_bins_and_sku_bins_are_managed_per_warehouse(api: httpx.AsyncClient, floor: dict[str, Any]) -> None:
    code = floor["warehouse"]
    duplicate = await api.post(f"/v1/warehouses/{code}/zones", json={"code": "A", "name": "Again"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "duplicate_zone"
    zones = (await api.get(f"/v1/warehouses/{code}/zones")).json()["data"]
    assert [z["code"] for z in zones] == ["B", "A"]
    got = await api.get(f"/v1/warehouses/{code}/zones/A")
    assert got.json()["sequence"] == 1
    stale = await api.patch(f"/v1/warehouses/{code}/zones/A", json={"sequence": 9}, headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    moved = await api.patch(
        f"/v1/warehouses/{code}/zones/A", json={"sequence": 3}, headers={"If-Match": got.headers["etag"]}
    )
    assert moved.status_code == 200
    assert moved.json()["version"] == 2

    bins = (await api.get("/v1/bin-locations", params={"warehouse": code})).json()["data"]
    assert {b["code"]: b["zone"] for b in bins} == {"A-1-05": "A", "A-2-03": "A", "B-1-01": "B"}
    again = await api.post("/v1/bin-locations", json={"warehouse": code, "zone": "A", "code": "A-1-05", "aisle": "1"})
    assert again.json()["code"] == "duplicate_bin"
    unknown_zone = await api.post(
        "/v1/bin-locations", json={"warehouse": code, "zone": "Z", "code": "Z1", "aisle": "1"}
    )
    assert unknown_zone.status_code == 404
    assert unknown_zone.json()["code"] == "zone_not_found"

    mug = floor["skus"]["mug"]["sku"]
    moved_bin = await api.post("/v1/sku-bins", json={"sku": mug, "warehouse": code, "bin": "B-1-01"})
    assert moved_bin.status_code == 200  # the SKU had a bin: it moved
    assert moved_bin.json()["zone"] == "B"
    listed = (await api.get("/v1/sku-bins", params={"warehouse": code, "sku": mug})).json()["data"]
    assert [(row["bin"], row["zone"]) for row in listed] == [("B-1-01", "B")]
    assert (await api.delete(f"/v1/sku-bins/{listed[0]['id']}")).status_code == 204
    assert (await api.get("/v1/sku-bins", params={"sku": mug})).json()["data"] == []
    assert (await api.get("/v1/sku-bins", params={"warehouse": "NO-SUCH"})).json()["data"] == []


async def test_a_single_pick_list_walks_the_bins_of_one_shipment(
    api: httpx.AsyncClient, floor: dict[str, Any], database_url: str
) -> None:
    shipment = await order_with_shipment(api, floor, ("cap", 1), ("mug", 2), ("pen", 1), ("tee", 3))
    await order_with_shipment(api, floor, ("mug", 1))
    created = await generate(api, floor, "single")
    [pick_list] = created["data"]
    assert pick_list["method"] == "single"
    assert pick_list["status"] == "open"
    assert [o["shipment_id"] for o in pick_list["orders"]] == [shipment["id"]]
    # zone A (sequence 1): aisle 1 then aisle 2; zone B; the SKU without a bin last
    assert [(line["bin"], line["quantity"]) for line in pick_list["lines"]] == [
        ("A-1-05", 3),
        ("A-2-03", 2),
        ("B-1-01", 1),
        (None, 1),
    ]
    assert [line["sequence"] for line in pick_list["lines"]] == [1, 2, 3, 4]
    assert (await api.get(f"/v1/shipments/{shipment['id']}")).json()["status"] == "picking"
    fetched = await api.get(f"/v1/pick-lists/{pick_list['id']}")
    assert fetched.json() == pick_list
    assert [e["type"] for e in await recorded_events(database_url, pick_list["id"])] == ["pick_list.created"]


async def test_batch_picking_takes_up_to_max_orders_with_one_tote_each(
    api: httpx.AsyncClient, floor: dict[str, Any]
) -> None:
    shipments = [await order_with_shipment(api, floor, ("mug", 1), ("tee", 1)) for _ in range(3)]
    [first] = (await generate(api, floor, "batch", max_orders=2))["data"]
    assert [o["shipment_id"] for o in first["orders"]] == [s["id"] for s in shipments[:2]]
    assert [o["tote"] for o in first["orders"]] == [1, 2]
    assert [line["bin"] for line in first["lines"]] == ["A-1-05", "A-1-05", "A-2-03", "A-2-03"]
    [second] = (await generate(api, floor, "batch", max_orders=2))["data"]
    assert [o["shipment_id"] for o in second["orders"]] == [shipments[2]["id"]]
    nothing = await api.post("/v1/pick-lists", json={"warehouse": floor["warehouse"], "method": "batch"})
    assert nothing.status_code == 409
    assert nothing.json()["code"] == "nothing_to_pick"
    listed = (await api.get("/v1/pick-lists", params={"warehouse": floor["warehouse"], "method": "batch"})).json()
    assert [p["id"] for p in listed["data"]] == [first["id"], second["id"]]


async def test_zone_picking_completes_an_order_only_when_every_zone_has_picked_it(
    api: httpx.AsyncClient, floor: dict[str, Any], database_url: str
) -> None:
    shipment = await order_with_shipment(api, floor, ("mug", 1), ("cap", 2))
    created = await generate(api, floor, "zone")
    zone_a, zone_b = created["data"]
    assert (zone_a["zone"], zone_b["zone"]) == ("A", "B")
    assert zone_a["group_id"] == zone_b["group_id"] == created["group_id"]
    confirmed = await confirm(api, zone_a, zone_a["lines"][0])
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "completed"
    assert confirmed.json()["orders"][0] == {
        "tote": 1,
        "shipment_id": shipment["id"],
        "order_id": shipment["order_id"],
        "lines": 2,
        "confirmed": 1,
        "complete": False,
    }
    assert "shipment.picked" not in [e["type"] for e in await recorded_events(database_url, shipment["id"])]
    done = (await confirm(api, zone_b, zone_b["lines"][0])).json()
    assert done["orders"][0]["complete"] is True
    events = await recorded_events(database_url, shipment["id"])
    picked = [e for e in events if e["type"] == "shipment.picked"]
    assert picked[0]["data"]["picked_units"] == 3
    assert picked[0]["data"]["short_units"] == 0
    lines = (await api.get(f"/v1/shipments/{shipment['id']}")).json()["lines"]
    assert sorted(line["picked_quantity"] for line in lines) == [1, 2]


async def test_a_wave_picks_a_time_window_into_one_consolidation_point(
    api: httpx.AsyncClient, floor: dict[str, Any]
) -> None:
    shipments = [await order_with_shipment(api, floor, ("tee", 1), ("cap", 1)) for _ in range(2)]
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    empty = await api.post(
        "/v1/pick-lists",
        json={"warehouse": floor["warehouse"], "method": "wave", "window": {"start": later}},
    )
    assert empty.status_code == 409
    start = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    created = await generate(api, floor, "wave", window={"start": start}, consolidation_point="DOCK-3")
    assert [p["zone"] for p in created["data"]] == ["A", "B"]
    for pick_list in created["data"]:
        assert pick_list["consolidation_point"] == "DOCK-3"
        assert pick_list["window_start"] is not None
        assert pick_list["window_end"] is not None
        assert [o["shipment_id"] for o in pick_list["orders"]] == [s["id"] for s in shipments]
    wrong_method = await api.post(
        "/v1/pick-lists", json={"warehouse": floor["warehouse"], "method": "batch", "consolidation_point": "X"}
    )
    assert wrong_method.status_code == 422


async def test_a_wrong_barcode_is_refused_and_records_nothing(api: httpx.AsyncClient, floor: dict[str, Any]) -> None:
    shipment = await order_with_shipment(api, floor, ("mug", 2))
    [pick_list] = (await generate(api, floor, "single"))["data"]
    line = pick_list["lines"][0]
    wrong = await confirm(api, pick_list, line, barcode=floor["skus"]["tee"]["barcode"])
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "wrong_barcode"
    assert (await api.get(f"/v1/pick-lists/{pick_list['id']}")).json() == pick_list
    assert (await api.get(f"/v1/shipments/{shipment['id']}")).json()["lines"][0]["picked_quantity"] == 0
    over = await confirm(api, pick_list, line, quantity=3)
    assert over.status_code == 422
    assert over.json()["code"] == "over_pick"
    ok = await confirm(api, pick_list, line, barcode="0" + line["barcode"])  # the same GTIN, as GTIN-14
    assert ok.status_code == 200
    again = await confirm(api, pick_list, line)
    assert again.status_code == 409
    assert again.json()["code"] == "pick_line_already_confirmed"


async def test_a_short_pick_moves_the_missing_units_to_another_warehouse(
    api: httpx.AsyncClient, floor: dict[str, Any], database_url: str
) -> None:
    other = await make_warehouse(api, priority=1)
    mug = floor["skus"]["mug"]
    await receive(api, mug["sku"], other["code"], 10)
    shipment = await order_with_shipment(api, floor, ("mug", 3))
    [pick_list] = (await generate(api, floor, "single"))["data"]
    response = await confirm(api, pick_list, pick_list["lines"][0], quantity=1)
    assert response.status_code == 200, response.text
    line = response.json()["lines"][0]
    assert (line["status"], line["picked_quantity"], line["short_quantity"]) == ("short", 1, 2)
    shipment_line = (await api.get(f"/v1/shipments/{shipment['id']}")).json()["lines"][0]
    assert (shipment_line["picked_quantity"], shipment_line["short_quantity"]) == (1, 2)
    events = await recorded_events(database_url, shipment["id"])
    assert_as_declared(events + await recorded_events(database_url, pick_list["id"]))
    [short] = [e for e in events if e["type"] == "shipment.short_picked"]
    assert short["data"]["reallocated"] is True
    assert short["data"]["short_quantity"] == 2
    [new_id] = short["data"]["new_shipment_ids"]
    moved = (await api.get(f"/v1/shipments/{new_id}")).json()
    assert moved["warehouse"] == other["code"]
    assert [line["quantity"] for line in moved["lines"]] == [2]
    stock = (await api.get(f"/v1/skus/{mug['sku']}/availability")).json()["warehouses"]
    reserved = {w["warehouse"]: w["reserved"] for w in stock}
    assert reserved[floor["warehouse"]] == 1
    assert reserved[other["code"]] == 2


async def test_a_short_pick_with_no_stock_elsewhere_is_kept_for_a_person(
    api: httpx.AsyncClient, floor: dict[str, Any], database_url: str
) -> None:
    shipment = await order_with_shipment(api, floor, ("tee", 2))
    [pick_list] = (await generate(api, floor, "single"))["data"]
    response = await confirm(api, pick_list, pick_list["lines"][0], quantity=0)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    [short] = [e for e in await recorded_events(database_url, shipment["id"]) if e["type"] == "shipment.short_picked"]
    assert short["data"]["reallocated"] is False
    assert short["data"]["not_reallocated_because"] == "out_of_stock"
    assert (await api.get(f"/v1/shipments/{shipment['id']}")).json()["lines"][0]["short_quantity"] == 2
    types = [e["type"] for e in await recorded_events(database_url, shipment["order_id"])]
    assert "order.allocation_changed" not in types[-1:]  # the failed attempt left no trace


async def test_generating_for_an_unknown_warehouse_or_shipment_is_a_404(
    api: httpx.AsyncClient, floor: dict[str, Any]
) -> None:
    unknown = await api.post("/v1/pick-lists", json={"warehouse": "NOPE", "method": "single"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "warehouse_not_found"
    missing = await api.post(
        "/v1/pick-lists",
        json={"warehouse": floor["warehouse"], "method": "single", "shipment": "018f0000-0000-7000-8000-000000000000"},
    )
    assert missing.status_code == 404
    assert missing.json()["code"] == "shipment_not_found"
    assert (await api.get("/v1/pick-lists/018f0000-0000-7000-8000-000000000000")).status_code == 404
