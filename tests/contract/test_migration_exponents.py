"""Revision a1b2c3d40007's data step: amounts are stored as integer minor units, and where ISO 4217 gives a currency
another exponent than CLDR did (HUF 0 -> 2, IQD 0 -> 3…), every stored amount of that currency is rescaled so that
it keeps its value; downgrading scales it back, and refuses (changing nothing) what the old exponent cannot hold.

Rows are written as the previous revision's schema has them (reflected, every required column filled, parents made
for the foreign keys), on SQLite and PostgreSQL; Alembic is driven directly, no event loop running meanwhile.
"""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy.engine import Connection

from oms_api.kit.db import create_engine
from oms_api.kit.migrations import alembic_config, migrations_dir
from tests.conftest import DATABASES, blocking, pg_admin, pg_url

BEFORE = "a1b2c3d40006"
REVISION = "a1b2c3d40007"
NOW = datetime(2026, 12, 1, tzinfo=UTC)
_spec = importlib.util.spec_from_file_location(
    "fx_rates_revision", migrations_dir() / "versions" / "20261203_a1b2c3d40007_fx_rates.py"
)
assert _spec is not None
assert _spec.loader is not None
revision = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(revision)

AMOUNT_COLUMNS = {
    "orders": (
        "subtotal_minor",
        "discount_total_minor",
        "shipping_total_minor",
        "tax_total_minor",
        "grand_total_minor",
        "shipping_tax_minor",
    ),
    "order_lines": ("unit_price_minor", "discount_minor", "tax_minor", "total_minor"),
    "cart_lines": ("unit_price_minor",),
    "carrier_rates": ("base_minor", "per_kg_minor"),
    "shipments": ("shipping_price_minor",),
    "box_types": ("cost_minor",),
}


@pytest.fixture(params=DATABASES)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema yet."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
        return
    name = f"oms_test_mig_{uuid.uuid4().hex[:12]}"
    blocking(pg_admin(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url(name)
    finally:
        blocking(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run(url: str, work: Callable[[Connection], Any]) -> Any:
    """``work`` on one committed connection."""

    async def go() -> Any:
        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                return await connection.run_sync(work)
        finally:
            await engine.dispose()

    return asyncio.run(go())


class Rows:
    """Inserts rows into the tables as reflected, filling every required column and making the parents."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.metadata = sa.MetaData()
        self.metadata.reflect(connection)
        self.counter = itertools.count(1)

    def new_id(self) -> Any:
        """A UUID as the column stores it: native on PostgreSQL, 32 hex digits in SQLite's CHAR(32)."""
        return uuid.uuid4() if self.connection.dialect.name == "postgresql" else uuid.uuid4().hex

    def _filler(self, column: sa.Column[Any]) -> Any:
        n = next(self.counter)
        kind = column.type
        if isinstance(kind, sa.Uuid) or column.name == "id" or column.name.endswith("_id"):
            return self.new_id()
        if isinstance(kind, sa.Boolean):
            return False
        if isinstance(kind, sa.DateTime):
            return NOW
        if isinstance(kind, sa.Date):
            return date(2026, 12, 1)
        if isinstance(kind, sa.Time):
            return time(12, 0)
        if isinstance(kind, sa.JSON):
            return [] if column.name.endswith("s") else {}
        if isinstance(kind, sa.Integer | sa.Numeric | sa.Float):
            return 1
        length = getattr(kind, "length", None) or 12
        return f"v{n}"[-length:] if length < 4 else f"v{n}"[:length]

    def add(self, table_name: str, **given: Any) -> Any:
        table = self.metadata.tables[table_name]
        values = dict(given)
        for column in table.columns:
            if column.name in values or column.nullable or column.server_default is not None:
                continue
            if column.foreign_keys:
                parent = next(iter(column.foreign_keys)).column.table.name
                values[column.name] = self.add(parent)
            else:
                values[column.name] = self._filler(column)
        if "id" in table.c and "id" not in values:
            values["id"] = self.new_id()
        self.connection.execute(table.insert().values(**values))
        return values.get("id")


def seed(connection: Connection) -> dict[str, Any]:
    """One row of each amount table in HUF (exponent 0 -> 2), IQD (0 -> 3) and EUR (unchanged)."""
    rows = Rows(connection)
    ids: dict[str, Any] = {}
    amounts = dict.fromkeys(AMOUNT_COLUMNS["orders"], 1050)
    for currency in ("HUF", "IQD", "EUR"):
        breakdown = [{"rate": "0.27", "category": "standard", "taxable_minor": 1000, "tax_minor": 270}]
        order = rows.add("orders", currency=currency, tax_breakdown=breakdown, **amounts)
        line = rows.add("order_lines", order_id=order, **dict.fromkeys(AMOUNT_COLUMNS["order_lines"], 1050))
        cart = rows.add("carts", currency=currency)
        cart_line = rows.add("cart_lines", cart_id=cart, unit_price_minor=-1050, quantity=1)
        rate = rows.add("carrier_rates", currency=currency, base_minor=1050, per_kg_minor=0, max_weight_g=1000)
        shipment = rows.add("shipments", shipping_currency=currency, shipping_price_minor=1050)
        box = rows.add("box_types", currency=currency, cost_minor=1050)
        ids[currency] = {
            "orders": order,
            "order_lines": line,
            "cart_lines": cart_line,
            "carrier_rates": rate,
            "shipments": shipment,
            "box_types": box,
        }
    return ids


def amounts(connection: Connection, ids: dict[str, Any]) -> dict[str, dict[str, tuple[Any, ...]]]:
    """Currency -> table -> the row's amounts (and, for an order, its tax breakdown's)."""
    found: dict[str, dict[str, tuple[Any, ...]]] = {}
    for currency, by_table in ids.items():
        found[currency] = {}
        for table, row_id in by_table.items():
            columns = ", ".join(AMOUNT_COLUMNS[table])
            row = connection.execute(sa.text(f"SELECT {columns} FROM {table} WHERE id = :id"), {"id": row_id}).one()
            found[currency][table] = tuple(row)
        breakdown = connection.execute(
            sa.text("SELECT tax_breakdown FROM orders WHERE id = :id"), {"id": by_table["orders"]}
        ).scalar_one()
        breakdown = json.loads(breakdown) if isinstance(breakdown, str) else breakdown
        found[currency]["tax_breakdown"] = (breakdown[0]["taxable_minor"], breakdown[0]["tax_minor"])
    return found


def scaled(factor: int) -> dict[str, tuple[Any, ...]]:
    return {
        "orders": (1050 * factor,) * 6,
        "order_lines": (1050 * factor,) * 4,
        "cart_lines": (-1050 * factor,),
        "carrier_rates": (1050 * factor, 0),
        "shipments": (1050 * factor,),
        "box_types": (1050 * factor,),
        "tax_breakdown": (1000 * factor, 270 * factor),
    }


def test_the_revision_holds_every_exponent_iso_changed() -> None:
    from babel.numbers import get_currency_precision

    from oms_api.kit.money import exponent

    for code, (old, new) in revision.EXPONENT_CHANGES.items():
        assert (get_currency_precision(code), exponent(code)) == (old, new)
    assert {"HUF", "IDR", "COP", "ALL", "LBP", "IQD"} <= set(revision.EXPONENT_CHANGES)


def test_upgrading_rescales_stored_amounts_so_they_keep_their_value(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, BEFORE)
    ids = run(empty_url, seed)
    assert run(empty_url, lambda c: amounts(c, ids)) == {"HUF": scaled(1), "IQD": scaled(1), "EUR": scaled(1)}

    command.upgrade(config, REVISION)
    # 1050 HUF (exponent 0) is 105000 hundredths; 1050 IQD is 1050000 thousandths; EUR is unchanged.
    assert run(empty_url, lambda c: amounts(c, ids)) == {"HUF": scaled(100), "IQD": scaled(1000), "EUR": scaled(1)}

    command.downgrade(config, BEFORE)
    assert run(empty_url, lambda c: amounts(c, ids)) == {"HUF": scaled(1), "IQD": scaled(1), "EUR": scaled(1)}


def test_downgrading_refuses_amounts_the_old_exponent_cannot_hold_and_changes_nothing(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, BEFORE)
    ids = run(empty_url, seed)
    command.upgrade(config, REVISION)
    # HUF 10.50, stored since ISO's two decimals: not a whole forint.
    huf_line = ids["HUF"]["order_lines"]
    run(
        empty_url,
        lambda c: c.execute(sa.text("UPDATE order_lines SET total_minor = 1050 WHERE id = :id"), {"id": huf_line}),
    )
    with pytest.raises(RuntimeError, match=r"1 row\(s\) of order_lines hold HUF amounts not whole"):
        command.downgrade(config, BEFORE)
    after = run(empty_url, lambda c: amounts(c, ids))
    assert after["HUF"]["orders"] == (105000,) * 6
    assert after["HUF"]["order_lines"] == (105000, 105000, 105000, 1050)
    assert (
        run(empty_url, lambda c: c.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()) == REVISION
    )


def test_upgrading_refuses_amounts_that_would_no_longer_fit_their_column(empty_url: str) -> None:
    config = alembic_config(empty_url)
    command.upgrade(config, BEFORE)
    ids = run(empty_url, seed)
    huge = revision.BIGINT_MAX // 100 + 1
    run(
        empty_url,
        lambda c: c.execute(
            sa.text("UPDATE box_types SET cost_minor = :v WHERE id = :id"), {"v": huge, "id": ids["HUF"]["box_types"]}
        ),
    )
    with pytest.raises(RuntimeError, match="box_types hold HUF amounts too large"):
        command.upgrade(config, REVISION)
    assert run(empty_url, lambda c: amounts(c, ids))["HUF"]["orders"] == (1050,) * 6
