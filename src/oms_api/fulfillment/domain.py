"""Shipment rules (pure): the shipment state machine and how an order's status rolls up from its shipments.

A shipment leaves one warehouse for one order. Delivery shipments go ``pending → picking → packed →
shipped → in_transit → out_for_delivery → delivered``; the carrier may report an ``exception`` (and
recover from it) or send the parcel back (``returned_to_sender``). Click-and-collect shipments are
prepared the same way but end ``ready_for_pickup → picked_up`` at the warehouse. Before stock leaves
(``shipped`` or ``picked_up``) a shipment may be ``cancelled``, which gives its reserved stock back.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class ShipmentStatus(StrEnum):
    PENDING = "pending"
    PICKING = "picking"
    PACKED = "packed"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERED = "delivered"
    EXCEPTION = "exception"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"
    READY_FOR_PICKUP = "ready_for_pickup"
    PICKED_UP = "picked_up"


S = ShipmentStatus

_CARRIER_LEG = frozenset({S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.DELIVERED, S.EXCEPTION, S.RETURNED_TO_SENDER})

DELIVERY_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.PENDING: frozenset({S.PICKING, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.CANCELLED}),
    S.PACKED: frozenset({S.SHIPPED, S.PICKING, S.CANCELLED}),
    S.SHIPPED: _CARRIER_LEG,
    S.IN_TRANSIT: _CARRIER_LEG - {S.IN_TRANSIT},
    S.OUT_FOR_DELIVERY: _CARRIER_LEG - {S.OUT_FOR_DELIVERY},
    S.EXCEPTION: _CARRIER_LEG - {S.EXCEPTION},
    S.DELIVERED: frozenset(),
    S.RETURNED_TO_SENDER: frozenset(),
    S.CANCELLED: frozenset(),
}
PICKUP_TRANSITIONS: dict[ShipmentStatus, frozenset[ShipmentStatus]] = {
    S.PENDING: frozenset({S.PICKING, S.READY_FOR_PICKUP, S.CANCELLED}),
    S.PICKING: frozenset({S.PACKED, S.READY_FOR_PICKUP, S.CANCELLED}),
    S.PACKED: frozenset({S.READY_FOR_PICKUP, S.PICKING, S.CANCELLED}),
    S.READY_FOR_PICKUP: frozenset({S.PICKED_UP, S.CANCELLED}),
    S.PICKED_UP: frozenset(),
    S.CANCELLED: frozenset(),
}

#: Stock is still reserved at the warehouse: the shipment may be cancelled and its stock released.
BEFORE_DISPATCH = frozenset({S.PENDING, S.PICKING, S.PACKED, S.READY_FOR_PICKUP})
#: The goods have left the warehouse (on_hand dropped).
DISPATCHED = frozenset(
    {S.SHIPPED, S.IN_TRANSIT, S.OUT_FOR_DELIVERY, S.EXCEPTION, S.DELIVERED, S.RETURNED_TO_SENDER, S.PICKED_UP}
)
#: The customer has the goods.
RECEIVED = frozenset({S.DELIVERED, S.PICKED_UP})
#: Moves that take the goods out of the warehouse: stock on_hand and reserved drop.
DISPATCHING = frozenset({S.SHIPPED, S.PICKED_UP})


def transitions(pickup: bool) -> dict[ShipmentStatus, frozenset[ShipmentStatus]]:
    return PICKUP_TRANSITIONS if pickup else DELIVERY_TRANSITIONS


def allowed(current: ShipmentStatus, pickup: bool) -> list[ShipmentStatus]:
    """The statuses a shipment may move to next, sorted."""
    return sorted(transitions(pickup).get(current, frozenset()))


class IllegalShipmentTransition(Exception):
    """The shipment cannot move from its status to the requested one."""

    def __init__(self, current: ShipmentStatus, target: ShipmentStatus, pickup: bool) -> None:
        self.current, self.target = current, target
        self.allowed = allowed(current, pickup)
        kind = "A pickup shipment" if pickup else "A shipment"
        super().__init__(f"{kind} that is {current} cannot become {target}")


def transition(current: ShipmentStatus, target: ShipmentStatus, *, pickup: bool) -> ShipmentStatus:
    """``target`` if the lifecycle (delivery or pickup) allows it from ``current``."""
    if target not in transitions(pickup).get(current, frozenset()):
        raise IllegalShipmentTransition(current, target, pickup)
    return target


# --- what a carrier update means -------------------------------------------------------------------------------


def carrier_update_target(current: ShipmentStatus, reported: ShipmentStatus, *, pickup: bool) -> ShipmentStatus | None:
    """Where a carrier's report moves a dispatched shipment, or None when it changes nothing.

    Carriers resend and reorder updates: a report equal to the current status, or one the lifecycle
    does not allow from here (``in_transit`` after ``delivered``), is kept as history only.
    """
    if reported == current or pickup:
        return None
    if reported in transitions(pickup).get(current, frozenset()):
        return reported
    return None


# --- order roll-up ---------------------------------------------------------------------------------------------


class OrderProgress(StrEnum):
    """The part of the order lifecycle that shipments drive (names match ``orders.domain.OrderStatus``)."""

    ALLOCATED = "allocated"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


PROGRESS_RANK = {p: i for i, p in enumerate(OrderProgress)}


@dataclass(frozen=True, slots=True)
class ShipmentPart:
    """A shipment as the roll-up sees it: its status and how many units of each order line it carries."""

    status: ShipmentStatus
    quantities: Mapping[uuid.UUID, int]


def rollup(ordered: Mapping[uuid.UUID, int], shipments: Iterable[ShipmentPart]) -> OrderProgress:
    """How far the order has got, counted in units per line.

    Every unit of every line received by the customer: ``delivered``; every unit dispatched: ``shipped``;
    some unit dispatched: ``partially_shipped``; otherwise ``allocated``. Cancelled shipments carry
    nothing, so a part cancelled and not yet re-allocated keeps the order short of ``shipped``.
    """
    dispatched: dict[uuid.UUID, int] = defaultdict(int)
    received: dict[uuid.UUID, int] = defaultdict(int)
    for part in shipments:
        if part.status not in DISPATCHED:
            continue
        for line_id, quantity in part.quantities.items():
            dispatched[line_id] += quantity
            if part.status in RECEIVED:
                received[line_id] += quantity
    if not ordered or not any(dispatched.values()):
        return OrderProgress.ALLOCATED
    if all(received[line] >= qty for line, qty in ordered.items()):
        return OrderProgress.DELIVERED
    if all(dispatched[line] >= qty for line, qty in ordered.items()):
        return OrderProgress.SHIPPED
    return OrderProgress.PARTIALLY_SHIPPED


_PATH = {
    OrderProgress.ALLOCATED: OrderProgress.PARTIALLY_SHIPPED,
    OrderProgress.PARTIALLY_SHIPPED: OrderProgress.SHIPPED,
    OrderProgress.SHIPPED: OrderProgress.DELIVERED,
}


def progress_steps(current: OrderProgress, target: OrderProgress) -> list[OrderProgress]:
    """The order statuses to pass through, in order, to get from ``current`` to ``target``.

    The order lifecycle only moves forward one step at a time (allocated → shipped is allowed, but
    allocated → delivered goes through shipped); ``partially_shipped`` is skipped when everything
    left at once. A target at or behind ``current`` needs no step (roll-ups never go backwards).
    """
    if PROGRESS_RANK[target] <= PROGRESS_RANK[current]:
        return []
    steps: list[OrderProgress] = []
    at = current
    while at != target:
        at = _PATH[at]
        if at == OrderProgress.PARTIALLY_SHIPPED and target != at:
            continue
        steps.append(at)
    return steps


# --- creating shipments from reservations -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Held:
    """Stock reserved for an order line at a warehouse (active reservations, summed)."""

    warehouse_id: uuid.UUID
    order_line_id: uuid.UUID
    quantity: int


@dataclass(frozen=True, slots=True)
class Covered:
    """Units of an order line that an open (not yet dispatched, not cancelled) shipment already carries."""

    warehouse_id: uuid.UUID
    order_line_id: uuid.UUID
    quantity: int


def uncovered(held: Sequence[Held], covered: Sequence[Covered]) -> dict[uuid.UUID, dict[uuid.UUID, int]]:
    """Reserved units no open shipment carries yet, by warehouse then order line (what new shipments take)."""
    left: dict[tuple[uuid.UUID, uuid.UUID], int] = defaultdict(int)
    for h in held:
        left[(h.warehouse_id, h.order_line_id)] += h.quantity
    for c in covered:
        left[(c.warehouse_id, c.order_line_id)] -= c.quantity
    out: dict[uuid.UUID, dict[uuid.UUID, int]] = {}
    for (warehouse_id, line_id), quantity in sorted(left.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        if quantity > 0:
            out.setdefault(warehouse_id, {})[line_id] = quantity
    return out


def to_dispatch(quantity: int, short: int) -> int:
    """Units of a shipment line that leave when it ships: what was not reported short at pick time."""
    return max(quantity - short, 0)


@dataclass(frozen=True, slots=True)
class Report:
    """One tracking update, whoever sent it."""

    source: str
    carrier_status: str
    status: ShipmentStatus | None
    occurred_at: datetime
    description: str | None = None
    location: str | None = None
    estimated_delivery_date: date | None = None
    tracking_number: str | None = None
    package_id: uuid.UUID | None = None
