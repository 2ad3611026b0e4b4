"""Re-sourcing orders through the services, without HTTP: part of an order (``reallocate``) and many orders
at once (``allocate_batch``), with the stock ledger replaying after each."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from oms_api.catalog import service as catalog
from oms_api.catalog.schemas import SkuCreate
from oms_api.channels import service as channels
from oms_api.channels.schemas import ChannelCreate, ChannelUpdate
from oms_api.kit.errors import Conflict, ValidationFailed
from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock import warehouses
from oms_api.stock.schemas import ReceiptCreate, WarehouseCreate
from tests.service.conftest import ACTOR, Transaction

BERLIN = {"line1": "Unter den Linden 1", "city": "Berlin", "country": "DE", "latitude": 52.52, "longitude": 13.405}


async def _seed(tx: Transaction, stock_at: dict[str, int]) -> None:
    """Warehouses BER (Berlin) and MUC (Munich), SKU MUG received as ``stock_at`` says, channel ``web``."""
    async with tx() as session:
        for code, lat, lon in (("BER", 52.52, 13.405), ("MUC", 48.137, 11.575)):
            await warehouses.create_warehouse(
                session, ACTOR, WarehouseCreate(code=code, name=code, latitude=lat, longitude=lon)
            )
        await catalog.create_sku(session, ACTOR, SkuCreate(sku="MUG", name="Mug"))
        await channels.create_channel(
            session, ACTOR, ChannelCreate(code="web", name="Web", type="web", default_currency="EUR")
        )
    async with tx() as session:
        for code, quantity in stock_at.items():
            body = ReceiptCreate(type="receipt", sku="MUG", warehouse=code, quantity=quantity)
            await stock.create_movement(session, ACTOR, body)


async def _place(tx: Transaction, settings: Settings, ref: str, quantity: int, tags: list[str] | None = None) -> Order:
    body = OrderCreate.model_validate(
        {
            "channel": "web",
            "external_ref": ref,
            "currency": "EUR",
            "shipping_address": BERLIN,
            "lines": [{"sku": "MUG", "quantity": quantity, "unit_price": {"amount": "5.00", "currency": "EUR"}}],
            "tags": tags or [],
        }
    )
    async with tx() as session:
        return await orders.place_order(session, ACTOR, body, settings)


async def _held(tx: Transaction, order_id: uuid.UUID) -> dict[str, int]:
    """Active units of the order per warehouse code."""
    async with tx() as session:
        view = await orders.get_order(session, order_id)
    held: dict[str, int] = {}
    for line in view.lines:
        for a in line.allocations:
            if a.status == "active":
                held[a.warehouse] = held.get(a.warehouse, 0) + a.quantity
    return held


async def _events(tx: Transaction, order_id: uuid.UUID, type_: str) -> list[dict[str, Any]]:
    async with tx() as session:
        stmt = select(Event.data).where(Event.aggregate_id == order_id, Event.type == type_).order_by(Event.seq)
        return list((await session.execute(stmt)).scalars())


async def _replays(tx: Transaction) -> list[dict[str, Any]]:
    async with tx() as session:
        return await stock.ledger_discrepancies(session)


async def test_reallocating_part_of_an_order_moves_only_those_units(
    tx: Transaction, service_settings: Settings
) -> None:
    await _seed(tx, {"BER": 5, "MUC": 5})
    order = await _place(tx, service_settings, "A-1", 3)
    assert await _held(tx, order.id) == {"BER": 3}

    async with tx() as session:
        plan = await orders.reallocate(
            session,
            ACTOR,
            order.id,
            [orders.Move(line_no=1, warehouse="BER", quantity=2)],
            "short pick",
            service_settings,
        )
    assert plan.complete
    assert await _held(tx, order.id) == {"BER": 1, "MUC": 2}
    async with tx() as session:
        levels = {level.warehouse: level for level in (await stock.list_stock_levels(session, _page())).items}
        explanation = (await orders.get_order(session, order.id)).version
    assert (levels["BER"].reserved, levels["MUC"].reserved) == (1, 2)
    assert explanation == order.version + 1
    changed = await _events(tx, order.id, "order.allocation_changed")
    assert [(e["trigger"], e["released"][0]["quantity"], e["released"][0]["warehouse"]) for e in changed] == [
        ("reallocate", 2, "BER")
    ]
    assert await _replays(tx) == []


async def test_reallocating_more_than_a_warehouse_holds_changes_nothing(
    tx: Transaction, service_settings: Settings
) -> None:
    await _seed(tx, {"BER": 5, "MUC": 5})
    order = await _place(tx, service_settings, "A-2", 3)
    with pytest.raises(ValidationFailed) as refused:
        async with tx() as session:
            await orders.reallocate(
                session, ACTOR, order.id, [orders.Move(line_no=1, warehouse="BER", quantity=4)], "x", service_settings
            )
    assert [e["code"] for e in refused.value.extra["errors"]] == ["not_allocated_there"]
    assert await _held(tx, order.id) == {"BER": 3}
    assert await _replays(tx) == []


async def test_reallocating_with_no_stock_elsewhere_is_out_of_stock_and_changes_nothing(
    tx: Transaction, service_settings: Settings
) -> None:
    await _seed(tx, {"BER": 5})
    order = await _place(tx, service_settings, "A-3", 3)
    with pytest.raises(Conflict) as refused:
        async with tx() as session:
            await orders.reallocate(
                session, ACTOR, order.id, [orders.Move(line_no=1, warehouse="BER", quantity=1)], "x", service_settings
            )
    assert refused.value.code == "out_of_stock"
    assert await _held(tx, order.id) == {"BER": 3}
    assert await _events(tx, order.id, "order.allocation_changed") == []
    assert await _replays(tx) == []


async def test_a_batch_gives_contested_stock_to_vip_orders_first(tx: Transaction, service_settings: Settings) -> None:
    await _seed(tx, {"BER": 3, "MUC": 3})
    early = await _place(tx, service_settings, "B-1", 3)  # takes Berlin, the nearest
    vip = await _place(tx, service_settings, "B-2", 3, tags=["vip"])  # Berlin is gone: Munich
    assert (await _held(tx, early.id), await _held(tx, vip.id)) == ({"BER": 3}, {"MUC": 3})

    async with tx() as session:
        result = await orders.allocate_batch(session, ACTOR, [early.id, vip.id], service_settings, reason="nightly")
    assert set(result.allocated) == {early.id, vip.id}
    assert result.unchanged == {}
    assert (await _held(tx, vip.id), await _held(tx, early.id)) == ({"BER": 3}, {"MUC": 3})
    for order in (early, vip):
        (changed,) = await _events(tx, order.id, "order.allocation_changed")
        assert changed["trigger"] == "allocate"
        assert changed["version"] == order.version + 1
    assert await _replays(tx) == []

    async with tx() as session:  # run again: every order already holds what the batch would give it
        again = await orders.allocate_batch(session, ACTOR, [early.id, vip.id], service_settings)
    assert again.allocated == {}
    assert again.unchanged == {early.id: "same_allocation", vip.id: "same_allocation"}


async def test_a_batch_leaves_orders_it_cannot_source_or_may_not_touch_as_they_are(
    tx: Transaction, service_settings: Settings
) -> None:
    await _seed(tx, {"BER": 4})
    kept = await _place(tx, service_settings, "C-1", 4)
    async with tx() as session:
        await stock.create_movement(
            session, ACTOR, ReceiptCreate(type="receipt", sku="MUG", warehouse="MUC", quantity=1)
        )
    other = await _place(tx, service_settings, "C-3", 1)
    async with tx() as session:
        await orders.cancel_order(session, ACTOR, other.id, "changed mind", None)
    unknown = uuid.UUID(int=42)
    async with tx() as session:
        result = await orders.allocate_batch(session, ACTOR, [kept.id, other.id, unknown], service_settings)
    assert result.unchanged == {
        kept.id: "same_allocation",
        other.id: "order_not_allocatable",
        unknown: "order_not_found",
    }
    assert await _held(tx, kept.id) == {"BER": 4}
    assert await _replays(tx) == []


def _page() -> PageParams:
    return PageParams(limit=50, after=None)


async def test_an_order_a_batch_cannot_source_keeps_what_it_holds_and_so_may_others(
    tx: Transaction, service_settings: Settings
) -> None:
    """The VIP order would take Berlin, leaving the other only Munich, which the channel no longer allows: the
    other keeps Berlin, so the VIP order cannot have it either, and both stay exactly as they were."""
    await _seed(tx, {"BER": 3, "MUC": 3})
    early = await _place(tx, service_settings, "D-1", 3)
    vip = await _place(tx, service_settings, "D-2", 3, tags=["vip"])
    async with tx() as session:
        await channels.update_channel(
            session, ACTOR, "web", ChannelUpdate(sourcing={"allowed_warehouses": ["BER"]}), None
        )
    async with tx() as session:
        result = await orders.allocate_batch(session, ACTOR, [early.id, vip.id], service_settings)
    assert result.allocated == {}
    assert result.unchanged == {early.id: "out_of_stock", vip.id: "out_of_stock"}
    assert (await _held(tx, early.id), await _held(tx, vip.id)) == ({"BER": 3}, {"MUC": 3})
    assert await _events(tx, vip.id, "order.allocation_changed") == []
    assert await _replays(tx) == []
