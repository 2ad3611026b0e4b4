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
from oms_api.kit import bus
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.metrics import ORDERS_PLACED
from oms_api.orders import pricing, reading, repository
from oms_api.orders.domain import OrderStatus
from oms_api.orders.events import OrderPlaced
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
    credit_check: bool = False
    """The customer has (or may have) a credit limit: invoices' reaction to ``OrderPlaced`` may hold the order."""


async def _channel_and_customer(
    session: AsyncSession, actor: Principal, body: OrderCreate, channel: Channel | None, *, intake: bool
) -> tuple[Channel, uuid.UUID | None, bool | None, bool]:
    """The order's channel, customer id (422 naming the field otherwise), whether its destination has tax rates
    (None: not known) and whether its customer may have a credit limit (False only when known not to); one query
    when the order names an existing customer by id. An intake order's channel may have stopped selling: the
    order is then held."""
    customer = body.customer
    known: bool | None = None
    taxed: bool | None = None
    limited = True
    if channel is None:
        ref_id = customer.id if isinstance(customer, CustomerRef) else None
        first = await repository.channel_and_customer(session, body.channel, ref_id, body.shipping_address.country)
        channel, taxed = first.channel, first.destination_taxed
        known = first.customer_known if ref_id is not None else None
        limited = first.customer_credit_limited
    channel = channels.check_selling(channel, body.channel, inactive_ok=intake)
    if isinstance(customer, CustomerRef) and known is not None:
        if not known:
            raise field_error("/body/customer/id", "no customer has this id", "unknown_customer")
        return channel, customer.id, taxed, limited
    customer_id = await customers.customer_for(session, actor, customer)
    return channel, customer_id, taxed, customer_id is not None


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
    channel, customer_id, taxed, credit_check = await _channel_and_customer(
        session, actor, body, channel, intake=intake
    )
    codes = [line.sku for line in body.lines]
    levels = None
    if lock_stock:
        found, levels = await stock.lock_levels_by_code(session, codes)
    else:
        found = await stock.load_candidates(session, codes)
    if not intake:
        active = {sku: s.active for sku, s in found.items()}
        catalog_service.check_sellable(((f"/body/lines/{i}/sku", sku) for i, sku in enumerate(codes)), active)
    now = utcnow()
    priced = await pricing.price(session, body, channel, found, now.date(), destination_taxed=taxed)
    amounts, totals = priced.lines, priced.totals
    pickup_id = await _pickup_warehouse(session, body)
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
        prices_include_tax=priced.tax_included,
        shipping_tax_minor=priced.shipping_tax.minor,
        tax_breakdown=priced.breakdown,
        payment_status="unpaid",
        hold_type=None,
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
                cancelled_quantity=0,
                unit_price_minor=line.unit_price.to_money().minor,
                discount_minor=amounts[i].discount.minor,
                tax_rate=priced.rates[i],
                tax_category=priced.categories[i],
                tax_minor=amounts[i].tax.minor,
                total_minor=amounts[i].total.minor,
            )
        )
    return Draft(channel, order, lines, found, levels, credit_check)


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


async def placed(session: AsyncSession, actor: Principal, draft: Draft, body: OrderCreate, view: Order) -> Order:
    """Publish ``OrderPlaced`` (payments take the order's money by the channel's policy) and answer the order as
    it stands after: a failed or pending authorisation has put it on a payment hold.

    An ``external`` channel's order that brings no payment and whose customer has no credit limit changes nothing
    here, so the hot path reads nothing more; otherwise the order is read again after the reactions (a payment
    or a ``credit`` hold)."""
    order = draft.order
    payment = body.payment.model_dump(exclude_none=True) if body.payment else None
    await bus.publish(
        session,
        OrderPlaced(
            order.id,
            order.channel_id,
            order.external_ref,
            order.currency,
            order.grand_total_minor,
            payment,
            actor,
            draft.channel.payment_policy,
            order.customer_id,
            draft.credit_check,
        ),
    )
    if payment is None and draft.channel.payment_policy == "external" and not draft.credit_check:
        return view
    return await reading.view_of(session, await reading.load(session, order.id))


def _columns(row: Any) -> dict[str, Any]:
    """Column values of a transient ORM row, for a Core INSERT (keeps the hot path to one statement)."""
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}
