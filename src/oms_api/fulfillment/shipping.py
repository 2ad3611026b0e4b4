"""Shipping a shipment: rate it with every carrier service, choose and store a rate, hand it to the carrier.

Rating weighs the shipment's packages when it has been packed (one parcel per package), otherwise its
items as one parcel. Which option is chosen is the channel's policy (``shipping_choice``: cheapest,
fastest, or the cheapest that arrives by the promised date) unless the request names one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.carriers import domain as carrier_rules
from oms_api.carriers import service as carriers
from oms_api.carriers.domain import Quote, RateRequest, ShippingChoice
from oms_api.channels import service as channels
from oms_api.fulfillment import repository, shipments, views
from oms_api.fulfillment.domain import BEFORE_DISPATCH, ShipmentStatus
from oms_api.fulfillment.models import Package as PackageRow
from oms_api.fulfillment.models import Shipment as ShipmentRow
from oms_api.fulfillment.schemas import RateOption, RateQuote, RatesRequest, SelectRateBody, ShipBody, Shipment
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, field_error
from oms_api.kit.ids import uuid7
from oms_api.kit.schemas import Address
from oms_api.orders import service as orders
from oms_api.orders.schemas import Order
from oms_api.stock import service as stock

if TYPE_CHECKING:  # rows another context's service hands out, read-only: named in annotations only
    from oms_api.orders.models import Order as OrderRow

S = ShipmentStatus


async def channel_choice(session: AsyncSession, channel_id: uuid.UUID) -> ShippingChoice:
    """The channel's shipping policy (cheapest when it sets none)."""
    channel = await channels.channel_by_id(session, channel_id)
    return ShippingChoice(channel.shipping_choice or ShippingChoice.CHEAPEST)


async def parcels_of(session: AsyncSession, shipment: ShipmentRow) -> list[int]:
    """Parcel weights in grams: the packages' when packed, otherwise the items' as one parcel."""
    packages = (await repository.packages_of(session, [shipment.id])).get(shipment.id, [])
    weighed = [p.weight_g for p in packages if p.weight_g > 0]
    if weighed:
        return weighed
    return [sum(quantity * weight for quantity, weight in await repository.line_weights(session, shipment.id))]


@dataclass(frozen=True, slots=True)
class Route:
    """Where the order goes and in which currency it pays."""

    currency: str
    address: dict[str, Any]


def route_of(order: OrderRow | Order) -> Route:
    address = order.shipping_address
    if isinstance(address, Address):
        address = address.model_dump(mode="json")
    return Route(order.currency, dict(address or {}))


async def _request(
    session: AsyncSession, route: Route, shipment: ShipmentRow, parcels: Sequence[int], ready_at: datetime
) -> RateRequest:
    warehouse = await stock.get_warehouse(session, str(shipment.warehouse_id))
    return RateRequest(
        origin_country=(warehouse.address or {}).get("country"),
        country=str(route.address.get("country") or ""),
        postal_code=route.address.get("postal_code"),
        parcels=list(parcels),
        currency=route.currency,
        ready_at=ready_at,
    )


async def _quotes(
    session: AsyncSession, route: Route, shipment: ShipmentRow, ready_at: datetime | None
) -> tuple[RateRequest, list[Quote]]:
    parcels = await parcels_of(session, shipment)
    request = await _request(session, route, shipment, parcels, ready_at or utcnow())
    return request, await carriers.quote(session, request)


def _refuse_pickup(shipment: ShipmentRow) -> None:
    if shipment.pickup:
        raise Conflict(
            "A click-and-collect shipment is collected at the warehouse, not shipped", code="pickup_shipment"
        )


async def rates(session: AsyncSession, shipment_id: uuid.UUID, body: RatesRequest) -> RateQuote:
    """Every carrier option for the shipment with its price and delivery date; the policy's pick is flagged."""
    shipment = await shipments.get_row(session, shipment_id)
    _refuse_pickup(shipment)
    order = await orders.get_order(session, shipment.order_id)
    choice = body.choice or await channel_choice(session, order.channel_id)
    deliver_by = body.deliver_by or shipment.promised_delivery_date
    request, quotes = await _quotes(session, route_of(order), shipment, body.ready_at)
    return RateQuote(
        shipment_id=shipment.id,
        currency=request.currency,
        destination_country=request.country,
        weight_g=sum(request.parcels),
        parcels=list(request.parcels),
        choice=choice,
        deliver_by=deliver_by,
        options=[
            RateOption(**carriers.quote_fields(q), on_time=on_time, recommended=picked)
            for q, on_time, picked in carriers.options(quotes, choice, deliver_by)
        ],
    )


async def select_rate(
    session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, body: SelectRateBody
) -> Shipment:
    """Store the chosen option (carrier, service, price, ship and delivery dates) on the shipment."""
    order, shipment = await shipments.lock(session, shipment_id)
    _refuse_pickup(shipment)
    if S(shipment.status) not in BEFORE_DISPATCH:
        raise Conflict(
            f"The shipment is {shipment.status}: its carrier can no longer change",
            code="shipment_dispatched",
            current_status=shipment.status,
        )
    deliver_by = body.deliver_by or shipment.promised_delivery_date
    _, quotes = await _quotes(session, route_of(order), shipment, body.ready_at)
    if body.carrier is not None:
        matching = [q for q in quotes if q.carrier == body.carrier and body.service in (None, q.service)]
        if len(matching) != 1:
            what = f"{body.carrier}/{body.service}" if body.service else body.carrier
            detail = "serves" if not matching else "has several services for (name one)"
            raise field_error("/body/carrier", f"no single option {what} {detail} this shipment", "rate_unavailable")
        chosen, how = matching[0], "manual"
    else:
        choice = body.choice or await channel_choice(session, order.channel_id)
        picked = carrier_rules.choose(quotes, choice, deliver_by)
        if picked is None:
            raise Conflict("No active carrier service serves this shipment", code="no_rates")
        chosen, how = picked, choice.value
    shipment.carrier_code = chosen.carrier
    shipment.service_code = chosen.service
    shipment.shipping_price_minor = chosen.price.minor
    shipment.shipping_currency = chosen.price.currency
    shipment.shipping_choice = how
    shipment.promised_ship_date = chosen.ship_date
    shipment.promised_delivery_date = deliver_by or chosen.delivery_date
    shipment.estimated_delivery_date = chosen.delivery_date
    shipment.version += 1
    shipment.updated_at = utcnow()
    await session.flush()
    await orders.charge_selected_rate(session, actor, order.id, chosen.price)
    result = await views.view(session, shipment)
    views.record(session, actor, result, None, type_="shipment.updated", reason=f"rate selected ({how})")
    return result


# --- shipping --------------------------------------------------------------------------------------------------


def _duplicate_tracking(number: str) -> Conflict:
    return Conflict(
        f"Tracking number {number!r} belongs to another package",
        code="duplicate_tracking_number",
        tracking_number=number,
    )


async def _label_packages(session: AsyncSession, shipment: ShipmentRow, carrier: str, numbers: Sequence[str]) -> None:
    """Every package gets a tracking number: the given ones first, then the carrier port's."""
    if len(set(numbers)) != len(numbers):
        raise field_error("/body/tracking_numbers", "a tracking number is given twice", "duplicate_tracking_number")
    taken = await repository.taken_tracking_numbers(session, numbers)
    if taken:
        raise _duplicate_tracking(sorted(taken)[0])
    packages = (await repository.packages_of(session, [shipment.id])).get(shipment.id, [])
    given = list(numbers)
    for package in packages:
        if package.tracking_number is None and given:
            number = given.pop(0)
            if not await repository.set_tracking_number(session, package, number):
                raise _duplicate_tracking(number)
    now = utcnow()
    if not packages and not given:  # never packed: one parcel with everything
        weight = sum(q * w for q, w in await repository.line_weights(session, shipment.id))
        package = PackageRow(id=uuid7(), shipment_id=shipment.id, weight_g=weight, created_at=now, sealed_at=now)
        await repository.add_package(session, package)
        packages.append(package)
    for number in given:
        package = PackageRow(id=uuid7(), shipment_id=shipment.id, weight_g=0, tracking_number=number, created_at=now)
        if not await repository.add_package(session, package):
            raise _duplicate_tracking(number)
        packages.append(package)
    for package in packages:
        if package.tracking_number is None:
            issued = await carriers.issue_tracking_number(session, carrier, package.id)
            if issued is not None and not await repository.set_tracking_number(session, package, issued):
                raise _duplicate_tracking(issued)


async def _estimate(
    session: AsyncSession, order: OrderRow, shipment: ShipmentRow, carrier: str, service: str | None
) -> date | None:
    """Delivery date if the parcels leave now with this service (None when its table does not serve them)."""
    if service is None:
        return None
    table = await carriers.service_table(session, carrier, service)
    if table is None:
        return None
    request = await _request(session, route_of(order), shipment, await parcels_of(session, shipment), utcnow())
    offer = carrier_rules.quote(
        table,
        origin_country=request.origin_country,
        country=request.country,
        postal_code=request.postal_code,
        parcels=request.parcels,
        currency=request.currency,
        ready_at=request.ready_at,
    )
    if offer is None:  # other currency or weight: the dates still hold without a price
        zone = carrier_rules.match_zone(table.zones, request.country, request.postal_code)
        if zone is None:
            return None
        transit = zone.transit_days if zone.transit_days is not None else table.transit_days
        leaves = carrier_rules.ship_date(request.ready_at, table.cutoff, table.timezone, table.pickup_days)
        return carrier_rules.add_business_days(leaves, transit)
    return offer.delivery_date


async def ship(session: AsyncSession, actor: Principal, shipment_id: uuid.UUID, body: ShipBody) -> Shipment:
    """Hand the shipment to the carrier: stock leaves, packages get tracking numbers, the ETA is set.

    ``shipment.shipped`` carries carrier, service, tracking numbers and the estimated delivery date.
    """
    order, shipment = await shipments.lock(session, shipment_id)
    shipments.check_workable(order)
    previous = shipments.move(shipment, S.SHIPPED)
    carrier = body.carrier or shipment.carrier_code
    if carrier is None:
        raise field_error("/body/carrier", "name the carrier, or select a rate first", "missing")
    service = body.service or (shipment.service_code if carrier == shipment.carrier_code else None)
    if (carrier, service) != (shipment.carrier_code, shipment.service_code):
        shipment.shipping_price_minor = None
        shipment.shipping_currency = None
        shipment.shipping_choice = "manual"
    shipment.carrier_code, shipment.service_code = carrier, service
    # Labels first: a refused tracking number then fails the request before the stock leaves and the shipment's
    # capture reaches the payment gateway (``dispatch_stock`` publishes ``ShipmentShipped``).
    await _label_packages(session, shipment, carrier, body.tracking_numbers)
    await shipments.dispatch_stock(session, actor, shipment)
    estimate = body.estimated_delivery_date or await _estimate(session, order, shipment, carrier, service)
    shipment.estimated_delivery_date = estimate or shipment.estimated_delivery_date
    await session.flush()
    await shipments.roll_up(session, actor, order)
    result = await views.view(session, shipment)
    views.record(session, actor, result, previous)
    return result
