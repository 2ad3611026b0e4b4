"""The Stripe adapter against recorded exchanges of Stripe's API (a local stub, never the internet): the requests
it sends (path, form fields, Idempotency-Key) and how it reads Stripe's answers and webhooks."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from oms_api.integrations.payments.base import (
    GatewayNotConfigured,
    GatewayStatus,
    GatewayTimeout,
    InvalidSignature,
)
from oms_api.integrations.payments.stripe_gateway import StripeGateway
from oms_api.kit.money import Money
from tests.support.stripe_stub import StripeStub, fixture, sign

PI = "pi_3QxOms2eZvKYlo2C1qQ7kA2d"
SECRET = "whsec_test_5f1c0a"


@pytest.fixture
def stub() -> Iterator[StripeStub]:
    server = StripeStub().start()
    yield server
    server.stop()


def gateway(stub: StripeStub, **kwargs: str | None) -> StripeGateway:
    options = {"api_key": "sk_test_oms", "webhook_secret": SECRET, **kwargs}
    return StripeGateway(options["api_key"], options["webhook_secret"], api_base=stub.url, timeout_seconds=5)


EUR30 = Money.of("30.00", "EUR")


async def test_authorising_creates_and_confirms_a_manual_capture_payment_intent(stub: StripeStub) -> None:
    stub.on("POST", "/v1/payment_intents", fixture("payment_intent_requires_capture"))
    result = await gateway(stub).authorize(EUR30, "pm_card_visa", "ord_1:authorization:placement", {"order_id": "o-1"})
    assert (result.status, result.reference, result.amount) == (GatewayStatus.SUCCEEDED, PI, EUR30)
    assert result.method_summary == "visa •••• 4242"
    [sent] = stub.requests
    assert (sent.method, sent.path) == ("POST", "/v1/payment_intents")
    assert sent.headers["idempotency-key"] == "ord_1:authorization:placement"
    assert sent.headers["authorization"] == "Bearer sk_test_oms"
    assert sent.form == {
        "amount": "3000",
        "currency": "eur",
        "payment_method": "pm_card_visa",
        "confirm": "true",
        "capture_method": "manual",
        "automatic_payment_methods[enabled]": "true",
        "automatic_payment_methods[allow_redirects]": "never",
        "payment_method_options[card][request_multicapture]": "if_available",
        "metadata[order_id]": "o-1",
        "expand[0]": "latest_charge",
    }


async def test_a_payment_intent_that_needs_3d_secure_requires_action(stub: StripeStub) -> None:
    stub.on("POST", "/v1/payment_intents", fixture("payment_intent_requires_action"))
    result = await gateway(stub).authorize(EUR30, "pm_card_threeDSecure2Required", "k", {})
    assert (result.status, result.reference) == (GatewayStatus.REQUIRES_ACTION, "pi_3QxOmt2eZvKYlo2C0P3dsReq")


async def test_a_declined_card_is_a_failed_answer_with_stripes_decline_code(stub: StripeStub) -> None:
    stub.on("POST", "/v1/payment_intents", fixture("error_card_declined"), status=402)
    result = await gateway(stub).authorize(EUR30, "pm_card_visa_chargeDeclinedInsufficientFunds", "k", {})
    assert result.status == GatewayStatus.FAILED
    assert (result.error_code, result.error_message) == ("insufficient_funds", "Your card has insufficient funds.")
    assert result.reference == "pi_3QxOmu2eZvKYlo2C0dEc1ine"  # the failed intent, kept for the ledger


async def test_a_shipment_capture_keeps_the_rest_authorised_and_the_last_one_releases_it(stub: StripeStub) -> None:
    stub.on("POST", f"/v1/payment_intents/{PI}/capture", fixture("payment_intent_partially_captured"))
    part = await gateway(stub).capture(PI, Money.of("20.00", "EUR"), "pay_1:capture:shipment:s1", final=False)
    stub.on("POST", f"/v1/payment_intents/{PI}/capture", fixture("payment_intent_succeeded"))
    rest = await gateway(stub).capture(PI, Money.of("10.00", "EUR"), "pay_1:capture:shipment:s2", final=True)
    assert (part.status, part.amount, rest.status, rest.amount) == (
        GatewayStatus.SUCCEEDED,
        Money.of("20.00", "EUR"),
        GatewayStatus.SUCCEEDED,
        Money.of("10.00", "EUR"),
    )
    first, last = stub.requests
    assert first.form == {"amount_to_capture": "2000", "final_capture": "false"}
    assert first.headers["idempotency-key"] == "pay_1:capture:shipment:s1"
    assert last.form == {"amount_to_capture": "1000"}  # final: Stripe's default releases the rest
    assert last.headers["idempotency-key"] == "pay_1:capture:shipment:s2"


async def test_voiding_cancels_the_payment_intent(stub: StripeStub) -> None:
    stub.on("POST", f"/v1/payment_intents/{PI}/cancel", fixture("payment_intent_canceled"))
    result = await gateway(stub).void(PI, "pay_1:void:1")
    assert result.status == GatewayStatus.SUCCEEDED
    [sent] = stub.requests
    assert (sent.path, sent.form, sent.headers["idempotency-key"]) == (
        f"/v1/payment_intents/{PI}/cancel",
        {},
        "pay_1:void:1",
    )


async def test_refunds_name_the_payment_intent_the_amount_and_the_reason(stub: StripeStub) -> None:
    stub.on("POST", "/v1/refunds", fixture("refund_succeeded"))
    result = await gateway(stub).refund(PI, Money.of("10.00", "EUR"), "pay_1:refund:2", "a mug arrived broken")
    assert (result.status, result.amount) == (GatewayStatus.SUCCEEDED, Money.of("10.00", "EUR"))
    [sent] = stub.requests
    assert sent.form == {"payment_intent": PI, "amount": "1000", "metadata[reason]": "a mug arrived broken"}
    assert sent.headers["idempotency-key"] == "pay_1:refund:2"


async def test_no_answer_or_a_stripe_server_error_is_a_time_out_with_an_unknown_outcome(stub: StripeStub) -> None:
    stub.on("POST", f"/v1/payment_intents/{PI}/capture", drop=True)
    with pytest.raises(GatewayTimeout):
        await gateway(stub).capture(PI, EUR30, "k1", final=True)
    stub.on("POST", "/v1/refunds", {"error": {"type": "api_error", "message": "Something went wrong"}}, status=500)
    with pytest.raises(GatewayTimeout):
        await gateway(stub).refund(PI, EUR30, "k2", "r")
    assert len(stub.requests) == 2  # the library's own retries are off: the OMS repeats with the same key later


async def test_reading_an_intent_after_the_customer_acted(stub: StripeStub) -> None:
    stub.on("GET", f"/v1/payment_intents/{PI}", fixture("payment_intent_requires_capture"))
    result = await gateway(stub).confirm(PI, "unused")
    assert (result.status, result.amount) == (GatewayStatus.SUCCEEDED, EUR30)
    assert stub.requests[0].form == {"expand[0]": "latest_charge"}


async def test_without_an_api_key_nothing_is_sent(stub: StripeStub) -> None:
    with pytest.raises(GatewayNotConfigured):
        await gateway(stub, api_key=None).authorize(EUR30, "pm_card_visa", "k", {})
    assert stub.requests == []


def test_a_signed_event_is_read_and_a_forged_or_stale_one_is_refused(stub: StripeStub) -> None:
    payload = json.dumps(fixture("event_payment_intent_succeeded")).encode()
    event = gateway(stub).parse_webhook(payload, {"Stripe-Signature": sign(payload, SECRET)})
    assert (event.id, event.type, event.reference) == (
        "evt_3QxOmv2eZvKYlo2C1SuCceED",
        "payment_intent.succeeded",
        PI,
    )
    assert (event.amount, event.amount_received, event.amount_capturable) == (EUR30, EUR30, Money.of("0.00", "EUR"))
    for header in (
        sign(payload, "whsec_someone_else"),
        sign(payload + b" ", SECRET),
        sign(payload, SECRET, int(time.time()) - 301),  # outside the five-minute tolerance
        "",
    ):
        with pytest.raises(InvalidSignature):
            gateway(stub).parse_webhook(payload, {"Stripe-Signature": header})
    with pytest.raises(GatewayNotConfigured):
        gateway(stub, webhook_secret=None).parse_webhook(payload, {"Stripe-Signature": sign(payload, SECRET)})


def test_a_charge_refunded_event_names_its_payment_intent_and_the_amount_refunded(stub: StripeStub) -> None:
    payload = json.dumps(fixture("event_charge_refunded")).encode()
    event = gateway(stub).parse_webhook(payload, {"stripe-signature": sign(payload, SECRET)})
    assert (event.type, event.reference, event.amount_refunded) == (
        "charge.refunded",
        PI,
        Money.of("10.00", "EUR"),
    )
