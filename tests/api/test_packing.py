"""Packing through HTTP, on SQLite and PostgreSQL: standard boxes, box selection and pack verification."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from oms_api.kit.event_types import catalogue
from tests.support.factories import (
    make_box_type,
    make_channel,
    make_shipments,
    make_sku,
    make_warehouse,
    place_order,
    receive,
    recorded_events,
)


@pytest.fixture
async def bench(api: httpx.AsyncClient) -> dict[str, Any]:
    """A warehouse with three standard boxes and stock of a mug, a book and a (too long) ski."""
    channel = await make_channel(api)
    wh = await make_warehouse(api)
    code = wh["code"]
    boxes = {
        "small": await make_box_type(
            api, code, code="S", inner_length_mm=200, inner_width_mm=150, inner_height_mm=100,
            max_weight_g=3_000, cost={"amount": "0.80", "currency": "EUR"},
        ),
        "medium": await make_box_type(
            api, code, code="M", inner_length_mm=300, inner_width_mm=250, inner_height_mm=200,
            max_weight_g=8_000, cost={"amount": "1.40", "currency": "EUR"},
        ),
        "large": await make_box_type(
            api, code, code="L", inner_length_mm=500, inner_width_mm=400, inner_height_mm=300,
            max_weight_g=20_000, cost={"amount": "2.90", "currency": "EUR"},
        ),
    }  # fmt: skip
    skus = {
        "mug": await make_sku(api, length_mm=120, width_mm=90, height_mm=100, weight_g=350),
        "book": await make_sku(api, length_mm=240, width_mm=170, height_mm=40, weight_g=600),
        "ski": await make_sku(api, length_mm=1700, width_mm=100, height_mm=40, weight_g=2_000),
    }
    for sku in skus.values():
        await receive(api, sku["sku"], code, 40)
    return {"channel": channel["code"], "warehouse": code, "boxes": boxes, "skus": skus}


async def shipment_of(
    api: httpx.AsyncClient, bench: dict[str, Any], *lines: tuple[str, int], **extra: Any
) -> dict[str, Any]:
    order = await place_order(api, bench["channel"], [(bench["skus"][n]["sku"], q) for n, q in lines], **extra)
    [shipment] = await make_shipments(api, order["id"])
    return shipment


async def scan(api: httpx.AsyncClient, package_id: str, barcode: str, quantity: int = 1) -> httpx.Response:
    return await api.post(f"/v1/packages/{package_id}/scan", json={"barcode": barcode, "quantity": quantity})


async def test_box_types_are_at_most_five_per_warehouse_in_one_currency(
    api: httpx.AsyncClient, bench: dict[str, Any]
) -> None:
    code = bench["warehouse"]
    await make_box_type(api, code, code="XL")
    await make_box_type(api, code, code="FLAT", inner_height_mm=40)
    sixth = await api.post(
        "/v1/box-types",
        json={
            "warehouse": code, "code": "XXL", "name": "Too many", "inner_length_mm": 900, "inner_width_mm": 600,
            "inner_height_mm": 600, "max_weight_g": 30_000, "cost": {"amount": "5.00", "currency": "EUR"},
        },
    )  # fmt: skip
    assert sixth.status_code == 409
    assert sixth.json()["code"] == "too_many_box_types"
    small = bench["boxes"]["small"]
    retired = await api.patch(f"/v1/box-types/{small['id']}", json={"active": False}, headers={"If-Match": '"1"'})
    assert retired.status_code == 200
    assert retired.json()["active"] is False
    other = await make_warehouse(api)
    await make_box_type(api, other["code"], code="S", cost={"amount": "100", "currency": "JPY"})
    mixed = await api.post(
        "/v1/box-types",
        json={
            "warehouse": other["code"], "code": "M", "name": "M", "inner_length_mm": 10, "inner_width_mm": 10,
            "inner_height_mm": 10, "max_weight_g": 10, "cost": {"amount": "1.00", "currency": "EUR"},
        },
    )  # fmt: skip
    assert mixed.status_code == 409
    assert mixed.json()["code"] == "box_currency_mismatch"
    listed = (await api.get("/v1/box-types", params={"warehouse": code, "active": True})).json()["data"]
    assert [b["code"] for b in listed] == ["M", "L", "XL", "FLAT"]
    assert listed[0]["cost"] == {"amount": "1.40", "currency": "EUR"}
    fetched = await api.get(f"/v1/box-types/{small['id']}")
    assert fetched.headers["etag"] == '"2"'


async def test_box_selection_chooses_the_cheapest_boxes_and_reports_what_fits_none(
    api: httpx.AsyncClient, bench: dict[str, Any]
) -> None:
    one_mug = await shipment_of(api, bench, ("mug", 1))
    selection = (await api.post(f"/v1/shipments/{one_mug['id']}/box-selection")).json()
    assert [b["box_type"] for b in selection["boxes"]] == ["S"]
    assert selection["total_cost"] == {"amount": "0.80", "currency": "EUR"}
    assert selection["boxes"][0]["gross_weight_g"] == 350 + 150

    mixed = await shipment_of(api, bench, ("mug", 4), ("book", 3), ("ski", 1))
    response = await api.post(f"/v1/shipments/{mixed['id']}/box-selection")
    assert response.status_code == 200, response.text
    selection = response.json()
    assert selection["unfitted"] == [
        {
            "shipment_line_id": selection["unfitted"][0]["shipment_line_id"],
            "sku": bench["skus"]["ski"]["sku"],
            "quantity": 1,
            "reason": "too_large",
        }
    ]
    units = sum(c["quantity"] for b in selection["boxes"] for c in b["contents"])
    assert units == 7
    boxes = {b["code"]: b for b in bench["boxes"].values()}
    for chosen in selection["boxes"]:
        box = boxes[chosen["box_type"]]
        for unit in chosen["units"]:
            assert unit["position"]["x"] + unit["size"]["length"] <= box["inner_length_mm"]
            assert unit["position"]["y"] + unit["size"]["width"] <= box["inner_width_mm"]
            assert unit["position"]["z"] + unit["size"]["height"] <= box["inner_height_mm"]
        assert chosen["content_weight_g"] <= box["max_weight_g"]
    # 4 mugs + 3 books fill about 10.6 l: one medium box (15 l) at 1.40 beats anything else
    assert selection["total_cost"] == {"amount": "1.40", "currency": "EUR"}


async def test_packing_from_the_selection_seals_each_box_and_packs_the_shipment(
    api: httpx.AsyncClient, bench: dict[str, Any], database_url: str
) -> None:
    shipment = await shipment_of(api, bench, ("mug", 2), ("book", 1))
    created = await api.post(f"/v1/shipments/{shipment['id']}/packages", json={"from_selection": True})
    assert created.status_code == 201, created.text
    [package] = created.json()["data"]
    assert {p["quantity"] for p in package["planned"]} == {1, 2}
    assert package["items"] == []
    assert package["sealed_at"] is None
    mug, book = bench["skus"]["mug"]["barcode"], bench["skus"]["book"]["barcode"]
    first = (await scan(api, package["id"], mug)).json()
    assert first["sealed"] is False
    assert first["shipment_packed"] is False
    assert (await scan(api, package["id"], book)).status_code == 200
    last = await scan(api, package["id"], mug)
    assert last.status_code == 200, last.text
    result = last.json()
    assert result["sealed"] is True
    assert result["shipment_packed"] is True
    assert result["shipment_status"] == "packed"
    assert result["package"]["weight_g"] == 150 + 2 * 350 + 600
    view = (await api.get(f"/v1/shipments/{shipment['id']}")).json()
    assert view["status"] == "packed"
    assert sorted(line["packed_quantity"] for line in view["lines"]) == [1, 2]
    types = [e["type"] for e in await recorded_events(database_url, shipment["id"])]
    assert types[-2:] == ["shipment.picking", "shipment.packed"]
    package_events = await recorded_events(database_url, package["id"])
    assert [e["type"] for e in package_events] == ["package.created", *["package.item_scanned"] * 3, "package.sealed"]
    for event in package_events + await recorded_events(database_url, bench["boxes"]["small"]["id"]):
        catalogue()[event["type"]].schema.model_validate(event["data"])
    sealed = await scan(api, package["id"], mug)
    assert sealed.status_code == 409
    assert sealed.json()["code"] in {"package_sealed", "shipment_not_packable"}


async def test_wrong_extra_and_misplaced_items_are_refused_and_record_nothing(
    api: httpx.AsyncClient, bench: dict[str, Any]
) -> None:
    shipment = await shipment_of(api, bench, ("mug", 1), ("book", 1))
    created = await api.post(f"/v1/shipments/{shipment['id']}/packages", json={"box_types": ["S", "L"]})
    assert created.status_code == 201, created.text
    small, large = created.json()["data"]
    assert small["planned"] == []
    assert small["weight_g"] == 150
    mug, book = bench["skus"]["mug"]["barcode"], bench["skus"]["book"]["barcode"]
    stranger = await make_sku(api)
    wrong = await scan(api, small["id"], stranger["barcode"])
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "wrong_item"
    assert (await scan(api, small["id"], "not-a-barcode")).json()["code"] == "wrong_item"
    too_many = await scan(api, small["id"], mug, quantity=2)
    assert too_many.status_code == 422
    assert too_many.json()["code"] == "extra_item"
    assert (await scan(api, small["id"], mug)).status_code == 200
    extra = await scan(api, large["id"], mug)
    assert extra.status_code == 422
    assert extra.json()["code"] == "extra_item"
    assert (await api.get(f"/v1/packages/{small['id']}")).json()["items"][0]["quantity"] == 1
    assert (await api.get(f"/v1/packages/{large['id']}")).json()["items"] == []
    empty = await api.post(f"/v1/packages/{large['id']}/seal")
    assert empty.status_code == 409
    assert empty.json()["code"] == "package_empty"
    sealed = await api.post(f"/v1/packages/{small['id']}/seal")
    assert sealed.status_code == 200
    assert sealed.json()["sealed_at"] is not None
    assert (await scan(api, small["id"], book)).json()["code"] == "package_sealed"
    done = (await scan(api, large["id"], book)).json()
    assert done["shipment_packed"] is True
    assert done["sealed"] is True
    listed = (await api.get(f"/v1/shipments/{shipment['id']}/packages")).json()["data"]
    assert [p["box_type"] for p in listed] == ["S", "L"]


async def test_a_unit_planned_for_one_box_cannot_go_into_another(api: httpx.AsyncClient, bench: dict[str, Any]) -> None:
    heavy = await make_sku(api, length_mm=100, width_mm=100, height_mm=100, weight_g=4_500)
    await receive(api, heavy["sku"], bench["warehouse"], 5)
    order = await place_order(api, bench["channel"], [(heavy["sku"], 2), (bench["skus"]["mug"]["sku"], 1)])
    [shipment] = await make_shipments(api, order["id"])
    packages = (await api.post(f"/v1/shipments/{shipment['id']}/packages", json={"from_selection": True})).json()[
        "data"
    ]
    # 9.35 kg: too heavy for one medium (8 kg); two mediums (2.80) beat one large (2.90)
    assert [p["box_type"] for p in packages] == ["M", "M"]
    with_mug = next(p for p in packages if any(c["sku"] == bench["skus"]["mug"]["sku"] for c in p["planned"]))
    other = next(p for p in packages if p["id"] != with_mug["id"])
    misplaced = await scan(api, other["id"], bench["skus"]["mug"]["barcode"])
    assert misplaced.status_code == 422
    assert misplaced.json()["code"] == "wrong_package"
    again = await api.post(f"/v1/shipments/{shipment['id']}/box-selection")
    assert again.json()["boxes"] == []  # every unit is planned into an open package already


async def test_box_selection_needs_box_types_and_a_packable_shipment(
    api: httpx.AsyncClient, bench: dict[str, Any]
) -> None:
    bare = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], bare["code"], 1)
    order = await place_order(api, bench["channel"], [(sku["sku"], 1)])
    [shipment] = await make_shipments(api, order["id"])
    none = await api.post(f"/v1/shipments/{shipment['id']}/box-selection")
    assert none.status_code == 409
    assert none.json()["code"] == "no_box_types"
    unknown = await api.post("/v1/shipments/018f0000-0000-7000-8000-000000000000/box-selection")
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "shipment_not_found"
    cancelled = await shipment_of(api, bench, ("mug", 1))
    assert (await api.post(f"/v1/shipments/{cancelled['id']}/cancel", json={"reason": "test"})).status_code == 200
    refused = await api.post(f"/v1/shipments/{cancelled['id']}/packages", json={"from_selection": True})
    assert refused.status_code == 409
    both = await api.post(
        f"/v1/shipments/{cancelled['id']}/packages", json={"from_selection": True, "box_types": ["S"]}
    )
    assert both.status_code == 422
