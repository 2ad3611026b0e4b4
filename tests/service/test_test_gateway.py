"""The built-in test gateway on a real database: its test cards, the state it keeps across transactions (and so
across API processes), its refusals, and idempotent answers."""

from __future__ import annotations

import pytest

from oms_api.integrations.payments.base import GatewayStatus, GatewayTimeout
from oms_api.integrations.payments.testing import TestGateway
from oms_api.kit.money import Money
from tests.service.conftest import Transaction

EUR = "EUR"


def eur(amount: str) -> Money:
    return Money.of(amount, EUR)


async def authorized(tx: Transaction, card: str = "4242424242424242", key: str = "a1") -> str:
    async with tx() as session:
        result = await TestGateway(session).authorize(eur("30.00"), card, key, {})
    assert result.status == GatewayStatus.SUCCEEDED, result
    assert result.reference is not None
    return result.reference


async def test_it_refuses_to_capture_more_than_authorised_and_to_refund_more_than_captured(tx: Transaction) -> None:
    reference = await authorized(tx)
    async with tx() as session:  # another transaction, as another process would be
        gateway = TestGateway(session)
        too_much = await gateway.capture(reference, eur("30.01"), "c1", final=False)
        part = await gateway.capture(reference, eur("20.00"), "c2", final=False)
        over = await gateway.capture(reference, eur("10.01"), "c3", final=False)
        rest = await gateway.capture(reference, eur("10.00"), "c4", final=True)
    assert (too_much.status, too_much.error_code) == (GatewayStatus.FAILED, "amount_too_large")
    assert (part.status, part.amount) == (GatewayStatus.SUCCEEDED, eur("20.00"))
    assert (over.status, over.error_code) == (GatewayStatus.FAILED, "amount_too_large")
    assert rest.status == GatewayStatus.SUCCEEDED
    async with tx() as session:
        gateway = TestGateway(session)
        refund = await gateway.refund(reference, eur("25.00"), "r1", "broken")
        too_far = await gateway.refund(reference, eur("5.01"), "r2", "again")
        last = await gateway.refund(reference, eur("5.00"), "r3", "again")
        after_final = await gateway.capture(reference, eur("0.01"), "c5", final=True)
    assert (refund.status, too_far.error_code, last.status) == (
        GatewayStatus.SUCCEEDED,
        "amount_too_large",
        GatewayStatus.SUCCEEDED,
    )
    assert (after_final.status, after_final.error_code) == (GatewayStatus.FAILED, "payment_intent_unexpected_state")


async def test_a_repeated_key_gets_the_first_answer_and_acts_once(tx: Transaction) -> None:
    reference = await authorized(tx)
    async with tx() as session:
        first = await TestGateway(session).capture(reference, eur("10.00"), "same", final=False)
    async with tx() as session:
        again = await TestGateway(session).capture(reference, eur("25.00"), "same", final=False)
        rest = await TestGateway(session).capture(reference, eur("20.00"), "other", final=True)
    assert again == first
    assert rest.status == GatewayStatus.SUCCEEDED  # 20.00 was still capturable: the repeat took nothing


@pytest.mark.parametrize(
    ("card", "code"),
    [
        ("4000000000000002", "card_declined"),
        ("4000000000009995", "insufficient_funds"),
        ("4111111111111111", "invalid_payment_method"),
    ],
)
async def test_declining_cards(tx: Transaction, card: str, code: str) -> None:
    async with tx() as session:
        result = await TestGateway(session).authorize(eur("30.00"), card, f"k-{card}", {})
    assert (result.status, result.error_code, result.reference) == (GatewayStatus.FAILED, code, None)


async def test_the_3d_secure_card_requires_action_and_is_approved_on_confirm(tx: Transaction) -> None:
    async with tx() as session:
        waiting = await TestGateway(session).authorize(eur("30.00"), "4000002500003155", "a3ds", {})
    assert waiting.status == GatewayStatus.REQUIRES_ACTION
    assert waiting.reference is not None
    async with tx() as session:
        gateway = TestGateway(session)
        early = await gateway.capture(waiting.reference, eur("1.00"), "early", final=True)
        confirmed = await gateway.confirm(waiting.reference, "conf")
        captured = await gateway.capture(waiting.reference, eur("30.00"), "cap", final=True)
    assert early.error_code == "payment_intent_unexpected_state"
    assert (confirmed.status, confirmed.method_summary) == (GatewayStatus.SUCCEEDED, "card •••• 3155")
    assert captured.status == GatewayStatus.SUCCEEDED


async def test_the_time_out_card_acts_but_does_not_answer_until_asked_again(tx: Transaction) -> None:
    async with tx() as session:
        with pytest.raises(GatewayTimeout):
            await TestGateway(session).authorize(eur("30.00"), "4000000000000119", "slow", {})
    async with tx() as session:
        answer = await TestGateway(session).authorize(eur("30.00"), "4000000000000119", "slow", {})
    assert answer.status == GatewayStatus.SUCCEEDED
    assert answer.reference is not None
    async with tx() as session:
        with pytest.raises(GatewayTimeout):
            await TestGateway(session).capture(answer.reference, eur("30.00"), "slow-capture", final=True)
    async with tx() as session:
        gateway = TestGateway(session)
        captured = await gateway.capture(answer.reference, eur("30.00"), "slow-capture", final=True)
        with pytest.raises(GatewayTimeout):  # every operation's first call on this card
            await gateway.refund(answer.reference, eur("30.01"), "slow-refund", "r")
        nothing_left = await gateway.refund(answer.reference, eur("30.01"), "slow-refund", "r")
    assert captured.status == GatewayStatus.SUCCEEDED
    assert nothing_left.error_code == "amount_too_large"  # captured once: 30.00, not 60.00


async def test_a_void_releases_the_uncaptured_rest(tx: Transaction) -> None:
    reference = await authorized(tx)
    async with tx() as session:
        gateway = TestGateway(session)
        await gateway.capture(reference, eur("12.00"), "part", final=False)
        void = await gateway.void(reference, "v1")
        late = await gateway.capture(reference, eur("1.00"), "late", final=True)
    assert (void.status, void.amount) == (GatewayStatus.SUCCEEDED, eur("18.00"))
    assert late.error_code == "payment_intent_unexpected_state"
