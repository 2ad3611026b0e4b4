"""Every query of orders. Placement writes with Core multi-row INSERTs (one statement per table)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels.models import Channel
from oms_api.customers.models import Customer
from oms_api.kit.bulk import insert_rows
from oms_api.kit.db_types import tag_pattern
from oms_api.kit.ids import parse_uuid
from oms_api.kit.keyset import filtered_page, plan_for_values
from oms_api.kit.outbox import Event
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import dialect_name, insert_ignoring_conflicts
from oms_api.orders.models import Order, OrderLine
from oms_api.taxes.models import TaxRate

_ORDERS = cast(Table, Order.__table__)

_CUSTOMER_KNOWN = exists().where(Customer.id == bindparam("customer_id"))
_DESTINATION_TAXED = exists().where(TaxRate.country == bindparam("country"))
_CUSTOMER_LIMITED = exists().where(Customer.id == bindparam("customer_id"), Customer.credit_limit_minor.is_not(None))
_FIRST = (Channel, _CUSTOMER_KNOWN, _DESTINATION_TAXED, _CUSTOMER_LIMITED)
_CHANNEL_BY_CODE = select(*_FIRST).where(Channel.code == bindparam("ref"))
_CHANNEL_BY_ID_OR_CODE = select(*_FIRST).where(or_(Channel.id == bindparam("ref_id"), Channel.code == bindparam("ref")))


@dataclass(frozen=True, slots=True)
class FirstRead:
    channel: Channel | None
    customer_known: bool
    destination_taxed: bool
    """Whether any tax rate (of any period) names the destination's country: if none does, pricing needs no
    rules; if one does, pricing reads the rules in force (``taxes.service.rates_for``)."""
    customer_credit_limited: bool = False
    """Whether the customer has a credit limit (invoices check the order against it, and it may be held)."""


async def channel_and_customer(
    session: AsyncSession, channel_ref: str, customer_id: uuid.UUID | None, country: str
) -> FirstRead:
    """Placement's first read, one query: the channel by id or code, whether the customer exists (and has a credit
    limit), and whether the destination country has tax rates.

    A deliberate read across contexts (like placement's SKU read): an order that names an existing customer
    needs no more of it than its existence, and an order shipped where no tax is collected needs no tax rules;
    this keeps the hot path's statements to the dozen it had before taxes.
    """
    as_id = parse_uuid(channel_ref)
    params = {"ref": channel_ref, "ref_id": as_id, "customer_id": customer_id, "country": country}
    stmt = _CHANNEL_BY_CODE if as_id is None else _CHANNEL_BY_ID_OR_CODE
    row = (await session.execute(stmt, params)).first()
    if row is None:
        return FirstRead(None, False, False)
    return FirstRead(row[0], bool(row[1]), bool(row[2]), bool(row[3]))


async def insert_order(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert the order unless (channel, external_ref) exists; False when it is a duplicate."""
    stmt = insert_ignoring_conflicts(dialect_name(session), _ORDERS, "channel_id", "external_ref")
    result = await session.execute(stmt, values)
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def insert_lines(session: AsyncSession, lines: Sequence[dict[str, Any]]) -> None:
    await insert_rows(session, OrderLine, list(lines))


async def find_id_by_external_ref(session: AsyncSession, channel_id: uuid.UUID, external_ref: str) -> uuid.UUID | None:
    stmt = select(Order.id).where(Order.channel_id == channel_id, Order.external_ref == external_ref)
    return (await session.execute(stmt)).scalar_one_or_none()


async def get(session: AsyncSession, order_id: uuid.UUID, *, for_update: bool = False) -> Order | None:
    stmt = select(Order).where(Order.id == order_id)
    if for_update:
        stmt = stmt.with_for_update()
    return (await session.execute(stmt)).scalar_one_or_none()


async def lines_of(session: AsyncSession, order_id: uuid.UUID) -> list[OrderLine]:
    stmt = select(OrderLine).where(OrderLine.order_id == order_id).order_by(OrderLine.line_no)
    return list((await session.execute(stmt)).scalars())


# The filters of ``list_orders`` that lead an index of ``orders`` (its columns before ``id``), most selective first.
_LIST_INDEXES = (
    (Order.external_ref,),
    (Order.customer_id,),
    (Order.channel_id, Order.status),
    (Order.channel_id,),
    (Order.status,),
    (Order.payment_status,),
)


async def list_orders(
    session: AsyncSession,
    page: PageParams,
    *,
    status: str | None = None,
    payment_status: str | None = None,
    channel_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
    tag: str | None = None,
    external_ref: str | None = None,
    placed_after: datetime | None = None,
    placed_before: datetime | None = None,
) -> Slice[Order]:
    """A page of orders, oldest first: one range of the index of the most selective filter given (see
    ``kit.keyset``), the other filters checked on its rows. Date ranges and tags have no such index: a narrow
    range reads ``ix_orders_placed_at`` and sorts what it finds."""
    stmt = filtered_page(
        select(Order),
        Order.id,
        page.after,
        [
            (Order.external_ref, external_ref),
            (Order.customer_id, customer_id),
            (Order.channel_id, channel_id),
            (Order.status, status),
            (Order.payment_status, payment_status),
        ],
        _LIST_INDEXES,
    ).limit(page.limit + 1)
    if tag is not None:
        stmt = stmt.where(Order.tags.like(tag_pattern(tag)))
    if placed_after is not None:
        stmt = stmt.where(Order.placed_at >= placed_after)
    if placed_before is not None:
        stmt = stmt.where(Order.placed_at < placed_before)
    if placed_after or placed_before:
        await plan_for_values(session)
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def events_of(session: AsyncSession, order_id: uuid.UUID) -> list[Event]:
    stmt = select(Event).where(Event.aggregate_type == "order", Event.aggregate_id == order_id).order_by(Event.seq)
    return list((await session.execute(stmt)).scalars())


# --- many orders at once (batch re-sourcing) -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OrderToSource:
    """What batch re-sourcing needs of an order (read straight, row-locked, many at once)."""

    id: uuid.UUID
    channel_id: uuid.UUID
    external_ref: str
    status: str
    tags: list[str]
    placed_at: datetime
    shipping_address: dict[str, Any] | None
    pickup_warehouse_id: uuid.UUID | None
    version: int
    lines: list[Any] = field(default_factory=list)


async def orders_to_source(session: AsyncSession, order_ids: Sequence[uuid.UUID]) -> list[OrderToSource]:
    """The orders (locked in id order) with their lines, in two queries."""
    ids = sorted(set(order_ids))
    if not ids:
        return []
    found = {
        row.id: OrderToSource(
            row.id,
            row.channel_id,
            row.external_ref,
            row.status,
            list(row.tags or []),
            row.placed_at,
            row.shipping_address,
            row.pickup_warehouse_id,
            row.version,
        )
        for row in await session.execute(
            select(
                Order.id,
                Order.channel_id,
                Order.external_ref,
                Order.status,
                Order.tags,
                Order.placed_at,
                Order.shipping_address,
                Order.pickup_warehouse_id,
                Order.version,
            )
            .where(Order.id.in_(ids))
            .order_by(Order.id)
            .with_for_update()
        )
    }
    lines = await session.execute(
        select(OrderLine.id, OrderLine.order_id, OrderLine.line_no, OrderLine.sku, OrderLine.sku_id, OrderLine.quantity)
        .where(OrderLine.order_id.in_(ids))
        .order_by(OrderLine.order_id, OrderLine.line_no)
    )
    for line in lines:
        found[line.order_id].lines.append(line)
    return list(found.values())


async def bump_versions(session: AsyncSession, order_ids: Sequence[uuid.UUID], now: datetime) -> None:
    """Orders whose allocation changed get a new version (their ETag changes), in one statement."""
    if order_ids:
        await session.execute(
            update(Order)
            .where(Order.id.in_(list(order_ids)))
            .values(version=Order.version + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )


async def open_order_amounts(
    session: AsyncSession, customer_id: uuid.UUID, closed: Sequence[str]
) -> list[tuple[uuid.UUID, str, int, int]]:
    """(id, currency, grand total, value of cancelled units) of the customer's orders not in ``closed`` statuses;
    a cancelled unit is worth its line's total pro rata, rounded half up (as payments count what is due)."""
    cancelled = (
        select(
            OrderLine.order_id,
            func.sum(
                (2 * OrderLine.total_minor * OrderLine.cancelled_quantity + OrderLine.quantity)
                // (2 * OrderLine.quantity)
            ).label("value"),
        )
        .where(OrderLine.cancelled_quantity > 0, OrderLine.quantity > 0)
        .group_by(OrderLine.order_id)
        .subquery()
    )
    stmt = (
        select(Order.id, Order.currency, Order.grand_total_minor, func.coalesce(cancelled.c.value, 0))
        .outerjoin(cancelled, cancelled.c.order_id == Order.id)
        .where(Order.customer_id == customer_id, Order.status.not_in(closed))
        .order_by(Order.id)
    )
    return [(i, c, int(t), int(v)) for i, c, t, v in (await session.execute(stmt)).all()]
