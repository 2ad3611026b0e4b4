"""composite indexes for list filters (hardening issue 9, section 11)

Every list endpoint orders by ``id`` (the cursor) and filters by equality on one column (or two): an index on
(filter columns, id) returns page one as the first rows of one index range, whatever the table's size. The
single-column indexes these replace are dropped (each new index starts with the same column). Webhook replay
finds its time range through ``events.occurred_at``; order and ledger lists through ``placed_at``/``created_at``.

Plain ``CREATE INDEX`` (in the migration's transaction, on both databases): on a large PostgreSQL database
it blocks writes to the table while it builds; build them ``CONCURRENTLY`` by hand first if that matters.

Revision ID: a1b2c3d40001
Revises: 5d2a7c41e9b3
Create Date: 2026-12-03 13:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a1b2c3d40001"
down_revision: str | None = "5d2a7c41e9b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, index, columns) made by this revision
CREATED: tuple[tuple[str, str, list[str]], ...] = (
    ("orders", "ix_orders_status_id", ["status", "id"]),
    ("orders", "ix_orders_channel_id_id", ["channel_id", "id"]),
    ("orders", "ix_orders_channel_id_status_id", ["channel_id", "status", "id"]),
    ("orders", "ix_orders_customer_id_id", ["customer_id", "id"]),
    ("orders", "ix_orders_external_ref_id", ["external_ref", "id"]),
    ("orders", "ix_orders_placed_at", ["placed_at"]),
    ("stock_levels", "ix_stock_levels_warehouse_id_id", ["warehouse_id", "id"]),
    ("stock_movements", "ix_stock_movements_sku_id_id", ["sku_id", "id"]),
    ("stock_movements", "ix_stock_movements_warehouse_id_id", ["warehouse_id", "id"]),
    ("stock_movements", "ix_stock_movements_type_id", ["type", "id"]),
    ("stock_movements", "ix_stock_movements_reference_id", ["reference", "id"]),
    ("stock_movements", "ix_stock_movements_created_at", ["created_at"]),
    ("shipments", "ix_shipments_order_id_id", ["order_id", "id"]),
    ("shipments", "ix_shipments_warehouse_id_id", ["warehouse_id", "id"]),
    ("shipments", "ix_shipments_status_id", ["status", "id"]),
    ("carts", "ix_carts_status_id", ["status", "id"]),
    ("carts", "ix_carts_channel_id_id", ["channel_id", "id"]),
    ("carts", "ix_carts_customer_id_id", ["customer_id", "id"]),
    ("inbound_events", "ix_inbound_events_source_id", ["source", "id"]),
    ("inbound_events", "ix_inbound_events_outcome_id", ["outcome", "id"]),
    ("inbound_events", "ix_inbound_events_channel_id_id", ["channel_id", "id"]),
    ("pick_lists", "ix_pick_lists_warehouse_id_id", ["warehouse_id", "id"]),
    ("pick_lists", "ix_pick_lists_status_id", ["status", "id"]),
    ("pick_lists", "ix_pick_lists_method_id", ["method", "id"]),
    ("pick_lists", "ix_pick_lists_group_id_id", ["group_id", "id"]),
    ("webhook_deliveries", "ix_webhook_deliveries_endpoint_id_status_id", ["endpoint_id", "status", "id"]),
    ("webhook_deliveries", "ix_webhook_deliveries_endpoint_id_event_type_id", ["endpoint_id", "event_type", "id"]),
    ("events", "ix_events_occurred_at", ["occurred_at"]),
)

# (table, index, columns) this revision drops: each is the leading column of one created above
DROPPED: tuple[tuple[str, str, list[str]], ...] = (
    ("orders", "ix_orders_status", ["status"]),
    ("orders", "ix_orders_customer_id", ["customer_id"]),
    ("stock_levels", "ix_stock_levels_warehouse_id", ["warehouse_id"]),
    ("stock_movements", "ix_stock_movements_type", ["type"]),
    ("stock_movements", "ix_stock_movements_reference", ["reference"]),
    ("shipments", "ix_shipments_order_id", ["order_id"]),
    ("shipments", "ix_shipments_warehouse_id", ["warehouse_id"]),
    ("shipments", "ix_shipments_status", ["status"]),
    ("carts", "ix_carts_channel_id", ["channel_id"]),
    ("carts", "ix_carts_customer_id", ["customer_id"]),
    ("inbound_events", "ix_inbound_events_channel_id", ["channel_id"]),
    ("pick_lists", "ix_pick_lists_warehouse_id", ["warehouse_id"]),
    ("pick_lists", "ix_pick_lists_status", ["status"]),
    ("pick_lists", "ix_pick_lists_group_id", ["group_id"]),
)


def upgrade() -> None:
    for table, name, columns in CREATED:
        op.create_index(name, table, columns, unique=False)
    for table, name, _ in DROPPED:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for table, name, columns in DROPPED:
        op.create_index(name, table, columns, unique=False)
    for table, name, _ in CREATED:
        op.drop_index(name, table_name=table)
