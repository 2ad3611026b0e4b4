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


async def ledger_discrepancies(database_url: str) -> list[dict[str, Any]]:
    """Stock levels the movement ledger does not replay to (empty when stock and ledger agree)."""
    from oms_api.kit.db import create_engine, session_factory  # local imports: append-only file
    from oms_api.stock.service import ledger_discrepancies as check

    engine = create_engine(database_url)
    try:
        async with session_factory(engine)() as session:
            return await check(session)
    finally:
        await engine.dispose()
