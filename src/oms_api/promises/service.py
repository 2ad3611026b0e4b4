"""Delivery promises: the options a storefront can show at checkout, before the order exists.

The promise plans the lines with the same sourcing engine and channel policy that will allocate the
order (``allocation.domain.source`` over the same stock picture, without reserving anything), then prices
each planned shipment with every carrier service's rate table. A service is offered when it serves every
shipment of the plan; its price is their sum and its dates are those of the last one to leave and arrive
(cut-off times and pickup days applied). Warehouses that hold everything are offered for click-and-collect.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.allocation import domain as allocation
from oms_api.allocation import service as sourcing
from oms_api.carriers import domain as carrier_rules
from oms_api.carriers import service as carriers
from oms_api.carriers.domain import Quote, RateRequest, ShippingChoice
from oms_api.catalog import service as catalog
from oms_api.channels import service as channels
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import field_error
from oms_api.kit.money import is_currency
from oms_api.kit.schemas import Money as MoneyOut
from oms_api.promises.schemas import (
    DeliveryPromise,
    DeliveryPromiseRequest,
    PickupOption,
    PromisedShipment,
    PromiseLine,
    PromiseOption,
    PromisePart,
    PromiseShortage,
)
from oms_api.settings import Settings
from oms_api.stock import service as stock
from oms_api.stock.service import LevelFacts


def _pickup(
    levels: Sequence[LevelFacts], wanted: dict[uuid.UUID, int], allowed: frozenset[str]
) -> list[tuple[uuid.UUID, str]]:
    """Active warehouses (allowed by the channel) whose stock above safety stock covers every line now."""
    held: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(dict)
    codes: dict[uuid.UUID, str] = {}
    for level in levels:
        if not level.active or (allowed and level.warehouse_code not in allowed):
            continue
        held[level.warehouse_id][level.sku_id] = max(level.available - max(level.safety_stock, 0), 0)
        codes[level.warehouse_id] = level.warehouse_code
    able = [wid for wid, per in held.items() if all(per.get(sku, 0) >= qty for sku, qty in wanted.items())]
    return sorted(((wid, codes[wid]) for wid in able), key=lambda item: item[1])


async def promise(session: AsyncSession, body: DeliveryPromiseRequest, settings: Settings) -> DeliveryPromise:
    channel = channels.check_selling(await channels.find_channel(session, body.channel), body.channel, inactive_ok=True)
    currency = body.currency or channel.default_currency
    if not is_currency(currency):
        raise field_error("/body/currency", f"{currency!r} is not an ISO 4217 currency code", "invalid_currency")
    found = await stock.load_candidates(session, [line.sku for line in body.lines])
    active = {sku: s.active for sku, s in found.items()}
    catalog.check_sellable(((f"/body/lines/{i}/sku", line.sku) for i, line in enumerate(body.lines)), active)
    requests = [
        allocation.LineRequest(i + 1, found[line.sku].sku_id, line.quantity) for i, line in enumerate(body.lines)
    ]
    labels = {found[line.sku].sku_id: line.sku for line in body.lines}
    wanted: dict[uuid.UUID, int] = defaultdict(int)
    for request in requests:
        wanted[request.sku_id] += request.quantity

    address = body.destination.model_dump(mode="json", exclude_none=True)
    destination = await sourcing.destination_of(address)
    policy = sourcing.policy_of(channel.sourcing, settings)
    levels = await stock.load_levels(session, list(labels), lock=False)
    sites, holdings, _ = sourcing.picture(levels)
    plan = allocation.source(requests, sites, holdings, destination, policy, labels=labels)
    summary = plan.explanation.summary if plan.explanation else None
    ready_at = body.order_at or utcnow()
    pickup = [
        PickupOption(warehouse=code, warehouse_id=wid, ready_date=ready_at.date())
        for wid, code in _pickup(levels, wanted, policy.allowed_warehouses)
    ]
    if not plan.complete:
        return DeliveryPromise(
            currency=currency,
            available=False,
            sourcing=summary,
            shipments=[],
            options=[],
            pickup=pickup,
            shortages=[
                PromiseShortage(sku=labels.get(s.sku_id, str(s.sku_id)), requested=s.requested, available=s.available)
                for s in plan.shortages
            ],
        )

    weights = {sku_id: (await catalog.get_sku(session, code)).weight_g for sku_id, code in labels.items()}
    groups: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for a in plan.allocations:
        per = groups.setdefault(a.warehouse_id, defaultdict(int))
        per[a.sku_id] += a.quantity
    shipments, rate_requests = [], []
    for warehouse_id, quantities in groups.items():
        warehouse = await stock.get_warehouse(session, str(warehouse_id))
        weight = sum(qty * weights[sku_id] for sku_id, qty in quantities.items())
        shipments.append(
            PromisedShipment(
                warehouse=warehouse.code,
                warehouse_id=warehouse.id,
                lines=[PromiseLine(sku=labels[sku_id], quantity=qty) for sku_id, qty in quantities.items()],
                weight_g=weight,
            )
        )
        rate_requests.append(
            RateRequest(
                origin_country=(warehouse.address or {}).get("country"),
                country=body.destination.country,
                postal_code=body.destination.postal_code,
                parcels=[weight],
                currency=currency,
                ready_at=ready_at,
            )
        )
    per_shipment = await carriers.quote_many(session, rate_requests)
    return DeliveryPromise(
        currency=currency,
        available=True,
        sourcing=summary,
        shipments=shipments,
        options=_options(shipments, per_shipment, body.choice or ShippingChoice.CHEAPEST, body),
        pickup=pickup,
        shortages=[],
    )


def _options(
    shipments: Sequence[PromisedShipment],
    per_shipment: Sequence[Sequence[Quote]],
    choice: ShippingChoice,
    body: DeliveryPromiseRequest,
) -> list[PromiseOption]:
    """Services that serve every shipment, combined; the policy's pick is recommended."""
    offers = [{(q.carrier, q.service): q for q in quotes} for quotes in per_shipment]
    common = set(offers[0]).intersection(*offers[1:]) if offers else set()
    parts = {key: [offer[key] for offer in offers] for key in common}
    combined = {key: carrier_rules.combine(quotes) for key, quotes in parts.items()}
    ranked = carrier_rules.ranked(combined.values())
    by_quote = {id(q): key for key, q in combined.items()}
    return [
        PromiseOption(
            **carriers.quote_fields(q),
            on_time=on_time,
            recommended=picked,
            parts=[
                PromisePart(
                    warehouse=shipment.warehouse,
                    price=MoneyOut.of(part.price),
                    ship_date=part.ship_date,
                    delivery_date=part.delivery_date,
                )
                for shipment, part in zip(shipments, parts[by_quote[id(q)]], strict=True)
            ],
        )
        for q, on_time, picked in carriers.options(ranked, choice, body.deliver_by)
    ]
