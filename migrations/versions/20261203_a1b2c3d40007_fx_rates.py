"""fx rates (issue 10), and stored amounts rescaled to ISO 4217 minor units

``fx_rates``: one exchange rate per base, quote and date, the rate kept as its exact decimal text.

Money is stored as integer minor units, and their exponent now comes from ISO 4217 (the ``iso4217`` package)
instead of CLDR (babel). For the currencies whose exponent changes, every stored amount is rescaled so that it
keeps its value: 1050 HUF stored with CLDR's exponent 0 becomes 105000 (1050.00 HUF) with ISO's 2. The changes
were computed once, when this revision was written, with::

    {c: (babel.numbers.get_currency_precision(c), kit.money.exponent(c)) for c in babel.numbers.list_currencies()
     if babel.numbers.get_currency_precision(c) != kit.money.exponent(c)}

(babel 2.19.0, iso4217 1.16.20260101) and are fixed here: a later upgrade of either package must not change what
this revision did. Every change is an increase (amounts are multiplied); a decrease would divide, and the
upgrade refuses, naming the rows, when an amount is not whole in the new exponent (or, for an increase, when it
would no longer fit its BIGINT column). The downgrade rescales back under the same refusals: a HUF 10.50 stored
since cannot be written with exponent 0.

Revision ID: a1b2c3d40007
Revises: a1b2c3d40006
Create Date: 2026-12-03 16:37:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.engine import Connection

revision: str = "a1b2c3d40007"
down_revision: str | None = "a1b2c3d40006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EXPONENT_CHANGES: dict[str, tuple[int, int]] = {
    "AFN": (0, 2),
    "ALL": (0, 2),
    "COP": (0, 2),
    "HUF": (0, 2),
    "IDR": (0, 2),
    "IQD": (0, 3),
    "IRR": (0, 2),
    "KPW": (0, 2),
    "LAK": (0, 2),
    "LBP": (0, 2),
    "MGA": (0, 2),
    "MMK": (0, 2),
    "SOS": (0, 2),
    "SYP": (0, 2),
    "YER": (0, 2),
}
"""Currency: (CLDR exponent, ISO 4217 exponent)."""

BIGINT_MAX = 2**63 - 1

# Every minor-unit column at this revision, with where its currency is: the row's own column, or its parent's.
AMOUNTS: list[tuple[str, str, tuple[str, ...]]] = [
    (
        "orders",
        "currency = :code",
        (
            "subtotal_minor",
            "discount_total_minor",
            "shipping_total_minor",
            "tax_total_minor",
            "grand_total_minor",
            "shipping_tax_minor",
        ),
    ),
    (
        "order_lines",
        "order_id IN (SELECT id FROM orders WHERE currency = :code)",
        ("unit_price_minor", "discount_minor", "tax_minor", "total_minor"),
    ),
    ("cart_lines", "cart_id IN (SELECT id FROM carts WHERE currency = :code)", ("unit_price_minor",)),
    ("carrier_rates", "currency = :code", ("base_minor", "per_kg_minor")),
    ("shipments", "shipping_currency = :code", ("shipping_price_minor",)),
    ("box_types", "currency = :code", ("cost_minor",)),
]
# The order's tax breakdown holds minor units too: [{rate, category, taxable_minor, tax_minor}].
ORDERS = sa.table(
    "orders", sa.column("id", sa.Uuid()), sa.column("currency", sa.String()), sa.column("tax_breakdown", sa.JSON())
)


class ExponentChangeRefused(RuntimeError):
    """Stored amounts that cannot be written in a currency's new exponent."""


def _check(connection: Connection, code: str, old: int, new: int) -> None:
    """Refuse (before anything changes) amounts that would lose digits or no longer fit."""
    factor = 10 ** abs(new - old)
    for table, where, columns in AMOUNTS:
        if new < old:
            bad = " OR ".join(f"{column} % {factor} <> 0" for column in columns)
            why = f"not whole in {new} decimals"
        else:
            bad = " OR ".join(f"abs({column}) > {BIGINT_MAX // factor}" for column in columns)
            why = f"too large for a BIGINT with {new} decimals"
        count = connection.execute(sa.text(f"SELECT count(*) FROM {table} WHERE ({where}) AND ({bad})"), {"code": code})
        found = count.scalar_one()
        if found:
            raise ExponentChangeRefused(
                f"{found} row(s) of {table} hold {code} amounts {why} (exponent {old} -> {new}); "
                "correct them (or leave this revision) before migrating"
            )


def _rescale_breakdown(items: Any, code: str, old: int, new: int) -> Any:
    def scaled(value: int) -> int:
        if new >= old:
            return value * 10 ** (new - old)
        factor = 10 ** (old - new)
        if value % factor:
            raise ExponentChangeRefused(
                f"an order's tax breakdown holds {code} {value} minor units, not whole in {new} decimals"
            )
        return value // factor

    return [
        {
            key: scaled(value) if key.endswith("_minor") and isinstance(value, int) else value
            for key, value in item.items()
        }
        if isinstance(item, dict)
        else item
        for item in items
    ]


def _rescale(connection: Connection, direction: str) -> None:
    changes = {code: (old, new) if direction == "up" else (new, old) for code, (old, new) in EXPONENT_CHANGES.items()}
    for code, (old, new) in changes.items():
        _check(connection, code, old, new)
    for code, (old, new) in changes.items():
        factor = 10 ** abs(new - old)
        operator = "*" if new > old else "/"  # exact: _check refused every amount a division would cut
        for table, where, columns in AMOUNTS:
            assignments = ", ".join(f"{column} = {column} {operator} {factor}" for column in columns)
            connection.execute(sa.text(f"UPDATE {table} SET {assignments} WHERE {where}"), {"code": code})
        rows = connection.execute(
            sa.select(ORDERS.c.id, ORDERS.c.tax_breakdown).where(
                ORDERS.c.currency == code, ORDERS.c.tax_breakdown.is_not(None)
            )
        ).all()
        for order_id, breakdown in rows:
            if isinstance(breakdown, list):
                connection.execute(
                    ORDERS.update()
                    .where(ORDERS.c.id == order_id)
                    .values(tax_breakdown=_rescale_breakdown(breakdown, code, old, new))
                )


def upgrade() -> None:
    op.create_table(
        "fx_rates",
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("quote", sa.String(length=3), nullable=False),
        sa.Column("rate", sa.String(length=29), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fx_rates")),
        sa.UniqueConstraint("base", "quote", "rate_date", name=op.f("uq_fx_rates_base_quote_rate_date")),
    )
    with op.batch_alter_table("fx_rates", schema=None) as batch_op:
        batch_op.create_index("ix_fx_rates_quote_base_rate_date", ["quote", "base", "rate_date"], unique=False)
        batch_op.create_index("ix_fx_rates_rate_date_id", ["rate_date", "id"], unique=False)
        batch_op.create_index("ix_fx_rates_quote_id", ["quote", "id"], unique=False)
        batch_op.create_index("ix_fx_rates_base_id", ["base", "id"], unique=False)
    _rescale(op.get_bind(), "up")


def downgrade() -> None:
    _rescale(op.get_bind(), "down")
    with op.batch_alter_table("fx_rates", schema=None) as batch_op:
        batch_op.drop_index("ix_fx_rates_base_id")
        batch_op.drop_index("ix_fx_rates_quote_id")
        batch_op.drop_index("ix_fx_rates_rate_date_id")
        batch_op.drop_index("ix_fx_rates_quote_base_rate_date")
    op.drop_table("fx_rates")
