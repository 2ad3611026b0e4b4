"""Placing an order: validate, price, reserve stock for every line (all or nothing), record events.

The hot path issues one statement per step (channel, customer, SKUs with their stock,
order, lines, reservation UPDATE, reservations, ledger, events) so that placement stays
within a dozen statements including authentication and idempotency.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain as allocation
from oms_api.allocation import service as sourcing
from oms_api.channels import service as channels
from oms_api.channels.models import Channel
from oms_api.customers import service as customers
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.metrics import ORDERS_PLACED, PLACEMENTS_REFUSED
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import domain, repository
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine as LineRow
from oms_api.orders.schemas import CustomerRef, Order, OrderCreate
from oms_api.orders.views import order_view
from oms_api.settings import Settings
from oms_api.stock import reservations
from oms_api.stock import service as stock_service
from oms_api.stock import sourcing as stock_sourcing
from oms_api.stock.reservations import Hold, SkuStock
from oms_api.stock.sourcing import SourcingLevel

REPLAN_ATTEMPTS = 3


def _money(value: MoneyIn | None, currency: str, pointer: str) -> Money | None:
    if value is None:
        return None
    if value.currency != currency:
        raise field_error(pointer + "/currency", f"must be the order currency {currency}", "currency_mismatch")
    return value.to_money()


def _price(body: OrderCreate) -> tuple[list[domain.LineAmounts], domain.Totals]:
    cur = body.currency
    amounts = []
    for i, line in enumerate(body.lines):
        at = f"/body/lines/{i}"
        unit = _money(line.unit_price, cur, at + "/unit_price")
        assert unit is not None
        priced = domain.PricedLine(
            quantity=line.quantity,
            unit_price=unit,
            discount=_money(line.discount, cur, at + "/discount") or Money.zero(cur),
            tax_rate=line.tax_rate,
            tax=_money(line.tax, cur, at + "/tax"),
        )
        try:
            amounts.append(domain.line_amounts(i, priced))
        except domain.PricingError as exc:
            raise field_error(f"{at}/{exc.field}", str(exc), "invalid_amount") from exc
    totals = domain.order_totals(
        cur,
        amounts,
        _money(body.shipping_price, cur, "/body/shipping_price"),
        _money(body.shipping_tax, cur, "/body/shipping_tax"),
    )
    return amounts, totals


async def _customer_id(session: AsyncSession, actor: Principal, body: OrderCreate) -> uuid.UUID | None:
    if body.customer is None:
        return None
    if isinstance(body.customer, CustomerRef):
        try:
            return (await customers.get_customer(session, body.customer.id)).id
        except NotFound as exc:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer") from exc
    return (await customers.resolve_for_order(session, actor, body.customer)).id


def _check_skus(body: OrderCreate, stock: dict[str, SkuStock]) -> None:
    problems = []
    for i, line in enumerate(body.lines):
        found = stock.get(line.sku)
        if found is None:
            problems.append(
                ProblemError(pointer=f"/body/lines/{i}/sku", detail=f"unknown SKU {line.sku!r}", code="unknown_sku")
            )
        elif not found.active:
            problems.append(
                ProblemError(
                    pointer=f"/body/lines/{i}/sku", detail=f"SKU {line.sku!r} is not sold", code="sku_inactive"
                )
            )
    if problems:
        raise ValidationFailed(problems)


def _out_of_stock(
    body: OrderCreate, stock: dict[str, SkuStock], shortages: tuple[allocation.Shortage, ...]
) -> Conflict:
    PLACEMENTS_REFUSED.labels("out_of_stock").inc()
    codes = {s.sku_id: s.sku for s in stock.values()}
    short = [{"sku": codes[s.sku_id], "requested": s.requested, "available": s.available} for s in shortages]
    listing = ", ".join(f"{s['sku']} ({s['available']} of {s['requested']})" for s in short)
    return Conflict(f"Not enough stock for: {listing}", code="out_of_stock", title="Out of stock", shortages=short)


async def _pickup_warehouse(session: AsyncSession, body: OrderCreate) -> uuid.UUID | None:
    """The active warehouse a click-and-collect order names (422 otherwise), or None."""
    if body.pickup_warehouse is None:
        return None
    try:
        warehouse = await stock_service.get_warehouse(session, body.pickup_warehouse)
    except NotFound as exc:
        raise field_error(
            "/body/pickup_warehouse", f"no warehouse {body.pickup_warehouse!r}", "unknown_warehouse"
        ) from exc
    if not warehouse.active:
        raise field_error("/body/pickup_warehouse", f"warehouse {warehouse.code!r} is not active", "warehouse_inactive")
    return warehouse.id


@dataclass
class Draft:
    """A validated, priced order not yet written: what placement, checkout and intake share."""

    channel: Channel
    order: OrderRow
    lines: list[LineRow]
    stock: dict[str, SkuStock]
    levels: list[SourcingLevel] | None = None
    """Every stock level of the order's SKUs, row-locked (``draft_order(lock_stock=True)``)."""


async def _channel_and_customer(
    session: AsyncSession, actor: Principal, body: OrderCreate
) -> tuple[Channel, uuid.UUID | None]:
    """The order's active channel and customer id (422 naming the field otherwise); one query when the order
    names an existing customer by id."""
    customer = body.customer
    if isinstance(customer, CustomerRef):
        channel, customer_known = await repository.channel_and_customer(session, body.channel, customer.id)
    else:
        channel, customer_known = await channels.find_channel(session, body.channel), False
    if channel is None:
        raise field_error("/body/channel", f"no channel {body.channel!r}", "unknown_channel")
    if not channel.active:
        raise field_error("/body/channel", f"channel {channel.code!r} is not active", "channel_inactive")
    if isinstance(customer, CustomerRef):
        if not customer_known:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer")
        return channel, customer.id
    return channel, await _customer_id(session, actor, body)


async def draft_order(session: AsyncSession, actor: Principal, body: OrderCreate, *, lock_stock: bool = False) -> Draft:
    """Validate the channel, prices, customer and SKUs, and build the rows (status ``confirmed``).

    ``lock_stock`` reads the SKUs with every stock level row-locked (``Draft.levels``), for a placement that
    sources the order next: the engine then plans on those figures without reading them again.
    """
    channel, customer_id = await _channel_and_customer(session, actor, body)
    amounts, totals = _price(body)
    codes = [line.sku for line in body.lines]
    levels = None
    if lock_stock:
        stock, levels = await stock_sourcing.lock_levels_by_code(session, codes)
    else:
        stock = await reservations.load_candidates(session, codes)
    _check_skus(body, stock)
    pickup_id = await _pickup_warehouse(session, body)
    now = utcnow()
    order = OrderRow(
        id=uuid7(),
        channel_id=channel.id,
        external_ref=body.external_ref,
        customer_id=customer_id,
        currency=body.currency,
        status=OrderStatus.CONFIRMED.value,
        status_reason=None,
        held_from=None,
        shipping_address=body.shipping_address.model_dump(mode="json", exclude_none=True),
        billing_address=(
            body.billing_address.model_dump(mode="json", exclude_none=True) if body.billing_address else None
        ),
        tags=sorted(set(body.tags)),
        notes=body.notes,
        subtotal_minor=totals.subtotal.minor,
        discount_total_minor=totals.discount_total.minor,
        shipping_total_minor=totals.shipping_total.minor,
        tax_total_minor=totals.tax_total.minor,
        grand_total_minor=totals.grand_total.minor,
        placed_at=now,
        created_at=now,
        updated_at=now,
        version=1,
        pickup_warehouse_id=pickup_id,
    )
    lines = [
        LineRow(
            id=uuid7(),
            order_id=order.id,
            line_no=i + 1,
            sku_id=stock[line.sku].sku_id,
            sku=line.sku,
            name=stock[line.sku].name,
            quantity=line.quantity,
            unit_price_minor=line.unit_price.to_money().minor,
            discount_minor=amounts[i].discount.minor,
            tax_rate=str(line.tax_rate) if line.tax_rate is not None else "",
            tax_minor=amounts[i].tax.minor,
            total_minor=amounts[i].total.minor,
        )
        for i, line in enumerate(body.lines)
    ]
    return Draft(channel, order, lines, stock, levels)


async def insert_draft(session: AsyncSession, draft: Draft) -> None:
    """Write the order and its lines; 409 ``duplicate_order`` if the channel already has its external_ref."""
    order = draft.order
    if not await repository.insert_order(session, _columns(order)):
        existing = await repository.find_id_by_external_ref(session, order.channel_id, order.external_ref)
        raise Conflict(
            f"Channel {draft.channel.code!r} already has order {order.external_ref!r}",
            code="duplicate_order",
            existing_id=str(existing),
            headers={"Location": f"/v1/orders/{existing}"},
        )
    await repository.insert_lines(session, [_columns(line) for line in draft.lines])


def finish(session: AsyncSession, actor: Principal, draft: Draft, holds: list[Hold]) -> Order:
    """The placed order's view, with its ``order.created`` and ``order.confirmed`` events recorded."""
    allocations: dict[uuid.UUID, list[Any]] = {}
    for hold in holds:
        allocations.setdefault(hold.order_line_id, []).append(
            _Allocated(hold.warehouse_id, hold.warehouse, hold.quantity)
        )
    view = order_view(draft.order, draft.lines, allocations, draft.channel.code)
    record_transition(session, "order.created", view, None, OrderStatus.PENDING, actor)
    record_transition(
        session,
        "order.confirmed",
        view,
        OrderStatus.PENDING,
        OrderStatus.CONFIRMED,
        actor,
        reason="stock reserved for every line",
    )
    ORDERS_PLACED.labels(draft.channel.code).inc()
    return view


async def place_order(session: AsyncSession, actor: Principal, body: OrderCreate, settings: Settings) -> Order:
    """Create the order and reserve its stock, or change nothing and say why."""
    draft = await draft_order(session, actor, body, lock_stock=True)
    await insert_draft(session, draft)
    holds = await _reserve(session, actor, body, draft.order, draft.lines, draft.stock, settings, draft.levels)
    return finish(session, actor, draft, holds)


class _Allocated:
    """An allocation as the order view reads it (shape of a reservations query row)."""

    __slots__ = ("code", "quantity", "status", "warehouse_id")

    def __init__(self, warehouse_id: uuid.UUID, code: str, quantity: int) -> None:
        self.warehouse_id, self.code, self.quantity, self.status = warehouse_id, code, quantity, "active"


async def _reserve(
    session: AsyncSession,
    actor: Principal,
    body: OrderCreate,
    order: OrderRow,
    lines: list[LineRow],
    stock: dict[str, SkuStock],
    settings: Settings,
    locked: list[SourcingLevel] | None = None,
) -> list[Hold]:
    """Source the order with the allocation engine and reserve the plan, all or nothing.

    The engine reads the shipping address (coordinates, else the offline geocoder) and the channel's sourcing
    policy; it plans on stock levels row-locked in id order and re-plans on fresh figures if a stock level
    appeared in between. The plan and its explanation are stored (``GET /v1/orders/{id}/allocation``).
    """
    channel = await channels.channel_by_id(session, order.channel_id)
    to_source = [
        sourcing.LineToSource(line.id, line.line_no, line.sku, stock[line.sku].sku_id, line.quantity) for line in lines
    ]
    sourced = await sourcing.source_and_reserve(
        session,
        actor.actor,
        order,
        to_source,
        channel=channel,
        settings=settings,
        trigger="placement",
        locked=locked,
    )
    if not sourced.plan.complete:
        raise _out_of_stock(body, stock, sourced.plan.shortages)
    return sourced.holds


def _columns(row: Any) -> dict[str, Any]:
    """Column values of a transient ORM row, for a Core INSERT (keeps the hot path to one statement)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
