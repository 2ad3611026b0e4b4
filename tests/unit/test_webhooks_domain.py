"""Webhook rules without a database: retry schedule and back-off, address classification, subscriptions,
the per-aggregate ordering rule, and the signature format as the ``standardwebhooks`` verifier sees it."""

from __future__ import annotations

import ipaddress
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks import Webhook, WebhookVerificationError

from oms_api.settings import Settings, parse_schedule
from oms_api.webhooks import domain, signing
from oms_api.webhooks.domain import AttemptOutcome, Breaker, Circuit, Queued

DEFAULT = parse_schedule(Settings.model_fields["webhooks_retry_schedule"].default)


# --- the retry schedule -----------------------------------------------------------------------------------------


def test_the_default_schedule_retries_for_about_three_days() -> None:
    window = domain.total_retry_window(DEFAULT)
    assert timedelta(days=2.5) < window < timedelta(days=3.5)
    assert list(DEFAULT) == sorted(DEFAULT)  # waits grow
    assert DEFAULT[0] <= 10  # the first retry comes quickly


def test_schedule_steps_take_units() -> None:
    assert parse_schedule("5s, 2m,1h ,1d,3") == (5, 120, 3600, 86_400, 3)
    assert parse_schedule("0.05s") == (0.05,)


@pytest.mark.parametrize("text", ["", "5x", "-1s", "0s", "8d", "1h,,2h", "soon"])
def test_a_bad_schedule_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="schedule"):
        parse_schedule(text)


def test_settings_refuse_a_bad_schedule() -> None:
    with pytest.raises(ValueError, match="retry schedule"):
        Settings(webhooks_retry_schedule="5 minutes")


def test_each_failed_attempt_waits_the_next_step_and_the_last_one_ends_the_delivery() -> None:
    schedule = (5.0, 60.0, 3600.0)
    waits = [domain.next_delay(n, schedule, jitter=0, random_unit=0.5) for n in (1, 2, 3, 4)]
    assert waits == [5.0, 60.0, 3600.0, None]


@given(attempt=st.integers(1, len(DEFAULT)), unit=st.floats(0, 1, exclude_max=True))
def test_jitter_stays_within_its_spread(attempt: int, unit: float) -> None:
    wait = domain.next_delay(attempt, DEFAULT, jitter=0.2, random_unit=unit)
    assert wait is not None
    base = DEFAULT[attempt - 1]
    assert base * 0.8 <= wait <= base * 1.2


def test_jitter_spreads_retries_of_many_deliveries() -> None:
    rng = random.Random(7)
    waits = {domain.next_delay(3, DEFAULT, jitter=0.2, random_unit=rng.random()) for _ in range(100)}
    assert len(waits) > 90


def test_retry_after_replaces_the_step_within_bounds() -> None:
    assert domain.next_delay(1, DEFAULT, jitter=0.2, random_unit=0.9, retry_after=120) == 120
    assert domain.next_delay(1, DEFAULT, jitter=0, random_unit=0, retry_after=0) == 1
    assert domain.next_delay(1, DEFAULT, jitter=0, random_unit=0, retry_after=10**9, retry_after_max=3600) == 3600
    assert domain.next_delay(len(DEFAULT) + 1, DEFAULT, jitter=0, random_unit=0, retry_after=5) is None


def test_retry_after_is_read_as_seconds_or_as_a_date() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert domain.parse_retry_after("30", now) == 30
    assert domain.parse_retry_after("Wed, 25 Nov 2026 12:02:00 GMT", now) == 120
    assert domain.parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now) == 0
    assert domain.parse_retry_after("soon", now) is None
    assert domain.parse_retry_after(None, now) is None


# --- addresses --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.251",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert domain.forbidden_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert domain.forbidden_reason(ipaddress.ip_address(address)) is None


def test_a_name_with_one_private_address_among_public_ones_is_refused() -> None:
    with pytest.raises(ValueError, match="private"):
        domain.check_addresses(["93.184.215.14", "10.0.0.7"], allow_private=False)
    assert len(domain.check_addresses(["93.184.215.14", "10.0.0.7"], allow_private=True)) == 2
    with pytest.raises(ValueError, match="no address"):
        domain.check_addresses([], allow_private=True)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com", "http"),
        ("https://", "host"),
        ("https://u:p@example.com", "credentials"),
        ("https://example.com/#x", "fragment"),
        ("https://exa mple.com", "spaces"),
        ("https://example.com:99999/", "valid URL"),
        ("https://" + "a" * 2050, "2048"),
        ("https://bad_host!.com", "host name"),
    ],
)
def test_malformed_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        domain.parse_url(url)


def test_a_url_names_its_port_and_literal_address() -> None:
    assert domain.parse_url("https://example.com/x") == domain.Target("https", "example.com", 443, None)
    target = domain.parse_url("http://[::1]:8080/x")
    assert (target.port, target.literal_ip) == (8080, ipaddress.ip_address("::1"))


# --- subscriptions ----------------------------------------------------------------------------------------------


def test_patterns_match_names_prefixes_and_everything() -> None:
    assert domain.matches(["*"], "order.created")
    assert domain.matches(["order.*"], "order.on_hold")
    assert not domain.matches(["order.*"], "orders_archive.created")
    assert domain.matches(["stock.changed"], "stock.changed")
    assert not domain.matches(["stock.changed"], "stock_level.updated")


def test_subscriptions_are_checked_against_the_catalogue() -> None:
    known = ["order.created", "order.cancelled", "stock.changed"]
    assert domain.check_patterns(["stock.changed", "order.*", "order.*"], known) == ["order.*", "stock.changed"]
    assert domain.check_patterns(["order.created", "*"], known) == ["*"]
    with pytest.raises(ValueError, match="unknown event type"):
        domain.check_patterns(["order.teleported"], known)
    with pytest.raises(ValueError, match="matches no event type"):
        domain.check_patterns(["cart.*"], known)


# --- ordering ---------------------------------------------------------------------------------------------------


def test_a_delivery_waits_for_earlier_ones_of_its_endpoint_and_aggregate() -> None:
    queue = [
        Queued("d1", "e1", "order:A", 1, due=False),  # waiting for its retry
        Queued("d2", "e1", "order:A", 2, due=True),  # must wait for d1
        Queued("d3", "e1", "order:B", 3, due=True),  # another order: free to go
        Queued("d4", "e2", "order:A", 2, due=True),  # another endpoint: free to go
        Queued("d5", "e2", "order:A", 4, due=True),  # after d4
    ]
    assert domain.deliverable(queue) == ["d3", "d4"]


@given(st.lists(st.tuples(st.sampled_from("ab"), st.sampled_from("xyz"), st.booleans()), max_size=30))
def test_at_most_the_earliest_pending_delivery_of_each_endpoint_and_aggregate_goes(
    items: list[tuple[str, str, bool]],
) -> None:
    queue = [Queued(f"d{i}", e, a, i, due) for i, (e, a, due) in enumerate(items)]
    chosen = domain.deliverable(queue)
    by_id = {q.delivery_id: q for q in queue}
    keys = [(by_id[c].endpoint_id, by_id[c].aggregate) for c in chosen]
    assert len(keys) == len(set(keys))
    for c in chosen:
        q = by_id[c]
        assert q.due
        same = [o for o in queue if (o.endpoint_id, o.aggregate) == (q.endpoint_id, q.aggregate)]
        assert min(o.event_seq for o in same) == q.event_seq


def test_a_dead_letter_holds_its_resource_until_it_is_resolved() -> None:
    queue = [
        Queued("d1", "e1", "order:A", 1, due=False, dead=True),  # order.created died
        Queued("d2", "e1", "order:A", 2, due=True),  # order.confirmed must not go without it
        Queued("d3", "e1", "order:B", 3, due=True),
        Queued("d4", "e2", "order:A", 2, due=True),  # another endpoint got its order.created
    ]
    assert domain.deliverable(queue) == ["d3", "d4"]
    # redelivered: the redelivery takes the dead letter's place (same seq) and goes first
    redelivered = [Queued("r1", "e1", "order:A", 1, due=True), *queue[1:]]
    assert domain.deliverable(redelivered) == ["r1", "d3", "d4"]
    assert domain.deliverable(queue[1:]) == ["d2", "d3", "d4"]  # skipped: it is no longer in the queue


@pytest.mark.parametrize(
    ("status", "resolution", "holds"),
    [
        ("pending", None, True),
        ("failed", None, True),
        ("failed", "redelivered", False),
        ("failed", "skipped", False),
        ("succeeded", None, False),
    ],
)
def test_what_holds_a_resources_order(status: str, resolution: str | None, holds: bool) -> None:
    assert domain.holds_order(status, resolution) is holds


# --- an endpoint's health ---------------------------------------------------------------------------------------


def test_the_failure_run_counts_dead_letters_in_the_order_they_ended_and_a_success_ends_it() -> None:
    assert domain.failure_run(0, [False, False, True, False], 5) == (1, False)
    assert domain.failure_run(3, [False], 5) == (4, False)
    assert domain.failure_run(3, [True], 5) == (0, False)


def test_the_failure_run_stops_at_the_threshold_whatever_the_batch_holds() -> None:
    assert domain.failure_run(0, [False] * 32, 5) == (5, True)
    assert domain.failure_run(4, [False, False, False], 5) == (5, True)
    assert domain.failure_run(0, [False] * 4 + [True] + [False] * 4, 5) == (4, False)


NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
COOLDOWN = timedelta(seconds=30)
TIMEOUT, REFUSED_CONNECTION = AttemptOutcome.TIMEOUT, AttemptOutcome.NETWORK_ERROR


def test_the_circuit_opens_after_attempts_in_a_row_with_no_answer() -> None:
    breaker = Breaker().after([(TIMEOUT, NOW), (REFUSED_CONNECTION, NOW)], 3, COOLDOWN)
    assert (breaker.failures, breaker.state(NOW)) == (2, Circuit.CLOSED)
    breaker = breaker.after([(TIMEOUT, NOW)], 3, COOLDOWN)
    assert breaker.state(NOW) is Circuit.OPEN
    assert breaker.open_until == NOW + COOLDOWN
    assert breaker.state(NOW + COOLDOWN) is Circuit.HALF_OPEN


def test_any_answer_closes_the_circuit_and_errors_that_answer_do_not_count() -> None:
    opened = Breaker(3, NOW - timedelta(seconds=1))  # half-open
    assert opened.after([(AttemptOutcome.HTTP_ERROR, NOW)], 3, COOLDOWN) == Breaker(0, None)
    assert opened.after([(AttemptOutcome.SUCCEEDED, NOW)], 3, COOLDOWN) == Breaker(0, None)
    assert Breaker(2).after([(AttemptOutcome.HTTP_ERROR, NOW), (TIMEOUT, NOW)], 3, COOLDOWN) == Breaker(1, None)
    assert Breaker(2).after([(AttemptOutcome.REFUSED, NOW)], 3, COOLDOWN) == Breaker(2, None)


def test_a_failed_probe_opens_the_circuit_again_for_a_whole_cooldown() -> None:
    probe_at = NOW + timedelta(minutes=5)
    reopened = Breaker(3, NOW).after([(TIMEOUT, probe_at)], 3, COOLDOWN)
    assert reopened == Breaker(4, probe_at + COOLDOWN)
    assert reopened.state(probe_at) is Circuit.OPEN


# --- signatures -------------------------------------------------------------------------------------------------


def test_secrets_are_standard_webhooks_secrets() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    assert len(Webhook(secret)._whsecret) == 32
    assert secret != signing.new_secret()


def test_the_standardwebhooks_verifier_accepts_what_we_send() -> None:
    secret = signing.new_secret()
    now = datetime.now(UTC)
    body = domain.body_of(domain.envelope("evt_1", "order.created", now, {"id": "o1", "note": "grüße"}))
    headers = signing.headers([secret], "evt_1", now, body)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    payload = Webhook(secret).verify(body.encode(), headers)
    assert payload == {
        "id": "evt_1",
        "type": "order.created",
        "created_at": now.isoformat().replace("+00:00", "Z"),
        "data": {"id": "o1", "note": "grüße"},
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body.encode(), headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("o1", "o2").encode(), headers)


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    now = datetime.now(UTC)
    headers = signing.headers([new, old], "evt_2", now, "{}")
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify("{}", headers)


def test_the_previous_secret_signs_only_until_its_overlap_ends() -> None:
    now = datetime.now(UTC)
    assert domain.signing_secrets("new", "old", now + timedelta(hours=1), now) == ["new", "old"]
    assert domain.signing_secrets("new", "old", now - timedelta(seconds=1), now) == ["new"]
    assert domain.signing_secrets("new", None, None, now) == ["new"]
