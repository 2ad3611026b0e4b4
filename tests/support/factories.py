"""Small factory functions that create resources through the API (so tests exercise it too)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx

_seq = itertools.count(1)


def gtin13(n: int) -> str:
    """A valid EAN-13 for a running number."""
    body = f"400638{n:06d}"
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _check(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def make_sku(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "sku": f"SKU-{n:05d}",
        "name": f"Product {n}",
        "barcode": gtin13(n),
        "weight_g": 500,
        "length_mm": 200,
        "width_mm": 150,
        "height_mm": 100,
        **overrides,
    }
    return _check(await api.post("/v1/skus", json=body))


async def make_warehouse(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "code": f"WH-{n:03d}",
        "name": f"Warehouse {n}",
        "address": {"line1": "1 Dock Road", "city": "Berlin", "postal_code": "10115", "country": "DE"},
        "latitude": 52.52,
        "longitude": 13.405,
        "priority": 0,
        **overrides,
    }
    return _check(await api.post("/v1/warehouses", json=body))


async def receive(api: httpx.AsyncClient, sku: str, warehouse: str, quantity: int) -> dict[str, Any]:
    body = {"type": "receipt", "sku": sku, "warehouse": warehouse, "quantity": quantity}
    return _check(await api.post("/v1/stock-movements", json=body))


async def make_channel(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "code": f"web-{n}",
        "name": f"Web shop {n}",
        "type": "web",
        "default_currency": "EUR",
        **overrides,
    }
    return _check(await api.post("/v1/channels", json=body))


async def make_customer(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "email": f"customer{n}@example.com",
        "first_name": "Ada",
        "last_name": f"Lovelace{n}",
        **overrides,
    }
    return _check(await api.post("/v1/customers", json=body))


async def recorded_events(database_url: str, aggregate_id: str) -> list[dict[str, Any]]:
    """The outbox events of one aggregate, oldest first, read straight from the database."""
    import uuid  # local imports keep this file append-only for parallel authors

    from sqlalchemy import select

    from oms_api.kit.db import create_engine, session_factory
    from oms_api.kit.outbox import Event

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            stmt = select(Event).where(Event.aggregate_id == uuid.UUID(aggregate_id)).order_by(Event.seq)
            rows = (await session.execute(stmt)).scalars()
            return [
                {"type": e.type, "aggregate_type": e.aggregate_type, "data": e.data, "actor": e.actor} for e in rows
            ]
    finally:
        await engine.dispose()


async def make_cart(
    api: httpx.AsyncClient, channel: str, lines: list[tuple[str, int]], **overrides: Any
) -> dict[str, Any]:
    """A cart holding ``lines`` ((sku, quantity), priced 1.00 each) in ``channel``."""
    body = {
        "channel": channel,
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": "1.00", "currency": "EUR"}} for sku, qty in lines
        ],
        **overrides,
    }
    return _check(await api.post("/v1/carts", json=body))


async def expire_cart_now(database_url: str, cart_id: str) -> None:
    """Move a cart's expiry (and its holds') into the past, as if its TTL had run out."""
    import uuid  # local imports: append-only file
    from datetime import timedelta

    from sqlalchemy import update

    from oms_api.carts.models import Cart
    from oms_api.kit.clock import utcnow
    from oms_api.kit.db import create_engine, session_factory, session_scope
    from oms_api.stock.models import Reservation

    past = utcnow() - timedelta(minutes=1)
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            await session.execute(update(Cart).where(Cart.id == uuid.UUID(cart_id)).values(expires_at=past))
            await session.execute(
                update(Reservation).where(Reservation.cart_id == uuid.UUID(cart_id)).values(expires_at=past)
            )
    finally:
        await engine.dispose()


async def run_cart_expiry(database_url: str, **kwargs: Any) -> int:
    """Run the cart expiry job once, in its own transaction (as the worker does)."""
    from oms_api.carts.tasks import expire_carts  # local imports: append-only file
    from oms_api.kit.db import create_engine, session_factory, session_scope

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            return await expire_carts(session, **kwargs)
    finally:
        await engine.dispose()


def rate_rows(base: str, per_kg: str = "0.00", heavy_base: str | None = None) -> list[dict[str, Any]]:
    """EUR brackets: up to 2 kg at ``base``; up to 31.5 kg at ``heavy_base`` (default base + 2) + ``per_kg``."""
    from decimal import Decimal  # local import: append-only file

    heavy = heavy_base or str(Decimal(base) + 2)
    return [
        {"max_weight_g": 2000, "base": {"amount": base, "currency": "EUR"}},
        {
            "max_weight_g": 31500,
            "base": {"amount": heavy, "currency": "EUR"},
            "per_kg": {"amount": per_kg, "currency": "EUR"},
        },
    ]


async def make_carrier(api: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    """A table-rate carrier with ``standard`` (cheap, 2 days, cut-off 16:00) and ``express`` (dear, next day,
    cut-off 12:00) to DE and a few EU countries; Europe/Berlin, pickups Monday to Friday."""
    n = next(_seq)
    common = {"timezone": "Europe/Berlin", "pickup_days": ["mon", "tue", "wed", "thu", "fri"]}
    body = {
        "code": f"carrier-{n}",
        "name": f"Carrier {n}",
        "services": [
            {
                "code": "standard",
                "name": "Standard",
                "transit_days": 2,
                "cutoff_time": "16:00",
                **common,
                "zones": [
                    {"code": "de", "countries": ["DE"], "rates": rate_rows("4.90", "0.50")},
                    {
                        "code": "eu",
                        "countries": ["AT", "FR", "NL"],
                        "transit_days": 4,
                        "rates": rate_rows("9.90", "1.00"),
                    },
                ],
            },
            {
                "code": "express",
                "name": "Express",
                "transit_days": 1,
                "cutoff_time": "12:00",
                **common,
                "zones": [{"code": "de", "countries": ["DE"], "rates": rate_rows("12.90", "1.00")}],
            },
        ],
        **overrides,
    }
    return _check(await api.post("/v1/carriers", json=body))


async def place_order(
    api: httpx.AsyncClient, channel: str, lines: list[tuple[str, int]], **extra: Any
) -> dict[str, Any]:
    """A placed (confirmed) order of ``lines`` ((sku, quantity), 10.00 EUR each) shipping to Berlin."""
    n = next(_seq)
    body = {
        "channel": channel,
        "external_ref": extra.pop("external_ref", f"ORD-{n}"),
        "currency": "EUR",
        "shipping_address": extra.pop(
            "shipping_address", {"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}
        ),
        "lines": [
            {"sku": sku, "quantity": qty, "unit_price": {"amount": "10.00", "currency": "EUR"}} for sku, qty in lines
        ],
        **extra,
    }
    return _check(await api.post("/v1/orders", json=body))


# --- picking and packing (append-only section) ------------------------------------------------------------------


async def make_zone(api: httpx.AsyncClient, warehouse: str, code: str, sequence: int = 0) -> dict[str, Any]:
    body = {"code": code, "name": f"Zone {code}", "sequence": sequence}
    return _check(await api.post(f"/v1/warehouses/{warehouse}/zones", json=body))


async def make_bin(
    api: httpx.AsyncClient, warehouse: str, zone: str, code: str, aisle: str, position: int = 0, level: int = 0
) -> dict[str, Any]:
    body = {"warehouse": warehouse, "zone": zone, "code": code, "aisle": aisle, "position": position, "level": level}
    return _check(await api.post("/v1/bin-locations", json=body))


async def assign_bin(api: httpx.AsyncClient, sku: str, warehouse: str, bin_code: str) -> dict[str, Any]:
    response = await api.post("/v1/sku-bins", json={"sku": sku, "warehouse": warehouse, "bin": bin_code})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def make_box_type(api: httpx.AsyncClient, warehouse: str, **overrides: Any) -> dict[str, Any]:
    n = next(_seq)
    body = {
        "warehouse": warehouse,
        "code": f"BOX-{n}",
        "name": f"Box {n}",
        "inner_length_mm": 300,
        "inner_width_mm": 200,
        "inner_height_mm": 150,
        "max_weight_g": 10_000,
        "tare_weight_g": 150,
        "cost": {"amount": "1.00", "currency": "EUR"},
        **overrides,
    }
    return _check(await api.post("/v1/box-types", json=body))


async def make_shipments(api: httpx.AsyncClient, order_id: str) -> list[dict[str, Any]]:
    """The order's shipments (one per warehouse holding its stock); the order becomes allocated."""
    body = _check(await api.post(f"/v1/orders/{order_id}/shipments"))
    shipments: list[dict[str, Any]] = body["data"]
    return shipments
