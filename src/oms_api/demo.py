"""``oms-api demo``: a small, realistic dataset, seeded through the real HTTP API.

The data goes through the same routes and validation as any client's (in-process, over
``httpx.ASGITransport``), authenticated by a temporary admin key that is revoked at the end.
Seeding is idempotent: what exists is read first (one paged list per resource type, customers
by email) and only what is absent is created, so a second run creates nothing. Stock is received
only where a SKU has no stock level yet at a warehouse, with quantities drawn from a fixed seed
(the same dataset every time).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any
from urllib.parse import quote

import httpx

from oms_api.kit.auth import Scope, create_api_key, revoke_api_key
from oms_api.kit.db import session_scope
from oms_api.settings import Settings

STOCK_SEED = 20261125
STOCK_REFERENCE = "demo-seed"
GTIN_PREFIX = "4012345"  # 400-440: GS1 Germany; then a made-up company number

Json = dict[str, Any]
Echo = Callable[[str], None]


class DemoError(Exception):
    """The API refused demo data (or an endpoint is missing): the message says which call."""


def gtin13(item: int) -> str:
    """A valid GTIN-13 (EAN) for an item number: prefix, item, then the mod-10 check digit."""
    body = f"{GTIN_PREFIX}{item:05d}"
    total = sum((3 if i % 2 else 1) * int(digit) for i, digit in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _address(line1: str, postal_code: str, city: str, country: str, lat: float, lon: float, **extra: str) -> Json:
    return {
        "line1": line1,
        "postal_code": postal_code,
        "city": city,
        "country": country,
        "latitude": lat,
        "longitude": lon,
        **extra,
    }


WAREHOUSES: list[Json] = [
    {
        "code": "BER",
        "name": "Berlin fulfilment centre",
        "address": {"line1": "Am Borsigturm 100", "city": "Berlin", "postal_code": "13507", "country": "DE"},
        "latitude": 52.52,
        "longitude": 13.405,
        "priority": 10,
    },
    {
        "code": "MUC",
        "name": "Munich warehouse",
        "address": {"line1": "Lilienthalallee 40", "city": "München", "postal_code": "80939", "country": "DE"},
        "latitude": 48.137,
        "longitude": 11.575,
        "priority": 5,
    },
    {
        "code": "HAM",
        "name": "Hamburg port warehouse",
        "address": {"line1": "Am Sandtorkai 50", "city": "Hamburg", "postal_code": "20457", "country": "DE"},
        "latitude": 53.551,
        "longitude": 9.993,
        "priority": 0,
    },
]

CHANNELS: list[Json] = [
    {"code": "web", "name": "Online shop", "type": "web", "default_currency": "EUR"},
    {"code": "amazon-de", "name": "Amazon.de", "type": "marketplace", "default_currency": "EUR"},
    {"code": "amazon-uk", "name": "Amazon.co.uk", "type": "marketplace", "default_currency": "GBP"},
    {"code": "store-berlin", "name": "Berlin flagship store", "type": "pos", "default_currency": "EUR"},
    {"code": "phone", "name": "Customer service (phone orders)", "type": "phone", "default_currency": "EUR"},
]


def _vat(country: str, category: str, percent: str) -> Json:
    return {
        "country": country,
        "category": category,
        "rate": str(Decimal(percent).scaleb(-2)),
        "name": f"{country} VAT {percent}%",
        "valid_from": "2024-01-01",
    }


TAX_RATES: list[Json] = [
    _vat("DE", "standard", "19"),
    _vat("DE", "reduced", "7"),
    _vat("AT", "standard", "20"),
    _vat("AT", "reduced", "10"),
    _vat("GB", "standard", "20"),  # UK VAT (not EU): the demo has a British customer and an amazon-uk channel
    _vat("GB", "reduced", "5"),
]
"""VAT where the demo's warehouses and customers are (standard and reduced, as they stand since 2024)."""


def _products() -> list[tuple[str, str, int, int, int, int]]:
    """(code, name, weight in g, length/width/height in mm): apparel in variants, then single items."""
    products: list[tuple[str, str, int, int, int, int]] = []
    for colour_code, colour in (("BLK", "black"), ("WHT", "white"), ("NVY", "navy")):
        for size, grams in (("S", 160), ("M", 180), ("L", 200), ("XL", 220)):
            name = f"Organic cotton T-shirt, {colour}, {size}"
            products.append((f"TSHIRT-{colour_code}-{size}", name, grams, 300, 250, 20))
    for colour_code, colour in (("GRY", "grey"), ("BLK", "black")):
        for size, grams in (("M", 620), ("L", 660), ("XL", 700)):
            products.append((f"HOODIE-{colour_code}-{size}", f"Zip hoodie, {colour}, {size}", grams, 350, 300, 60))
    products.extend(
        [
            ("SOCKS-MERINO-39-42", "Merino socks, 3 pairs, size 39-42", 150, 200, 100, 30),
            ("SOCKS-MERINO-43-46", "Merino socks, 3 pairs, size 43-46", 160, 210, 100, 30),
            ("MUG-CER-WHT", "Ceramic mug 350 ml, white", 380, 120, 90, 100),
            ("MUG-CER-BLU", "Ceramic mug 350 ml, blue", 380, 120, 90, 100),
            ("MUG-CER-GRN", "Ceramic mug 350 ml, green", 380, 120, 90, 100),
            ("TUMBLER-500", "Insulated tumbler 500 ml", 320, 230, 90, 90),
            ("FRENCHPRESS-1L", "French press 1 l, glass and steel", 900, 220, 160, 130),
            ("KETTLE-ELEC-17", "Electric kettle 1.7 l", 1200, 250, 220, 170),
            ("GRINDER-BURR", "Burr coffee grinder", 2100, 300, 200, 150),
            ("COFFEE-ESP-1KG", "Espresso beans, 1 kg", 1020, 260, 130, 80),
            ("COFFEE-FLT-250", "Filter coffee, ground, 250 g", 260, 170, 90, 50),
            ("TEA-EARLGREY-100", "Earl Grey tea, 100 g tin", 180, 110, 75, 75),
            ("CANDLE-SOY-CEDAR", "Soy wax candle, cedarwood", 420, 100, 90, 90),
            ("CANDLE-SOY-LAVENDER", "Soy wax candle, lavender", 420, 100, 90, 90),
            ("BLANKET-WOOL-GRY", "Wool throw blanket 130x170 cm, grey", 1200, 400, 300, 100),
            ("BLANKET-WOOL-OCH", "Wool throw blanket 130x170 cm, ochre", 1200, 400, 300, 100),
            ("PILLOW-LINEN-50", "Linen cushion cover 50x50 cm", 210, 300, 250, 20),
            ("LAMP-DESK-LED", "LED desk lamp, dimmable", 1400, 450, 200, 150),
            ("CABLE-USBC-1M", "USB-C cable, 1 m", 40, 150, 100, 20),
            ("CABLE-USBC-2M", "USB-C cable, 2 m", 60, 150, 100, 25),
            ("CHARGER-65W", "USB-C charger 65 W", 150, 90, 70, 40),
            ("POWERBANK-10K", "Power bank 10,000 mAh", 220, 150, 80, 30),
            ("EARBUDS-BT", "Wireless earbuds with charging case", 120, 110, 100, 45),
            ("SPEAKER-BT-MINI", "Mini Bluetooth speaker", 350, 120, 120, 90),
            ("KEYBOARD-MECH-DE", "Mechanical keyboard, German layout", 1100, 470, 170, 50),
            ("MOUSE-WL", "Wireless mouse", 110, 140, 90, 50),
            ("NOTEBOOK-A5-DOT", "Notebook A5, dotted, 192 pages", 320, 215, 150, 20),
            ("NOTEBOOK-A5-LINED", "Notebook A5, lined, 192 pages", 320, 215, 150, 20),
            ("PEN-GEL-BLK-10", "Gel pens, black, pack of 10", 110, 160, 80, 20),
            ("PLANNER-2027", "Weekly planner 2027", 450, 220, 160, 25),
            ("BOTTLE-STEEL-750", "Stainless steel bottle 750 ml", 410, 280, 80, 80),
            ("BACKPACK-20L", "Daypack 20 l, recycled polyester", 700, 450, 300, 150),
            ("UMBRELLA-COMPACT", "Compact umbrella, automatic", 380, 300, 70, 70),
            ("YOGA-MAT-6MM", "Yoga mat, 6 mm, natural rubber", 2300, 620, 150, 150),
        ]
    )
    return products


SKUS: list[Json] = [
    {
        "sku": code,
        "name": name,
        "barcode": gtin13(item),
        "weight_g": grams,
        "length_mm": length,
        "width_mm": width,
        "height_mm": height,
    }
    for item, (code, name, grams, length, width, height) in enumerate(_products(), start=1)
]


def _customer(first: str, last: str, email: str, phone: str, address: Json, *tags: str) -> Json:
    return {
        "email": email,
        "first_name": first,
        "last_name": last,
        "phone": phone,
        "addresses": [{"name": f"{first} {last}", **address}],
        "tags": list(tags),
    }


CUSTOMERS: list[Json] = [
    _customer(
        "Anna", "Schmidt", "anna.schmidt@example.com", "+493012345678",
        _address("Invalidenstraße 116", "10115", "Berlin", "DE", 52.531, 13.384), "vip",
    ),
    _customer(
        "Lukas", "Müller", "lukas.mueller@example.com", "+498912345678",
        _address("Leopoldstraße 50", "80802", "München", "DE", 48.160, 11.585),
    ),
    _customer(
        "Sophie", "Wagner", "sophie.wagner@example.com", "+494012345678",
        _address("Mönckebergstraße 7", "20095", "Hamburg", "DE", 53.550, 10.000), "vip",
    ),
    _customer(
        "Jonas", "Becker", "jonas.becker@example.com", "+4922112345678",
        _address("Hohe Straße 52", "50667", "Köln", "DE", 50.937, 6.957),
    ),
    _customer(
        "Mia", "Hoffmann", "mia.hoffmann@example.com", "+496912345678",
        _address("Zeil 90", "60313", "Frankfurt am Main", "DE", 50.114, 8.682),
    ),
    _customer(
        "Felix", "Schulz", "felix.schulz@example.com", "+4934112345678",
        _address("Grimmaische Straße 2", "04109", "Leipzig", "DE", 51.339, 12.377),
    ),
    _customer(
        "Lea", "Koch", "lea.koch@example.com", "+4971112345678",
        _address("Königstraße 28", "70173", "Stuttgart", "DE", 48.777, 9.178),
    ),
    _customer(
        "Maximilian", "Richter", "einkauf@richter-buero.example.com", "+4935112345678",
        _address("Prager Straße 10", "01069", "Dresden", "DE", 51.046, 13.737, company="Richter Bürobedarf GmbH"),
        "b2b",
    ),
    _customer(
        "Emma", "Weber", "emma.weber@example.com", "+4315551234",
        _address("Mariahilfer Straße 100", "1070", "Wien", "AT", 48.197, 16.344),
    ),
    _customer(
        "Oliver", "Brown", "oliver.brown@example.com", "+442079460123",
        _address("221B Baker Street", "NW1 6XE", "London", "GB", 51.524, -0.158),
    ),
]  # fmt: skip


def stock_plan() -> list[tuple[str, str, int]]:
    """(sku, warehouse, quantity) for every pair; about one pair in five stays empty on purpose.

    Drawn in a fixed order from a fixed seed, so the plan never depends on what already exists.
    """
    rng = random.Random(STOCK_SEED)
    plan = []
    for sku in SKUS:
        for warehouse in WAREHOUSES:
            empty, quantity = rng.random() < 0.2, rng.randint(5, 150)
            plan.append((sku["sku"], warehouse["code"], 0 if empty else quantity))
    return plan


@dataclass
class Step:
    """What one seeding step did."""

    name: str
    created: int = 0
    existing: int = 0
    notes: list[str] = field(default_factory=list)

    def line(self) -> str:
        extra = "".join(f", {note}" for note in self.notes)
        return f"{self.name + ':':<12} {self.created} created, {self.existing} already there{extra}"


@dataclass
class SeedReport:
    steps: list[Step] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(step.created for step in self.steps)


class _Api:
    """Thin helpers over the in-process client: look up, create, and fail with a clear message."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def get(self, path: str) -> Json | None:
        response = await self.client.get(path)
        if response.status_code == 404:
            return None
        self._expect(response, 200)
        body: Json = response.json()
        return body

    async def list_all(self, path: str) -> list[Json]:
        """Every item of a paginated list (following ``next_cursor``)."""
        items: list[Json] = []
        cursor: str | None = None
        while True:
            separator = "&" if "?" in path else "?"
            page = await self.get(f"{path}{separator}limit=200" + (f"&cursor={quote(cursor)}" if cursor else ""))
            if page is None:  # e.g. a filter naming a warehouse that does not exist yet: nothing there
                return items
            items += page["data"]
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    async def create(self, path: str, body: Json) -> bool:
        """POST ``body``; False when it already exists (409, e.g. created meanwhile by someone else)."""
        response = await self.client.post(path, json=body)
        if response.status_code == 409:
            return False
        self._expect(response, 201, 200)
        return True

    @staticmethod
    def _expect(response: httpx.Response, *statuses: int) -> None:
        if response.status_code in statuses:
            return
        request = response.request
        detail = response.text[:500]
        hint = " (is this endpoint implemented?)" if response.status_code in (404, 405) else ""
        raise DemoError(f"{request.method} {request.url.path} answered {response.status_code}{hint}: {detail}")


async def _seed_by_code(api: _Api, name: str, path: str, items: list[Json], key: str) -> Step:
    step = Step(name)
    present = {item[key] for item in await api.list_all(path)}
    for item in items:
        if item[key] in present or not await api.create(path, item):
            step.existing += 1
        else:
            step.created += 1
    return step


async def _seed_customers(api: _Api) -> Step:
    step = Step("customers")
    for customer in CUSTOMERS:
        found = await api.get(f"/v1/customers?email={quote(customer['email'])}")
        if (found and found.get("data")) or not await api.create("/v1/customers", customer):
            step.existing += 1
        else:
            step.created += 1
    return step


async def _seed_stock(api: _Api) -> Step:
    step, units, empty = Step("stock"), 0, 0
    stocked: set[tuple[str, str]] = set()
    for warehouse in WAREHOUSES:  # one paged list per warehouse, not one lookup per SKU
        levels = await api.list_all(f"/v1/stock-levels?warehouse={quote(warehouse['code'])}")
        stocked |= {(level["sku"], warehouse["code"]) for level in levels}
    for sku, warehouse_code, quantity in stock_plan():
        if quantity == 0:
            empty += 1
        elif (sku, warehouse_code) in stocked:
            step.existing += 1
        else:
            body = {"type": "receipt", "sku": sku, "warehouse": warehouse_code, "quantity": quantity}
            await api.create("/v1/stock-movements", {**body, "reference": STOCK_REFERENCE})
            step.created += 1
            units += quantity
    step.notes += [f"{units} units received", f"{empty} SKU/warehouse pairs left empty on purpose"]
    return step


SEEDING_STEPS: list[Callable[[_Api], Awaitable[Step]]] = [
    partial(_seed_by_code, name="warehouses", path="/v1/warehouses", items=WAREHOUSES, key="code"),
    partial(_seed_by_code, name="skus", path="/v1/skus", items=SKUS, key="sku"),
    partial(_seed_by_code, name="channels", path="/v1/channels", items=CHANNELS, key="code"),
    partial(_seed_by_code, name="tax rates", path="/v1/tax-rates", items=TAX_RATES, key="name"),
    _seed_customers,
    _seed_stock,
]


async def seed(settings: Settings, echo: Echo = print) -> SeedReport:
    """Seed the demo dataset into ``settings.database_url``; prints one line per step."""
    from oms_api.app import create_app

    # Quiet: the access log would drown the progress lines.
    app = create_app(settings.model_copy(update={"log_level": "warning"}))
    sessions = app.state.db.sessions
    report = SeedReport()
    key_id: uuid.UUID | None = None
    try:
        async with session_scope(sessions) as session:
            key, secret = await create_api_key(session, "demo seed (temporary)", [Scope.ADMIN.value])
            key_id = key.id
        echo(f"Seeding demo data through the API (temporary admin key {key.prefix}…, revoked at the end)")
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {secret}"}
        async with httpx.AsyncClient(transport=transport, base_url="http://oms-demo", headers=headers) as client:
            api = _Api(client)
            for seeding in SEEDING_STEPS:
                step = await seeding(api)
                report.steps.append(step)
                echo(step.line())
    finally:
        if key_id is not None:
            async with session_scope(sessions) as session:
                await revoke_api_key(session, key_id)
        await app.state.db.engine.dispose()
    if report.created:
        echo(f"Done: {report.created} records created.")
    else:
        echo("Done: nothing new to create, the demo data was already there.")
    return report
