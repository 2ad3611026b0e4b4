"""Build the wire form of orders (and their event snapshots) from stored rows."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.orders.domain import TRANSITIONS, OrderStatus
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine as LineRow
from oms_api.orders.schemas import LineAllocation, Order, OrderLine, OrderSummary, OrderTotals, TaxBreakdownEntry


def _money(minor: int, currency: str) -> MoneyOut:
    return MoneyOut.of(Money.from_minor(minor, currency))


def order_view(
    order: OrderRow, lines: Sequence[LineRow], allocations: dict[uuid.UUID, list[Any]], channel_code: str
) -> Order:
    cur = order.currency
    return Order(
        id=order.id,
        channel=channel_code,
        channel_id=order.channel_id,
        external_ref=order.external_ref,
        status=order.status,
        status_reason=order.status_reason,
        allowed_transitions=sorted(TRANSITIONS[OrderStatus(order.status)]),
        currency=cur,
        customer_id=order.customer_id,
        shipping_address=order.shipping_address,
        billing_address=order.billing_address,
        tags=order.tags,
        notes=order.notes,
        lines=[
            OrderLine(
                id=line.id,
                line_no=line.line_no,
                sku=line.sku,
                sku_id=line.sku_id,
                name=line.name,
                quantity=line.quantity,
                cancelled_quantity=line.cancelled_quantity,
                unit_price=_money(line.unit_price_minor, cur),
                discount=_money(line.discount_minor, cur),
                tax_rate=line.tax_rate or None,
                tax_category=line.tax_category,
                tax=_money(line.tax_minor, cur),
                total=_money(line.total_minor, cur),
                allocations=[
                    LineAllocation(warehouse=a.code, warehouse_id=a.warehouse_id, quantity=a.quantity, status=a.status)
                    for a in allocations.get(line.id, [])
                ],
            )
            for line in lines
        ],
        totals=OrderTotals(
            subtotal=_money(order.subtotal_minor, cur),
            discount_total=_money(order.discount_total_minor, cur),
            shipping_total=_money(order.shipping_total_minor, cur),
            shipping_tax=_money(order.shipping_tax_minor, cur),
            tax_total=_money(order.tax_total_minor, cur),
            grand_total=_money(order.grand_total_minor, cur),
            tax_breakdown=[
                TaxBreakdownEntry(
                    rate=entry["rate"],
                    category=entry.get("category"),
                    taxable=_money(entry["taxable_minor"], cur),
                    tax=_money(entry["tax_minor"], cur),
                )
                for entry in order.tax_breakdown or ()
            ],
        ),
        placed_at=order.placed_at,
        created_at=order.created_at,
        updated_at=order.updated_at,
        version=order.version,
        pickup_warehouse_id=order.pickup_warehouse_id,
        prices_include_tax=order.prices_include_tax,
        payment_status=order.payment_status,
        hold_type=order.hold_type,
    )


def summary_view(order: OrderRow) -> OrderSummary:
    return OrderSummary(
        id=order.id,
        channel_id=order.channel_id,
        external_ref=order.external_ref,
        status=order.status,
        currency=order.currency,
        customer_id=order.customer_id,
        tags=order.tags,
        grand_total=_money(order.grand_total_minor, order.currency),
        payment_status=order.payment_status,
        placed_at=order.placed_at,
        version=order.version,
    )


def snapshot(view: Order) -> dict[str, Any]:
    """The event payload of an order: the whole order, JSON-ready, so receivers need no second call."""
    return view.model_dump(mode="json")
