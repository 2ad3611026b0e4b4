"""Payment rules (pure): a payment's figures derived from its ledger, what may be captured or refunded, its
status, the order's payment status, a shipment's share, and the idempotency keys sent to gateways.

The ledger is append-only: every operation (an authorisation, a capture, a void, a refund) is a *request* entry,
then zero or more *outcome* entries pointing at it (succeeded, failed, pending, requires_action); the latest outcome
is the operation's state. Amounts are never stored twice: authorised, captured, refunded and voided are sums over
the ledger (Medusa's maintainers regret stored payment totals, medusajs/medusa#11356).

An operation whose outcome is unknown (no outcome yet, or ``pending``: the gateway did not answer) is counted
against what may still be done: a capture in doubt may have taken its amount, a refund in doubt may have given it
back. So nothing that depends on it can ever exceed what the gateway allows, whichever way it settles.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    AUTHORIZATION = "authorization"
    CAPTURE = "capture"
    VOID = "void"
    REFUND = "refund"


class Step(StrEnum):
    REQUESTED = "requested"  # the request entry: what was asked of the gateway, with its idempotency key
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"  # no answer yet (a time-out, or the gateway settles later): the worker asks again
    REQUIRES_ACTION = "requires_action"  # the customer must act (3-D Secure) before the authorisation holds


UNSETTLED = frozenset({Step.REQUESTED, Step.PENDING, Step.REQUIRES_ACTION})
IN_DOUBT = frozenset({Step.REQUESTED, Step.PENDING})
"""States whose money may or may not have moved at the gateway."""


class PaymentStatus(StrEnum):
    """A payment's status, derived from its ledger (stored on the payment row for the list filter only)."""

    PENDING = "pending"
    REQUIRES_ACTION = "requires_action"
    FAILED = "failed"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    CAPTURED = "captured"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class OrderPaymentStatus(StrEnum):
    UNPAID = "unpaid"
    AUTHORIZED = "authorized"
    PARTIALLY_CAPTURED = "partially_captured"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    OVERPAID = "overpaid"
    ON_TERMS = "on_terms"
    """Nothing was asked of a gateway: the order is invoiced and paid by its customer's payment terms."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger row, as the rules need it (ids are time-ordered: a later entry has a larger id)."""

    id: uuid.UUID
    kind: Kind
    step: Step
    amount_minor: int
    request_id: uuid.UUID | None = None
    final: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """A request and where it stands: its latest outcome (``REQUESTED`` while it has none)."""

    request: Entry
    state: Step
    amount_minor: int
    """What it moved when it succeeded (the outcome's amount), else what it asked."""

    @property
    def kind(self) -> Kind:
        return self.request.kind


def operations(entries: Iterable[Entry]) -> list[Operation]:
    """The ledger's operations in the order they were asked, each with its latest outcome."""
    ordered = sorted(entries, key=lambda e: e.id)
    requests = {e.id: e for e in ordered if e.request_id is None}
    latest: dict[uuid.UUID, Entry] = {}
    for entry in ordered:
        if entry.request_id is not None and entry.request_id in requests:
            latest[entry.request_id] = entry
    found = []
    for request_id, request in requests.items():
        outcome = latest.get(request_id)
        if outcome is None:
            found.append(Operation(request, Step.REQUESTED, request.amount_minor))
        else:
            amount = outcome.amount_minor if outcome.step == Step.SUCCEEDED else request.amount_minor
            found.append(Operation(request, outcome.step, amount))
    return found


@dataclass(frozen=True, slots=True)
class Figures:
    """A payment's money, derived from its ledger, in minor units of its currency."""

    authorized: int = 0
    captured: int = 0
    refunded: int = 0
    voided: int = 0
    capture_in_doubt: int = 0
    refund_in_doubt: int = 0
    closed: bool = False
    """A void or a final capture succeeded (or may have: one is in doubt): nothing more can be captured."""
    voiding: bool = False
    """A void succeeded or is in doubt."""
    authorization: Step | None = None
    """The state of the latest authorisation (None: there is none)."""

    @property
    def capturable(self) -> int:
        """What may still be captured: authorised, less captured and in doubt; nothing once closed."""
        if self.closed:
            return 0
        return max(self.authorized - self.captured - self.capture_in_doubt, 0)

    @property
    def refundable(self) -> int:
        """What may still be refunded: captured, less refunded and in doubt. Never more than captured."""
        return max(self.captured - self.refunded - self.refund_in_doubt, 0)

    @property
    def in_doubt(self) -> bool:
        return bool(self.capture_in_doubt or self.refund_in_doubt)


def figures(entries: Iterable[Entry]) -> Figures:
    authorized = captured = refunded = voided = capture_doubt = refund_doubt = 0
    closed = voiding = False
    authorization: Step | None = None
    for op in operations(entries):
        done, doubt = op.state == Step.SUCCEEDED, op.state in IN_DOUBT
        if op.kind == Kind.AUTHORIZATION:
            authorization = op.state
            authorized += op.amount_minor if done else 0
        elif op.kind == Kind.CAPTURE:
            captured += op.amount_minor if done else 0
            capture_doubt += op.amount_minor if doubt else 0
            closed = closed or (op.request.final and (done or doubt))
        elif op.kind == Kind.VOID:
            voided += op.amount_minor if done else 0
            voiding = voiding or done or doubt
            closed = closed or voiding
        else:
            refunded += op.amount_minor if done else 0
            refund_doubt += op.amount_minor if doubt else 0
    return Figures(authorized, captured, refunded, voided, capture_doubt, refund_doubt, closed, voiding, authorization)


def payment_status(f: Figures) -> PaymentStatus:
    """- nothing authorised: as its authorisation stands (pending, requires_action or failed), ``voided`` when a
      void released it first;
    - refunds: ``refunded`` once all that was captured went back, else ``partially_refunded``;
    - captures: ``captured`` when nothing more can be captured (all of it, or a final capture or a void released
      the rest), else ``partially_captured``;
    - otherwise ``voided`` when a void released it (or may have), else ``authorized`` (also while a capture's
      outcome is unknown: ``pending`` on the payment says so)."""
    if f.authorized == 0 and f.captured == 0:
        if f.voiding or f.authorization == Step.SUCCEEDED:
            return PaymentStatus.VOIDED
        if f.authorization == Step.REQUIRES_ACTION:
            return PaymentStatus.REQUIRES_ACTION
        return PaymentStatus.FAILED if f.authorization == Step.FAILED else PaymentStatus.PENDING
    if f.refunded > 0:
        return PaymentStatus.REFUNDED if f.refunded >= f.captured else PaymentStatus.PARTIALLY_REFUNDED
    if f.captured > 0:
        return (
            PaymentStatus.CAPTURED if f.capturable == 0 and not f.capture_in_doubt else PaymentStatus.PARTIALLY_CAPTURED
        )
    return PaymentStatus.VOIDED if f.voiding else PaymentStatus.AUTHORIZED


def order_payment_status(due_minor: int, payments: Sequence[Figures]) -> OrderPaymentStatus:
    """The order's payment status from all its payments and what it owes (``due_minor``, see ``due``):

    - ``unpaid``: nothing captured and nothing authorised that could still be;
    - ``authorized``: nothing captured, something authorised that can be;
    - ``overpaid``: what was kept (captured less refunded) is more than the order owes;
    - ``refunded``: everything captured went back; ``partially_refunded``: some of it did;
    - ``paid``: what was captured covers what the order owes;
    - ``partially_captured``: some was captured, less than the order owes.
    """
    captured = sum(f.captured for f in payments)
    refunded = sum(f.refunded for f in payments)
    if captured == 0:
        return OrderPaymentStatus.AUTHORIZED if any(f.capturable for f in payments) else OrderPaymentStatus.UNPAID
    if captured - refunded > due_minor:
        return OrderPaymentStatus.OVERPAID
    if refunded > 0:
        return OrderPaymentStatus.REFUNDED if refunded >= captured else OrderPaymentStatus.PARTIALLY_REFUNDED
    if captured >= due_minor:
        return OrderPaymentStatus.PAID
    return OrderPaymentStatus.PARTIALLY_CAPTURED


# --- what an order owes, and what each shipment captures ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineValue:
    """An order line's value: its total (after discount, with its tax) for ``quantity`` units."""

    quantity: int
    total_minor: int
    cancelled: int = 0


def units_value(line: LineValue, units: int) -> int:
    """The value of ``units`` of a line, pro rata per unit, rounded half up to the minor unit."""
    if line.quantity <= 0 or units <= 0:
        return 0
    return (2 * line.total_minor * units + line.quantity) // (2 * line.quantity)


def shipping_value(grand_total_minor: int, lines: Iterable[LineValue]) -> int:
    """What the order charges beyond its lines (shipping and its tax): the grand total less the lines' totals."""
    return max(grand_total_minor - sum(line.total_minor for line in lines), 0)


def due(grand_total_minor: int, lines: Iterable[LineValue]) -> int:
    """What the order owes: its grand total less the value of the units cancelled after part of it shipped."""
    return max(grand_total_minor - sum(units_value(line, line.cancelled) for line in lines), 0)


def shipment_share(
    shipped: Mapping[uuid.UUID, int], lines: Mapping[uuid.UUID, LineValue], shipping_minor: int, first: bool
) -> int:
    """The value a shipment carries: its units of each line, pro rata, plus the shipping with the first one."""
    value = sum(units_value(lines[line_id], units) for line_id, units in shipped.items() if line_id in lines)
    return value + (shipping_minor if first else 0)


def shipment_capture(share: int, outstanding: int, fully_shipped: bool) -> tuple[int, bool]:
    """(amount, final) a shipment captures: its share (never more than the order still owes), or, by the shipment
    that completes the order, exactly what it still owes, as the final capture (no rounding left behind)."""
    if fully_shipped:
        return max(outstanding, 0), True
    return max(min(share, outstanding), 0), False


def allocate(amount: int, capturable: Sequence[int]) -> list[int]:
    """Split ``amount`` over payments by what each can still capture, oldest first."""
    parts, left = [], amount
    for can in capturable:
        take = min(can, left)
        parts.append(take)
        left -= take
    return parts


# --- keys and methods -------------------------------------------------------------------------------------------


def gateway_key(payment_id: uuid.UUID, kind: Kind, *parts: str) -> str:
    """The idempotency key sent to the gateway, derived from the OMS operation (``pay_<id>:capture:shipment:<id>``):
    the same operation always sends the same key, so a retried call never acts twice."""
    return ":".join((f"pay_{payment_id}", kind.value, *parts))


def client_key_part(actor: str, client_key: str) -> str:
    """The part of a gateway key that a client's ``Idempotency-Key`` gives (digested: any length, any caller)."""
    return "k" + hashlib.sha256(f"{actor}\n{client_key}".encode()).hexdigest()[:32]


def method_summary(method: str) -> str:
    """What the OMS keeps of a payment method: a card number's last four digits, or the gateway's token."""
    if method.isdigit():
        return f"card •••• {method[-4:]}"
    return method[:100]
