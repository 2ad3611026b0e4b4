"""A store grown to any number of orders in a few SQL statements, and the list requests to ask of it.

Shared by the plan test (``tests/integration/test_list_plans.py``) and the growth benchmark
(``scripts/bench/growth_bench.py``), so that both look at the same data through the same requests.

``load`` writes, with ``generate_series`` on PostgreSQL, orders in the shape placement writes them (the order,
its lines, a reservation ledger row per line, ``stock.changed`` per line then ``order.created`` and
``order.confirmed`` in the outbox, ~4 events an order), plus what grows with them: shipments, carts,
storefront deliveries, pick lists and a month of webhook deliveries (to two endpoints). A year of orders is
spread evenly in time and ids are time-ordered UUIDs, as the service makes them. What lists filter on is shaped
as a real store is: the rows a filter asks for are mostly recent and rare (confirmed orders are the last 1%, the
``pos`` channel and warehouse ``GW-C`` are new), so a plan that walks the primary key and discards rows walks
almost all of it. Fixed-size things (3 warehouses, 2,001 SKUs, 3 channels) do not grow; customers are one per
five orders.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

SKUS = 2000  # SKUs 0..1999 are sold (popularity falls as a power law); SKU 2000 only ever received 3 times
MID_SKU = 20  # about 0.7% of order lines: 70 movements at 10k orders, 7,000 at 1M
SPAN_DAYS = 365
REPLAY_WINDOW = 1000  # seqs a replay reads per statement (webhooks' REPLAY_CHUNK)
RETENTION_DAYS = 30  # webhook deliveries are purged after this (settings.webhooks_retention_days)
CHANNELS = (("gweb", "web"), ("gmarket", "marketplace"), ("gpos", "pos"))
WAREHOUSES = (("GW-A", 30), ("GW-B", 20), ("GW-C", 10))

# Ids: a UUIDv7 whose 48-bit time is ``ms`` and whose other bits say which table (``tag``) and which row (``n``):
# time-ordered like the service's, unique, and computable from both sides of a join.
_FUNCTIONS = """
CREATE OR REPLACE FUNCTION pg_temp.u7(ms bigint, tag int, n bigint) RETURNS uuid LANGUAGE sql IMMUTABLE AS
$$ SELECT (lpad(to_hex(ms), 12, '0') || '7' || lpad(to_hex(tag), 3, '0') || '8' || lpad(to_hex(n), 15, '0'))::uuid $$;
CREATE OR REPLACE FUNCTION pg_temp.h(i bigint, k int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
$$ SELECT hashint8(i * 64 + k)::bigint & 2147483647 $$;
CREATE OR REPLACE FUNCTION pg_temp.ts(ms bigint) RETURNS timestamptz LANGUAGE sql IMMUTABLE AS
$$ SELECT to_timestamp(ms / 1000.0) $$;
"""

# The indexes that are neither a primary key nor behind a constraint, in the tables the load fills.
_SECONDARY_INDEXES = """
SELECT c.relname AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid JOIN pg_class AS t ON t.oid = i.indrelid
WHERE t.relnamespace = 'public'::regnamespace AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint AS k WHERE k.conindid = i.indexrelid)
  AND t.relname IN ('orders', 'order_lines', 'stock_movements', 'events', 'shipments', 'shipment_lines', 'pick_lists',
                    'carts', 'inbound_events', 'webhook_deliveries', 'customers')
"""


@dataclass(frozen=True)
class Store:
    """What the loaded data holds that requests need to name."""

    orders: int
    now: datetime
    customers: int
    heavy_customer: uuid.UUID
    external_ref: str
    some_order: uuid.UUID
    recent_placed_at: datetime
    replay_since: datetime
    replay_until: datetime
    endpoint_id: uuid.UUID
    counts: dict[str, int] = field(default_factory=dict)


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PLACEHOLDER = Store(0, _EPOCH, 0, uuid.UUID(int=0), "", uuid.UUID(int=0), _EPOCH, _EPOCH, _EPOCH, uuid.UUID(int=0))
"""A store that names nothing: enough to list the cases (and their names) before any data is loaded."""


def _base(now_ms: int) -> int:
    """When the fixed things (warehouses, SKUs, channels, customers) were made: before the first order."""
    return now_ms - (SPAN_DAYS + 1) * 86_400_000


def _steps(n: int, now_ms: int, endpoints: tuple[uuid.UUID, uuid.UUID]) -> list[tuple[str, str]]:
    """The load, as (what, SQL) pairs. Every value is an integer computed here or a validated UUID."""
    base = _base(now_ms)
    span = SPAN_DAYS * 86_400_000
    customers = max(2000, n // 5)
    u = "pg_temp.u7"
    receipts, active_carts, expired_carts = max(n // 20, 10), max(n // 100, 60), max(n // 50, 10)
    sku_pick = f"floor({SKUS} * power((pg_temp.h(o.i * 4 + k, 5) % 1000000)::float8 / 1000000, 3))::int"
    return [
        (
            "warehouses, SKUs, stock levels, channels",
            f"""
INSERT INTO warehouses (id, code, name, active, priority, version, created_at, updated_at)
SELECT {u}({base}, 4, w), code, 'Growth ' || code, true, prio, 1, pg_temp.ts({base}), pg_temp.ts({base})
FROM (VALUES {", ".join(f"({i}, '{c}', {p})" for i, (c, p) in enumerate(WAREHOUSES))}) AS v(w, code, prio);
INSERT INTO skus (id, sku, name, weight_g, length_mm, width_mm, height_mm, active, version, created_at, updated_at)
SELECT {u}({base}, 3, k), 'G-' || lpad(k::text, 5, '0'), 'Growth product ' || k, 500, 200, 100, 50, true, 1,
       pg_temp.ts({base}), pg_temp.ts({base})
FROM generate_series(0, {SKUS}) AS k;
INSERT INTO stock_levels (id, sku_id, warehouse_id, on_hand, reserved, safety_stock, version, updated_at)
SELECT {u}({base}, 6, k * 3 + w), {u}({base}, 3, k), {u}({base}, 4, w), 1000000, 0, 0, 1, pg_temp.ts({base})
FROM generate_series(0, {SKUS}) AS k, generate_series(0, 2) AS w;
INSERT INTO channels (id, code, name, type, default_currency, active, cart_ttl_minutes, shipping_choice, version,
                      created_at, updated_at)
SELECT {u}({base}, 5, c), code, 'Growth ' || code, kind, 'EUR', true, 30, 'cheapest', 1, pg_temp.ts({base}),
       pg_temp.ts({base})
FROM (VALUES {", ".join(f"({i}, '{c}', '{t}')" for i, (c, t) in enumerate(CHANNELS))}) AS v(c, code, kind);
""",
        ),
        (
            "customers",
            f"""
INSERT INTO customers (id, email, first_name, last_name, phone, addresses, tags, external_refs, version,
                       created_at, updated_at)
SELECT {u}({base}, 2, k), 'c' || k || '@growth.test', 'Ada' || (k % 997), 'Lovelace' || (k % 1009),
       '+4930' || lpad(k::text, 8, '0'), '[]', CASE WHEN k % 20 = 0 THEN ',vip,' ELSE '' END, '{{}}', 1,
       pg_temp.ts({base}), pg_temp.ts({base})
FROM generate_series(0, {customers - 1}) AS k;
""",
        ),
        (
            "orders",
            f"""
CREATE TEMP TABLE g_orders ON COMMIT DROP AS
SELECT i, t_ms, {u}(t_ms, 1, i) AS id,
       CASE WHEN p > 0.95 AND i % 5 = 0 THEN 2 WHEN pg_temp.h(i, 1) % 10 < 7 THEN 0 ELSE 1 END AS ch,
       CASE WHEN i % 200 = 1 THEN 0 ELSE 1 + pg_temp.h(i, 2) % {customers - 1} END AS cu,
       CASE WHEN p > 0.99 THEN CASE WHEN i % 20 = 0 THEN 'on_hold' ELSE 'confirmed' END
            WHEN p > 0.98 THEN 'allocated'
            WHEN p > 0.96 THEN 'shipped'
            WHEN p > 0.5 AND i % 100 = 0 THEN 'on_hold'
            WHEN i % 40 = 0 THEN 'cancelled'
            ELSE 'delivered' END AS status,
       1 + pg_temp.h(i, 3) % 3 AS n_lines,
       CASE WHEN p > 0.9 AND i % 10 = 0 THEN 2 WHEN pg_temp.h(i, 4) % 5 = 0 THEN 1 ELSE 0 END AS wh,
       CASE WHEN i % 20 = 0 THEN ',vip,' WHEN i % 1000 = 7 THEN ',gift,' ELSE '' END AS tags
FROM (SELECT i, i::float8 / {n} AS p, {now_ms - 60_000} - ({span}::bigint * ({n} - i) / {n}) AS t_ms
      FROM generate_series(1, {n}) AS i) AS s;
INSERT INTO orders (id, channel_id, external_ref, customer_id, currency, status, shipping_address, tags,
                    subtotal_minor, discount_total_minor, shipping_total_minor, tax_total_minor, grand_total_minor,
                    status_reason, held_from, placed_at, version, created_at, updated_at)
SELECT id, {u}({base}, 5, ch), 'EXT-' || i, {u}({base}, 2, cu), 'EUR', status,
       '{{"name": "Ada Lovelace", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "DE"}}',
       tags, 2997, 0, 0, 0, 2997, CASE WHEN status = 'on_hold' THEN 'fraud review' END,
       CASE WHEN status = 'on_hold' THEN 'confirmed' END, pg_temp.ts(t_ms), 2, pg_temp.ts(t_ms), pg_temp.ts(t_ms)
FROM g_orders ORDER BY i;
CREATE TEMP TABLE g_lines ON COMMIT DROP AS
SELECT o.i, o.id AS order_id, o.t_ms, o.status, o.wh, o.ch, k AS line_no, {u}(o.t_ms, 7, o.i * 4 + k) AS id,
       {sku_pick} AS sku, 1 + pg_temp.h(o.i * 4 + k, 6) % 3 AS qty
FROM g_orders AS o, generate_series(1, o.n_lines) AS k;
INSERT INTO order_lines (id, order_id, line_no, sku_id, sku, name, quantity, unit_price_minor, discount_minor,
                         tax_rate, tax_minor, total_minor)
SELECT id, order_id, line_no, {u}({base}, 3, sku), 'G-' || lpad(sku::text, 5, '0'), 'Growth product ' || sku, qty,
       999, 0, '', 0, 999 * qty
FROM g_lines ORDER BY i, line_no;
""",
        ),
        (
            "ledger",
            f"""
INSERT INTO stock_movements (id, sku_id, warehouse_id, type, on_hand_delta, reserved_delta, on_hand_after,
                             reserved_after, reference, group_id, actor, created_at)
SELECT id, sku_id, wh_id, type, d_on_hand, d_reserved, 1000000, 0, reference, group_id, 'api_key:growth',
       pg_temp.ts(t_ms)
FROM (
    SELECT {u}(t_ms, 9, i * 4 + line_no) AS id, t_ms, {u}({base}, 3, sku) AS sku_id, {u}({base}, 4, wh) AS wh_id,
           'reservation' AS type, 0 AS d_on_hand, qty AS d_reserved, 'order:' || order_id AS reference,
           order_id AS group_id
    FROM g_lines
    UNION ALL
    SELECT {u}(t_ms, 10, r), t_ms, {u}({base}, 3, {sku_pick.replace("o.i * 4 + k", "r")}),
           {u}({base}, 4, (pg_temp.h(r, 8) % 2)::int), 'receipt', 100, 0, 'PO-' || r, NULL
    FROM (SELECT r, {now_ms - 30_000} - ({span}::bigint * ({receipts} - r) / {receipts}) AS t_ms
          FROM generate_series(1, {receipts}) AS r) AS rr
    UNION ALL
    SELECT {u}({base} + k * 1000, 10, 0), {base} + k * 1000, {u}({base}, 3, {SKUS}), {u}({base}, 4, 0), 'receipt', 5,
           0, 'PO-RARE-' || k, NULL
    FROM generate_series(1, 3) AS k
) AS m ORDER BY id;
""",
        ),
        (
            "events",
            f"""
INSERT INTO events (id, type, aggregate_type, aggregate_id, data, actor, occurred_at, published_at)
SELECT id, type, aggregate_type, aggregate_id, data::json, 'api_key:growth', pg_temp.ts(t_ms), pg_temp.ts(t_ms + 1000)
FROM (
    SELECT t_ms, i * 8 + line_no AS rank, {u}(t_ms, 8, i * 8 + line_no) AS id, 'stock.changed' AS type,
           'stock_level' AS aggregate_type, {u}({base}, 6, sku * 3 + wh) AS aggregate_id,
           '{{"sku": "G-' || lpad(sku::text, 5, '0') || '", "warehouse": "GW", "on_hand": 1000000, "reserved": '
           || qty || ', "available": ' || (1000000 - qty) || '}}' AS data
    FROM g_lines
    UNION ALL
    SELECT t_ms, i * 8 + 5 + e, {u}(t_ms, 8, i * 8 + 5 + e),
           CASE e WHEN 0 THEN 'order.created' ELSE 'order.confirmed' END, 'order', id,
           '{{"id": "' || id || '", "external_ref": "EXT-' || i || '", "status": "confirmed", "currency": "EUR", '
           || '"grand_total": {{"amount": "29.97", "currency": "EUR"}}}}'
    FROM g_orders, generate_series(0, 1) AS e
) AS ev ORDER BY t_ms, rank;
""",
        ),
        (
            "shipments",
            f"""
INSERT INTO shipments (id, order_id, warehouse_id, status, pickup, status_reason, shipped_at, delivered_at, version,
                       created_at, updated_at)
SELECT {u}(t_ms + 3600000, 11, i), id, {u}({base}, 4, wh),
       CASE status WHEN 'allocated' THEN 'pending' WHEN 'shipped' THEN 'shipped' ELSE 'delivered' END, false, NULL,
       CASE WHEN status <> 'allocated' THEN pg_temp.ts(t_ms + 7200000) END,
       CASE WHEN status = 'delivered' THEN pg_temp.ts(t_ms + 86400000) END, 3,
       pg_temp.ts(t_ms + 3600000), pg_temp.ts(t_ms + 3600000)
FROM g_orders WHERE status IN ('allocated', 'shipped', 'delivered') ORDER BY i;
INSERT INTO shipment_lines (id, shipment_id, order_line_id, sku_id, quantity, picked_quantity, short_quantity,
                            packed_quantity)
SELECT {u}(t_ms + 3600000, 12, i * 4 + line_no), {u}(t_ms + 3600000, 11, i), id, {u}({base}, 3, sku), qty,
       CASE WHEN status = 'allocated' THEN 0 ELSE qty END, 0, CASE WHEN status = 'allocated' THEN 0 ELSE qty END
FROM g_lines WHERE status IN ('allocated', 'shipped', 'delivered') ORDER BY i, line_no;
INSERT INTO pick_lists (id, warehouse_id, method, status, group_id, completed_at, version, created_at, updated_at)
SELECT {u}(t_ms + 3700000, 17, i), {u}({base}, 4, wh), CASE WHEN i % 3 = 0 THEN 'single' ELSE 'batch' END,
       CASE WHEN status = 'allocated' THEN 'open' ELSE 'completed' END, {u}(t_ms + 3700000, 17, i),
       CASE WHEN status <> 'allocated' THEN pg_temp.ts(t_ms + 5400000) END, 1, pg_temp.ts(t_ms + 3700000),
       pg_temp.ts(t_ms + 3700000)
FROM g_orders WHERE status IN ('allocated', 'shipped', 'delivered') AND i % 20 = 0 ORDER BY i;
""",
        ),
        (
            "carts",
            f"""
INSERT INTO carts (id, channel_id, customer_id, currency, status, expires_at, order_id, closed_at, version,
                   created_at, updated_at)
SELECT id, {u}({base}, 5, ch), {u}({base}, 2, cu), 'EUR', status, pg_temp.ts(t_ms + 1800000), order_id,
       CASE WHEN status <> 'active' THEN pg_temp.ts(t_ms + 600000) END, 2, pg_temp.ts(t_ms), pg_temp.ts(t_ms)
FROM (
    SELECT {u}(t_ms - 600000, 13, i) AS id, t_ms - 600000 AS t_ms, ch, cu, 'converted' AS status, id AS order_id
    FROM g_orders WHERE i % 10 = 3
    UNION ALL
    SELECT {u}(t_ms, 14, j), t_ms, (j % 2)::int,
           CASE WHEN j % 4 = 0 THEN 0 ELSE 1 + pg_temp.h(j, 9) % {customers - 1} END,
           CASE WHEN j % 7 = 0 THEN 'abandoned' ELSE 'expired' END, NULL
    FROM (SELECT j, {now_ms - 3_600_000} - ({span}::bigint * ({expired_carts} - j) / {expired_carts}) AS t_ms
          FROM generate_series(1, {expired_carts}) AS j) AS x
    UNION ALL
    SELECT {u}(t_ms, 15, j), t_ms, (j % 2)::int,
           CASE WHEN j % 4 = 0 THEN 0 ELSE 1 + pg_temp.h(j, 10) % {customers - 1} END, 'active', NULL
    FROM (SELECT j, {now_ms - 1_800_000} + (1700000::bigint * j / {active_carts}) AS t_ms
          FROM generate_series(1, {active_carts}) AS j) AS a
) AS c ORDER BY id;
""",
        ),
        (
            "storefront deliveries",
            f"""
INSERT INTO inbound_events (id, source, channel_id, external_id, topic, headers, body, received_at, processed_at,
                            outcome, attempts, error, order_id)
SELECT {u}(t_ms - 1000, 16, i), CASE ch WHEN 1 THEN 'shopify' ELSE 'woocommerce' END, {u}({base}, 5, ch),
       'D-' || i, CASE ch WHEN 1 THEN 'orders/create' ELSE 'order.created' END, '{{}}',
       '{{"id": ' || i || ', "line_items": []}}', pg_temp.ts(t_ms - 1000), pg_temp.ts(t_ms),
       CASE WHEN ch = 1 AND i % 50 = 3 THEN 'failed' ELSE 'processed' END, 1,
       CASE WHEN ch = 1 AND i % 50 = 3 THEN 'unknown SKU' END, CASE WHEN ch = 1 AND i % 50 = 3 THEN NULL ELSE id END
FROM g_orders WHERE ch IN (1, 2) ORDER BY i;
""",
        ),
        (
            "webhook deliveries",
            f"""
INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_seq, event_type, aggregate_type, aggregate_id,
                                origin, status, attempt_count, next_attempt_at, last_status_code, last_error,
                                created_at, finished_at)
SELECT {u}((extract(epoch FROM occurred_at) * 1000)::bigint + 500, 18 + e, seq), endpoint_id, id, seq, type,
       aggregate_type, aggregate_id, 'fanout', CASE WHEN seq % 50 = 7 THEN 'failed' ELSE 'succeeded' END,
       CASE WHEN seq % 50 = 7 THEN 8 ELSE 1 END, occurred_at, CASE WHEN seq % 50 = 7 THEN 500 ELSE 200 END,
       CASE WHEN seq % 50 = 7 THEN 'HTTP 500' END, occurred_at + interval '500 milliseconds',
       occurred_at + interval '2 seconds'
FROM events, (VALUES (0, '{endpoints[0]}'::uuid), (1, '{endpoints[1]}'::uuid)) AS ep(e, endpoint_id)
WHERE occurred_at >= pg_temp.ts({now_ms - RETENTION_DAYS * 86_400_000}) AND (e = 0 OR type LIKE 'order.%')
ORDER BY seq, e;
""",
        ),
    ]


async def load(
    conn: asyncpg.Connection,
    orders: int,
    now: datetime,
    endpoints: tuple[uuid.UUID, uuid.UUID],
    progress: Callable[[str], None],
) -> Store:
    """Fill an empty migrated database (PostgreSQL) with ``orders`` orders and what grows with them, then ANALYZE.

    ``endpoints`` are two existing webhook endpoints (made through the API: secrets are sealed at rest): the first
    has a delivery of every event of the last ``RETENTION_DAYS``, the second of its ``order.*`` events.
    """
    now_ms = int(now.timestamp() * 1000)
    async with conn.transaction():
        # As a restore does: foreign keys hold by construction, so their per-row checks (triggers) are skipped,
        # and the secondary indexes are built once at the end (sorted), not entry by entry.
        await conn.execute(
            "SET LOCAL session_replication_role = replica; SET LOCAL work_mem = '256MB';"
            " SET LOCAL maintenance_work_mem = '512MB'"
        )
        indexes = await conn.fetch(_SECONDARY_INDEXES)
        for index in indexes:
            await conn.execute(f'DROP INDEX "{index["name"]}"')
        await conn.execute(_FUNCTIONS)
        for what, sql in _steps(orders, now_ms, endpoints):
            progress(what)
            await conn.execute(sql)
        progress(f"{len(indexes)} indexes")
        for index in indexes:
            await conn.execute(index["definition"])
    progress("analyze")
    await conn.execute("ANALYZE")
    return await _store(conn, orders, now, endpoints[0])


async def reopen(conn: asyncpg.Connection, orders: int) -> Store:
    """The ``Store`` of a database ``load`` filled earlier (its first webhook endpoint is the one listed)."""
    now = await conn.fetchval("SELECT max(placed_at) + interval '1 minute' FROM orders")
    endpoint = await conn.fetchval("SELECT id FROM webhook_endpoints ORDER BY id LIMIT 1")
    return await _store(conn, orders, now, endpoint)


async def _store(conn: asyncpg.Connection, orders: int, now: datetime, endpoint_id: uuid.UUID) -> Store:
    middle = f"EXT-{orders // 2 + 1}"  # a delivered order (odd: neither cancelled nor held)
    some_order = await conn.fetchval("SELECT id FROM orders WHERE external_ref = $1", middle)
    recent = await conn.fetchval("SELECT placed_at FROM orders ORDER BY placed_at DESC OFFSET 199 LIMIT 1")
    # A replay range that holds about 400 events whatever the size: the same work at every scale.
    until = now - timedelta(hours=1)
    since = await conn.fetchval(
        "SELECT occurred_at FROM events WHERE occurred_at < $1 ORDER BY occurred_at DESC OFFSET 399 LIMIT 1", until
    )
    counts = {
        table: int(await conn.fetchval(f"SELECT reltuples::bigint FROM pg_class WHERE relname = '{table}'"))
        for table in ("orders", "order_lines", "events", "stock_movements", "shipments", "webhook_deliveries")
    }
    return Store(
        orders=orders,
        now=now,
        customers=max(2000, orders // 5),
        heavy_customer=await conn.fetchval("SELECT id FROM customers WHERE email = 'c0@growth.test'"),
        external_ref=middle,
        some_order=some_order,
        recent_placed_at=recent,
        replay_since=since,
        replay_until=until,
        endpoint_id=endpoint_id,
        counts=counts,
    )


@dataclass(frozen=True)
class Case:
    """One list request, and where its rows must come from.

    ``indexes``: the indexes the statements reading ``table`` use (each one, and no other).
    ``sort_rows``: the most rows a Sort may take (0: a page's worth; the index gives the order).
    """

    name: str
    path: str
    params: dict[str, Any]
    table: str
    indexes: tuple[str, ...]
    sort_rows: int = 0
    method: str = "GET"
    body: dict[str, Any] | None = None


def cases(store: Store) -> list[Case]:
    """Every list endpoint whose table grows with orders, with each of its filters."""
    endpoint = f"/v1/webhook-endpoints/{store.endpoint_id}"
    order_ref = f"order:{store.some_order}"
    return [
        Case("orders", "/v1/orders", {}, "orders", ("pk_orders",)),
        Case(
            "orders by channel and status",
            "/v1/orders",
            {"channel": "gweb", "status": "confirmed"},
            "orders",
            ("ix_orders_channel_id_status_id",),
        ),
        Case("orders by status", "/v1/orders", {"status": "on_hold"}, "orders", ("ix_orders_status_id",)),
        Case("orders by channel", "/v1/orders", {"channel": "gpos"}, "orders", ("ix_orders_channel_id_id",)),
        Case(
            "orders by customer",
            "/v1/orders",
            {"customer_id": str(store.heavy_customer)},
            "orders",
            ("ix_orders_customer_id_id",),
        ),
        Case(
            "customer's orders",
            f"/v1/customers/{store.heavy_customer}/orders",
            {},
            "orders",
            ("ix_orders_customer_id_id",),
        ),
        Case(
            "orders by external_ref",
            "/v1/orders",
            {"external_ref": store.external_ref},
            "orders",
            ("ix_orders_external_ref_id",),
        ),
        Case(
            "orders placed after",
            "/v1/orders",
            {"placed_after": store.recent_placed_at.isoformat()},
            "orders",
            ("ix_orders_placed_at",),
            sort_rows=500,
        ),
        Case("stock movements", "/v1/stock-movements", {}, "stock_movements", ("pk_stock_movements",)),
        Case(
            "stock movements of a mid SKU",
            "/v1/stock-movements",
            {"sku": f"G-{MID_SKU:05d}"},
            "stock_movements",
            ("ix_stock_movements_sku_id_id",),
        ),
        Case(
            "stock movements of a SKU with 3",
            "/v1/stock-movements",
            {"sku": f"G-{SKUS:05d}"},
            "stock_movements",
            ("ix_stock_movements_sku_id_id",),
        ),
        Case("stock movements of an unknown SKU", "/v1/stock-movements", {"sku": "NO-SUCH-SKU"}, "stock_movements", ()),
        Case(
            "stock movements of a warehouse",
            "/v1/stock-movements",
            {"warehouse": "GW-C"},
            "stock_movements",
            ("ix_stock_movements_warehouse_id_id",),
        ),
        Case(
            "stock movements of a level",
            "/v1/stock-movements",
            {"sku": f"G-{MID_SKU:05d}", "warehouse": "GW-A"},
            "stock_movements",
            ("ix_stock_movements_level",),
        ),
        Case(
            "stock movements by type",
            "/v1/stock-movements",
            {"type": "receipt"},
            "stock_movements",
            ("ix_stock_movements_type_id",),
        ),
        Case(
            "stock movements by reference",
            "/v1/stock-movements",
            {"reference": order_ref},
            "stock_movements",
            ("ix_stock_movements_reference_id",),
        ),
        Case(
            "stock levels of a warehouse",
            "/v1/stock-levels",
            {"warehouse": "GW-C"},
            "stock_levels",
            ("ix_stock_levels_warehouse_id_id",),
        ),
        Case("shipments by status", "/v1/shipments", {"status": "pending"}, "shipments", ("ix_shipments_status_id",)),
        Case(
            "shipments of a warehouse",
            "/v1/shipments",
            {"warehouse": "GW-C"},
            "shipments",
            ("ix_shipments_warehouse_id_id",),
        ),
        Case(
            "shipments of an order",
            "/v1/shipments",
            {"order_id": str(store.some_order)},
            "shipments",
            ("ix_shipments_order_id_id",),
        ),
        Case("pick lists by status", "/v1/pick-lists", {"status": "open"}, "pick_lists", ("ix_pick_lists_status_id",)),
        Case("carts by status", "/v1/carts", {"status": "active"}, "carts", ("ix_carts_status_id",)),
        Case(
            "carts of a customer",
            "/v1/carts",
            {"customer_id": str(store.heavy_customer)},
            "carts",
            ("ix_carts_customer_id_id",),
        ),
        Case(
            "storefront deliveries by outcome",
            "/v1/inbound-events",
            {"outcome": "failed"},
            "inbound_events",
            ("ix_inbound_events_outcome_id",),
        ),
        Case(
            "storefront deliveries by source",
            "/v1/inbound-events",
            {"source": "woocommerce"},
            "inbound_events",
            ("ix_inbound_events_source_id",),
        ),
        Case(
            "storefront deliveries of a channel",
            "/v1/inbound-events",
            {"channel": "gpos"},
            "inbound_events",
            ("ix_inbound_events_channel_id_id",),
        ),
        Case(
            "webhook deliveries",
            f"{endpoint}/deliveries",
            {},
            "webhook_deliveries",
            ("ix_webhook_deliveries_endpoint",),
        ),
        Case(
            "webhook dead letters",
            f"{endpoint}/deliveries",
            {"status": "failed"},
            "webhook_deliveries",
            ("ix_webhook_deliveries_endpoint_id_status_id",),
        ),
        Case(
            "webhook deliveries by event type",
            f"{endpoint}/deliveries",
            {"event_type": "order.confirmed"},
            "webhook_deliveries",
            ("ix_webhook_deliveries_endpoint_id_event_type_id",),
        ),
        Case(
            "order history",
            f"/v1/orders/{store.some_order}/events",
            {},
            "events",
            ("ix_events_aggregate",),
        ),
    ]


def replay_case(store: Store) -> Case:
    """Webhook replay of a range of ~400 events: finds the range by time, then reads it by seq."""
    return Case(
        "webhook replay",
        f"/v1/webhook-endpoints/{store.endpoint_id}/replay",
        {},
        "events",
        ("ix_events_occurred_at", "pk_events"),
        sort_rows=REPLAY_WINDOW,
        method="POST",
        body={"since": store.replay_since.isoformat(), "until": store.replay_until.isoformat()},
    )
