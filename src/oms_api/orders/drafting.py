"""Drafting an order: the one path from a request to the order's rows, shared by API placement, cart checkout and
storefront intake.

A draft is the order validated (channel, customer, prices, SKUs, pickup warehouse), priced and built, not yet
written. What happens next differs: placement reserves stock with the sourcing engine, checkout takes over the
cart's holds, intake holds the order when it cannot be served. Intake drafts keep what a storefront sent even
when it names no known SKU, so that an order the customer already paid for is never lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import domain as catalog
from oms_api.catalog import service as catalog_service
from oms_api.channels import service as channels
from oms_api.customers import service as customers
from oms_api.customers.schemas import CustomerRef
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.metrics import ORDERS_PLACED
from oms_api.kit.money import Money
from oms_api.kit.schemas import Money as MoneyIn
from oms_api.orders import domain, repository
from oms_api.orders.domain import OrderStatus
from oms_api.orders.history import record_transition
from oms_api.orders.models import Order as OrderRow
from oms_api.orders.models import OrderLine as LineRow
from oms_api.orders.schemas import Order, OrderCreate
from oms_api.orders.views import order_view
from oms_api.stock import service as stock
from oms_api.stock.service import Hold, LevelFacts, SkuStock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.channels.models import Channel


@dataclass
class Draft:
    """A validated, priced order not yet written."""

    channel: Channel
    order: OrderRow
    lines: list[LineRow]
    stock: dict[str, SkuStock]
    levels: list[LevelFacts] | None = None
    """Every stock level of the order's SKUs, row-locked (``draft_order(lock_stock=True)``)."""


def _money(value: MoneyIn | None, currency: str, pointer: str) -> Money | None:
    if value is None:
        return None
    if value.currency != currency:
        raise field_error(pointer + "/currency", f"must be the order currency {currency}", "currency_mismatch")
    return value.to_money()


def price(body: OrderCreate) -> tuple[list[domain.LineAmounts], domain.Totals]:
    """Each line's amounts and the order's totals (422 naming the field for amounts that cannot be)."""
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
    shipping = _money(body.shipping_price, cur, "/body/shipping_price")
    try:
        totals = domain.order_totals(cur, amounts, shipping, _money(body.shipping_tax, cur, "/body/shipping_tax"))
    except domain.PricingError as exc:
        raise field_error(f"/body/{exc.field}", str(exc), "invalid_amount") from exc
    return amounts, totals


async def _channel_and_customer(
    session: AsyncSession, actor: Principal, body: OrderCreate, channel: Channel | None, *, intake: bool
) -> tuple[Channel, uuid.UUID | None]:
    """The order's channel and customer id (422 naming the field otherwise); one query when the order names an
    existing customer by id. An intake order's channel may have stopped selling: the order is then held."""
    customer = body.customer
    known: bool | None = None
    if channel is None and isinstance(customer, CustomerRef):
        channel, known = await repository.channel_and_customer(session, body.channel, customer.id)
    elif channel is None:
        channel = await channels.find_channel(session, body.channel)
    channel = channels.check_selling(channel, body.channel, inactive_ok=intake)
    if isinstance(customer, CustomerRef) and known is not None:
        if not known:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer")
        return channel, customer.id
    return channel, await customers.customer_for(session, actor, customer)


async def _pickup_warehouse(session: AsyncSession, body: OrderCreate) -> uuid.UUID | None:
    """The active warehouse a click-and-collect order names (422 otherwise), or None."""
    if body.pickup_warehouse is None:
        return None
    try:
        warehouse = await stock.get_warehouse(session, body.pickup_warehouse)
    except NotFound as exc:
        raise field_error(
            "/body/pickup_warehouse", f"no warehouse {body.pickup_warehouse!r}", "unknown_warehouse"
        ) from exc
    if not warehouse.active:
        raise field_error("/body/pickup_warehouse", f"warehouse {warehouse.code!r} is not active", "warehouse_inactive")
    return warehouse.id


async def draft_order(
    session: AsyncSession,
    actor: Principal,
    body: OrderCreate,
    *,
    lock_stock: bool = False,
    channel: Channel | None = None,
    intake_names: Sequence[str] | None = None,
) -> Draft:
    """Validate the channel, prices, customer, SKUs and pickup warehouse, and build the rows (status ``confirmed``).

    ``lock_stock`` reads the SKUs with every stock level row-locked (``Draft.levels``), for a placement that sources
    the order next: the engine then plans on those figures without reading them again. ``intake_names`` (the line
    names a storefront sent) make an intake draft: lines whose SKU is unknown or not sold are kept, named as sent,
    and an inactive channel is allowed, for the caller to hold the order instead of refusing it.
    """
    intake = intake_names is not None
    channel, customer_id = await _channel_and_customer(session, actor, body, channel, intake=intake)
    amounts, totals = price(body)
    codes = [line.sku for line in body.lines]
    levels = None
    if lock_stock:
        found, levels = await stock.lock_levels_by_code(session, codes)
    else:
        found = await stock.load_candidates(session, codes)
    if not intake:
        active = {sku: s.active for sku, s in found.items()}
        catalog_service.check_sellable(((f"/body/lines/{i}/sku", sku) for i, sku in enumerate(codes)), active)
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
    names = intake_names or ()
    lines = []
    for i, line in enumerate(body.lines):
        known = found.get(line.sku)
        sent_name = names[i] if i < len(names) and names[i] else line.sku or "(no name)"
        lines.append(
            LineRow(
                id=uuid7(),
                order_id=order.id,
                line_no=i + 1,
                sku_id=known.sku_id if known else None,
                sku=line.sku,
                name=known.name if known else sent_name[:200],
                quantity=line.quantity,
                unit_price_minor=line.unit_price.to_money().minor,
                discount_minor=amounts[i].discount.minor,
                tax_rate=str(line.tax_rate) if line.tax_rate is not None else "",
                tax_minor=amounts[i].tax.minor,
                total_minor=amounts[i].total.minor,
            )
        )
    return Draft(channel, order, lines, found, levels)


def sku_problems(lines: Sequence[LineRow], found: dict[str, SkuStock]) -> list[str]:
    """What keeps an intake order's lines from being served (a line with no SKU, an unknown one, one not sold),
    in the words placement refuses them with, each naming its line."""
    problems = []
    for line in lines:
        if not line.sku:
            problems.append(f"line {line.line_no} ({line.name!r}) has no SKU")
            continue
        known = found.get(line.sku)
        refusal = catalog.sale_refusal(line.sku, known=known is not None, active=bool(known and known.active))
        if refusal is not None:
            problems.append(f"{refusal[1]} (line {line.line_no})")
    return problems


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


class _Allocated:
    """An allocation as the order view reads it (shape of a reservations query row)."""

    __slots__ = ("code", "quantity", "status", "warehouse_id")

    def __init__(self, warehouse_id: uuid.UUID, code: str, quantity: int) -> None:
        self.warehouse_id, self.code, self.quantity, self.status = warehouse_id, code, quantity, "active"


def finish(session: AsyncSession, actor: Principal, draft: Draft, holds: Sequence[Hold]) -> Order:
    """The placed order's view, with its ``order.created`` and ``order.confirmed`` events recorded."""
    allocations: dict[uuid.UUID, list[Any]] = {}
    for hold in holds:
        if hold.order_line_id is not None:
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


def _columns(row: Any) -> dict[str, Any]:
    """Column values of a transient ORM row, for a Core INSERT (keeps the hot path to one statement)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
