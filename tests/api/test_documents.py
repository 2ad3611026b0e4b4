"""Documents through HTTP, on SQLite and PostgreSQL: each PDF opens and reads back, the label barcode scans."""

from __future__ import annotations

import io
import re
from typing import Any

import httpx
import pypdf
import pypdfium2
import pytest
import zxingcpp

from tests.support.factories import (
    make_box_type,
    make_channel,
    make_shipments,
    make_sku,
    make_warehouse,
    place_order,
    receive,
)

TRACKING = "1Z999AA10123456784"
CUSTOMER = {
    "name": "Zoë Łukasiewicz",
    "line1": "Straße der Pariser Kommune 12",
    "city": "Berlin",
    "postal_code": "10243",
    "country": "DE",
}


def pdf_text(content: bytes) -> tuple[pypdf.PdfReader, str]:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return reader, "\n".join(page.extract_text() for page in reader.pages)


def scan_barcodes(content: bytes) -> list[tuple[bool, str]]:
    """Render the first page at 300 dpi and read every barcode on it, as a scanner would:
    (is it Code 128, what it says)."""
    page = pypdfium2.PdfDocument(content)[0]
    image = page.render(scale=300 / 72).to_pil()
    return [(r.format == zxingcpp.BarcodeFormat.Code128, r.text) for r in zxingcpp.read_barcodes(image)]


@pytest.fixture
async def shipped(api: httpx.AsyncClient) -> dict[str, Any]:
    """An order packed into one box by scanning, then shipped with a tracking number."""
    channel = await make_channel(api)
    wh = await make_warehouse(
        api,
        name="Berlin Dock",
        address={"line1": "1 Dock Road", "city": "Berlin", "postal_code": "10115", "country": "DE"},
    )
    await make_box_type(api, wh["code"], code="M")
    mug = await make_sku(api, name="Espresso mug", length_mm=100, width_mm=80, height_mm=90, weight_g=300)
    tee = await make_sku(api, name="Logo tee", length_mm=250, width_mm=180, height_mm=20, weight_g=200)
    for sku in (mug, tee):
        await receive(api, sku["sku"], wh["code"], 10)
    order = await place_order(
        api,
        channel["code"],
        [(mug["sku"], 2), (tee["sku"], 1)],
        external_ref="WEB-4711",
        shipping_address=CUSTOMER,
    )
    [shipment] = await make_shipments(api, order["id"])
    [package] = (await api.post(f"/v1/shipments/{shipment['id']}/packages", json={"from_selection": True})).json()[
        "data"
    ]
    for barcode in (mug["barcode"], mug["barcode"], tee["barcode"]):
        assert (await api.post(f"/v1/packages/{package['id']}/scan", json={"barcode": barcode})).status_code == 200
    ship = await api.post(
        f"/v1/shipments/{shipment['id']}/ship",
        json={"carrier": "dhl", "service": "express", "tracking_numbers": [TRACKING]},
    )
    assert ship.status_code == 200, ship.text
    return {"order": order, "shipment": shipment, "package": package, "mug": mug, "tee": tee, "warehouse": wh}


async def test_the_label_is_a_4x6_pdf_with_both_addresses_and_a_scannable_tracking_barcode(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    response = await api.get(f"/v1/packages/{shipped['package']['id']}/label.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    reader, text = pdf_text(response.content)
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (288, 432)  # 4 x 6 in at 72 pt/in
    for expected in ("Berlin Dock", "1 Dock Road", "10115 Berlin", "Zoë Lukasiewicz", "Strasse der Pariser Kommune 12"):
        assert expected in text
    assert "10243 Berlin" in text
    assert "DHL EXPRESS" in text
    assert "Package 1 of 1" in text
    assert TRACKING in text
    assert scan_barcodes(response.content) == [(True, TRACKING)]


async def test_the_label_as_zpl_draws_the_same_label_for_a_thermal_printer(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    response = await api.get(f"/v1/packages/{shipped['package']['id']}/label.zpl")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    zpl = response.text
    assert zpl.startswith("^XA\n^CI28\n^PW812\n^LL1218")
    assert zpl.rstrip().endswith("^XZ")
    assert re.search(rf"\^BCN,\d+,Y,N,N,A\^FH_\^FD{TRACKING}\^FS", zpl)
    assert "Zo_C3_AB _C5_81ukasiewicz" in zpl  # UTF-8 as ^FH hex: no text can inject a command
    assert "Stra_C3_9Fe der Pariser Kommune 12" in zpl
    assert "10243 Berlin" in zpl
    assert "Berlin Dock" in zpl


async def test_a_label_needs_a_tracking_number(api: httpx.AsyncClient) -> None:
    wh = await make_warehouse(api)
    await make_box_type(api, wh["code"])
    sku = await make_sku(api)
    await receive(api, sku["sku"], wh["code"], 1)
    order = await place_order(api, (await make_channel(api))["code"], [(sku["sku"], 1)])
    [shipment] = await make_shipments(api, order["id"])
    [package] = (await api.post(f"/v1/shipments/{shipment['id']}/packages", json={"from_selection": True})).json()[
        "data"
    ]
    for suffix in ("pdf", "zpl"):
        early = await api.get(f"/v1/packages/{package['id']}/label.{suffix}")
        assert early.status_code == 409
        assert early.json()["code"] == "no_tracking_number"
    missing = await api.get("/v1/packages/018f0000-0000-7000-8000-000000000000/label.pdf")
    assert missing.status_code == 404
    assert missing.json()["code"] == "package_not_found"


async def test_the_packing_slip_lists_what_is_in_the_box_with_prices(
    api: httpx.AsyncClient, shipped: dict[str, Any]
) -> None:
    response = await api.get(f"/v1/shipments/{shipped['shipment']['id']}/packing-slip.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    _, text = pdf_text(response.content)
    assert "Packing slip" in text
    assert "Gift" not in text
    assert "Order WEB-4711" in text
    assert shipped["mug"]["sku"] in text
    assert shipped["tee"]["sku"] in text
    assert "Espresso mug" in text
    assert "10.00 EUR" in text  # unit price
    assert "20.00 EUR" in text  # two mugs
    assert "3 item(s) in this shipment" in text


async def test_a_gift_order_s_packing_slip_has_the_message_and_no_prices(api: httpx.AsyncClient) -> None:
    wh = await make_warehouse(api)
    sku = await make_sku(api, name="Teddy bear")
    await receive(api, sku["sku"], wh["code"], 3)
    order = await place_order(
        api,
        (await make_channel(api))["code"],
        [(sku["sku"], 2)],
        tags=["gift"],
        notes="Leave with the neighbour\nGift message: Happy birthday, Ada! Love, Charles",
    )
    [shipment] = await make_shipments(api, order["id"])
    response = await api.get(f"/v1/shipments/{shipment['id']}/packing-slip.pdf")
    assert response.status_code == 200
    _, text = pdf_text(response.content)
    assert "Gift packing slip" in text
    assert "Happy birthday, Ada! Love, Charles" in text
    assert "Leave with the neighbour" not in text
    assert "Teddy bear" in text
    assert "EUR" not in text
    assert not re.search(r"\d+\.\d{2}", text), "no amount may appear on a gift slip"


async def test_the_receipt_shows_every_line_and_the_totals(api: httpx.AsyncClient, shipped: dict[str, Any]) -> None:
    order = shipped["order"]
    response = await api.get(f"/v1/orders/{order['id']}/receipt.pdf")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    _, text = pdf_text(response.content)
    assert "Receipt" in text
    assert "Order WEB-4711" in text
    assert "Logo tee" in text
    for label in ("Subtotal", "Discounts", "Shipping", "Tax", "Total"):
        assert label in text
    assert f"{order['totals']['grand_total']['amount']} EUR" in text
    assert "30.00 EUR" in text
    unknown = await api.get("/v1/orders/018f0000-0000-7000-8000-000000000000/receipt.pdf")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"


async def test_a_pdf_is_served_as_octet_stream_to_a_client_that_prefers_it(api: httpx.AsyncClient) -> None:
    """The spec offers every PDF as application/octet-stream too (what SDK generators read as bytes)."""
    channel = await make_channel(api)
    wh = await make_warehouse(api)
    sku = await make_sku(api)
    await receive(api, sku["sku"], wh["code"], 1)
    order = await place_order(api, channel["code"], [(sku["sku"], 1)])
    for accept, content_type in [
        ("application/octet-stream", "application/octet-stream"),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/pdf"),
        ("*/*", "application/pdf"),
    ]:
        response = await api.get(f"/v1/orders/{order['id']}/receipt.pdf", headers={"Accept": accept})
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == content_type, accept
        assert response.content.startswith(b"%PDF-")
