"""The built-in test gateway: deterministic test cards, real state, idempotent answers.

Test cards (the method of ``authorize``; Stripe's numbers, so the same card means the same thing on both):

=====================  ========================================================================================
``4242424242424242``   approved (also the tokens ``pm_card_visa`` and ``tok_visa``)
``4000000000000002``   declined: ``card_declined``
``4000000000009995``   declined: ``insufficient_funds``
``4000002500003155``   ``requires_action`` (3-D Secure); ``confirm`` then approves it
``4000000000000119``   the gateway does not answer in time (``GatewayTimeout``) on the first call of every
                       operation on this payment, yet acts: the same call with the same key then answers what it did
=====================  ========================================================================================

Any other method is declined with ``invalid_payment_method``. The gateway keeps each payment's authorised,
captured and refunded amounts: it refuses to capture more than is authorised and uncaptured
(``amount_too_large``), to capture after a final capture or a void, and to refund more than was captured; a
repeated idempotency key is answered with the first answer, whatever the call says this time.

Why its state lives in the OMS's database, in the caller's transaction: several API processes and workers serve
one database, so state in memory would differ from process to process, and a separate store would be a second
system to run for a test double. The price is that the gateway's state rolls back with the OMS transaction that
called it, which a real gateway (another system) never does. That is acceptable for a test double, and the
ledger's rules do not depend on it: the payments context treats this gateway exactly like Stripe.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.payments import repository
from oms_api.integrations.payments.base import (
    GatewayEvent,
    GatewayResult,
    GatewayStatus,
    GatewayTimeout,
    MalformedEvent,
    card_summary,
)
from oms_api.integrations.payments.models import TestGatewayOperation, TestGatewayPayment
from oms_api.kit.clock import utcnow
from oms_api.kit.money import Money

APPROVE = "approve"
TIMEOUT = "timeout"
REQUIRES_ACTION = "requires_action"
TEST_CARDS: dict[str, str] = {
    "4242424242424242": APPROVE,
    "pm_card_visa": APPROVE,
    "tok_visa": APPROVE,
    "4000000000000002": "card_declined",
    "4000000000009995": "insufficient_funds",
    "4000002500003155": REQUIRES_ACTION,
    "4000000000000119": TIMEOUT,
}
"""Each test method and what it does (else: declined, ``invalid_payment_method``)."""
_DECLINE_MESSAGES = {
    "card_declined": "Your card was declined.",
    "insufficient_funds": "Your card has insufficient funds.",
    "invalid_payment_method": "This is not a test card of the test gateway.",
}


def _summary(method: str) -> str:
    return card_summary(method) if method.isdigit() else method[:40]


def _encode(result: GatewayResult) -> dict[str, Any]:
    return {
        "status": result.status.value,
        "reference": result.reference,
        "amount_minor": result.amount.minor if result.amount else None,
        "currency": result.amount.currency if result.amount else None,
        "error_code": result.error_code,
        "error_message": result.error_message,
        "method_summary": result.method_summary,
    }


def _decode(stored: Mapping[str, Any]) -> GatewayResult:
    amount = None
    if stored.get("amount_minor") is not None:
        amount = Money.from_minor(int(stored["amount_minor"]), str(stored["currency"]))
    return GatewayResult(
        status=GatewayStatus(stored["status"]),
        reference=stored.get("reference"),
        amount=amount,
        error_code=stored.get("error_code"),
        error_message=stored.get("error_message"),
        method_summary=stored.get("method_summary"),
    )


def _failed(code: str, message: str, reference: str | None = None) -> GatewayResult:
    return GatewayResult(GatewayStatus.FAILED, reference=reference, error_code=code, error_message=message)


class TestGateway:
    """The test gateway on the caller's session (see the module docstring for why)."""

    __test__ = False  # not a pytest test class
    name = "test"

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _answer(
        self, key: str, kind: str, reference: str | None, result: GatewayResult, times_out: bool
    ) -> GatewayResult:
        """Remember ``result`` under ``key``; a timing-out card then loses the answer on the way back."""
        repository.add(
            self.session,
            TestGatewayOperation(idempotency_key=key, kind=kind, reference=reference, response=_encode(result)),
        )
        await self.session.flush()
        if times_out:
            raise GatewayTimeout(f"the test gateway did not answer {kind} in time (test card 4000000000000119)")
        return result

    async def _replay(self, key: str) -> GatewayResult | None:
        done = await repository.operation(self.session, key)
        return _decode(done.response) if done is not None else None

    async def _payment(self, reference: str) -> TestGatewayPayment | None:
        return await repository.payment(self.session, reference)

    async def authorize(
        self, amount: Money, method: str, idempotency_key: str, metadata: Mapping[str, str]
    ) -> GatewayResult:
        replay = await self._replay(idempotency_key)
        if replay is not None:
            return replay
        behaviour = TEST_CARDS.get(method, "invalid_payment_method")
        if behaviour not in (APPROVE, TIMEOUT, REQUIRES_ACTION):
            result = _failed(behaviour, _DECLINE_MESSAGES[behaviour])
            return await self._answer(idempotency_key, "authorize", None, result, times_out=False)
        reference = f"tgw_{uuid.uuid4().hex}"
        now = utcnow()
        repository.add(
            self.session,
            TestGatewayPayment(
                reference=reference,
                currency=amount.currency,
                card_last4=method[-4:],
                status=REQUIRES_ACTION if behaviour == REQUIRES_ACTION else "authorized",
                authorized_minor=amount.minor,
                captured_minor=0,
                refunded_minor=0,
                times_out=behaviour == TIMEOUT,
                created_at=now,
                updated_at=now,
            ),
        )
        status = GatewayStatus.REQUIRES_ACTION if behaviour == REQUIRES_ACTION else GatewayStatus.SUCCEEDED
        result = GatewayResult(status, reference=reference, amount=amount, method_summary=_summary(method))
        return await self._answer(idempotency_key, "authorize", reference, result, times_out=behaviour == TIMEOUT)

    async def confirm(self, reference: str, idempotency_key: str) -> GatewayResult:
        """The customer passed the challenge: a ``requires_action`` authorisation is approved."""
        replay = await self._replay(idempotency_key)
        if replay is not None:
            return replay
        held = await self._payment(reference)
        if held is None:
            return _failed("resource_missing", f"No such payment: {reference}")
        if held.status == REQUIRES_ACTION:
            held.status, held.updated_at = "authorized", utcnow()
        if held.status != "authorized":
            result = _failed("payment_intent_unexpected_state", f"The payment is {held.status}", reference)
        else:
            result = GatewayResult(
                GatewayStatus.SUCCEEDED,
                reference=reference,
                amount=Money.from_minor(held.authorized_minor, held.currency),
                method_summary=card_summary(held.card_last4),
            )
        return await self._answer(idempotency_key, "confirm", reference, result, times_out=False)

    async def capture(self, reference: str, amount: Money, idempotency_key: str, final: bool) -> GatewayResult:
        replay = await self._replay(idempotency_key)
        if replay is not None:
            return replay
        held = await self._payment(reference)
        if held is None:
            return _failed("resource_missing", f"No such payment: {reference}")
        open_minor = held.authorized_minor - held.captured_minor
        if held.status != "authorized":
            result = _failed("payment_intent_unexpected_state", f"The payment is {held.status}", reference)
        elif amount.currency != held.currency or amount.minor <= 0:
            result = _failed("parameter_invalid", "The amount or currency is not that of the payment", reference)
        elif amount.minor > open_minor:
            result = _failed(
                "amount_too_large",
                f"{amount} is more than the {Money.from_minor(open_minor, held.currency)} still capturable",
                reference,
            )
        else:
            held.captured_minor += amount.minor
            held.status = "closed" if final or held.captured_minor == held.authorized_minor else "authorized"
            held.updated_at = utcnow()
            result = GatewayResult(GatewayStatus.SUCCEEDED, reference=reference, amount=amount)
        return await self._answer(idempotency_key, "capture", reference, result, times_out=held.times_out)

    async def void(self, reference: str, idempotency_key: str) -> GatewayResult:
        replay = await self._replay(idempotency_key)
        if replay is not None:
            return replay
        held = await self._payment(reference)
        if held is None:
            return _failed("resource_missing", f"No such payment: {reference}")
        if held.status not in ("authorized", REQUIRES_ACTION):
            result = _failed("payment_intent_unexpected_state", f"The payment is {held.status}", reference)
        else:
            released = held.authorized_minor - held.captured_minor if held.status == "authorized" else 0
            held.status, held.updated_at = "voided", utcnow()
            result = GatewayResult(
                GatewayStatus.SUCCEEDED, reference=reference, amount=Money.from_minor(released, held.currency)
            )
        return await self._answer(idempotency_key, "void", reference, result, times_out=held.times_out)

    async def refund(self, reference: str, amount: Money, idempotency_key: str, reason: str) -> GatewayResult:
        replay = await self._replay(idempotency_key)
        if replay is not None:
            return replay
        held = await self._payment(reference)
        if held is None:
            return _failed("resource_missing", f"No such payment: {reference}")
        refundable = held.captured_minor - held.refunded_minor
        if amount.currency != held.currency or amount.minor <= 0:
            result = _failed("parameter_invalid", "The amount or currency is not that of the payment", reference)
        elif amount.minor > refundable:
            result = _failed(
                "amount_too_large",
                f"{amount} is more than the {Money.from_minor(refundable, held.currency)} captured and not refunded",
                reference,
            )
        else:
            held.refunded_minor += amount.minor
            held.updated_at = utcnow()
            result = GatewayResult(GatewayStatus.SUCCEEDED, reference=reference, amount=amount)
        return await self._answer(idempotency_key, "refund", reference, result, times_out=held.times_out)

    def parse_webhook(self, payload: bytes, headers: Mapping[str, str]) -> GatewayEvent:
        """The test gateway answers every call at once: it sends no webhooks."""
        raise MalformedEvent("the test gateway sends no webhooks")
