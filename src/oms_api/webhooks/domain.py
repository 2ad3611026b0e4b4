"""Webhook rules (pure): URLs and the addresses they may reach, subscriptions, retries, ordering, envelopes."""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

ALL_EVENTS = "*"
MAX_URL_LENGTH = 2048
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waiting for its (next) attempt
    SUCCEEDED = "succeeded"  # the receiver answered 2xx
    FAILED = "failed"  # every attempt failed, or the endpoint is gone (410): a dead letter, kept and visible


class Resolution(StrEnum):
    """What an operator did with a dead letter; until then it holds back its resource's later events."""

    REDELIVERED = "redelivered"  # a new delivery of the same event was queued (it holds the order in its turn)
    SKIPPED = "skipped"  # given up by hand: later events of the resource go on without it


class AttemptOutcome(StrEnum):
    IN_FLIGHT = "in_flight"  # recorded when the delivery is claimed, before the request is sent
    SUCCEEDED = "succeeded"
    HTTP_ERROR = "http_error"  # the receiver answered, but not 2xx
    TIMEOUT = "timeout"
    NETWORK_ERROR = "network_error"  # refused, reset, DNS, TLS…
    REFUSED = "refused"  # the URL now resolves to an address we may not call (SSRF guard)
    ABANDONED = "abandoned"  # the worker died or stopped before the answer; the request may have been sent


class Circuit(StrEnum):
    CLOSED = "closed"  # deliveries go, up to the endpoint's concurrency budget
    OPEN = "open"  # timeouts or connection failures in a row: nothing is attempted until the cool-down ends
    HALF_OPEN = "half_open"  # the cool-down ended: one delivery probes the endpoint


# --- URLs and addresses -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    """Where a webhook URL points: the parts the network guard needs."""

    scheme: str
    host: str  # without brackets for IPv6
    port: int
    literal_ip: IpAddress | None


def parse_url(url: str) -> Target:
    """Check a webhook URL's form (http/https, a host, no credentials); ``ValueError`` says what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"must be at most {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise ValueError("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("must name a host")
    if parts.username is not None or parts.password is not None:
        raise ValueError("must not carry credentials (user:password@); authenticate receivers by the signature")
    if parts.fragment:
        raise ValueError("must not have a #fragment")
    try:
        literal: IpAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,253}", host) or any(len(label) > 63 for label in host.split(".")):
            raise ValueError("has an invalid host name") from None
    return Target(scheme, host, port or (443 if scheme == "https" else 80), literal)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address tunnels to (mapped, 6to4, Teredo, NAT64), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def forbidden_reason(ip: IpAddress) -> str | None:
    """Why a webhook may not call ``ip`` (None: a public unicast address).

    Anything that is not globally routable is refused: loopback, private (RFC 1918, ULA), link-local
    (including cloud metadata at 169.254.169.254), shared (CGNAT), multicast, reserved and unspecified,
    also when tunnelled inside an IPv6 address.
    """
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:  # the IPv4 address is where packets end up: judge that one
            reason = forbidden_reason(inner)
            return f"{ip} tunnels to {reason}" if reason else None
    checks = (
        ("is_loopback", "loopback"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_unspecified", "unspecified"),
        ("is_private", "private"),
        ("is_reserved", "reserved"),
    )
    for attribute, label in checks:
        if getattr(ip, attribute):
            return f"{ip} is a {label} address"
    if not ip.is_global:
        return f"{ip} is not a public address"
    return None


def check_addresses(addresses: Iterable[str], *, allow_private: bool) -> list[IpAddress]:
    """The resolved addresses a delivery may connect to; ``ValueError`` if any of them is forbidden.

    Every address of the name must be public: a name with one public and one private address could
    otherwise be steered to the private one.
    """
    parsed = [ipaddress.ip_address(a.split("%", 1)[0]) for a in addresses]
    if not parsed:
        raise ValueError("the host name has no address")
    if not allow_private:
        for ip in parsed:
            reason = forbidden_reason(ip)
            if reason is not None:
                raise ValueError(f"refused: {reason}")
    return parsed


def signing_secrets(
    current: str, previous: str | None, previous_expires_at: datetime | None, now: datetime
) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one until its overlap ends."""
    found = [current]
    if previous and previous_expires_at is not None and previous_expires_at > now:
        found.append(previous)
    return found


# --- subscriptions ----------------------------------------------------------------------------------------------


def check_patterns(patterns: Sequence[str], known: Iterable[str]) -> list[str]:
    """The subscription, normalised (sorted, unique): ``*``, known type names, or ``prefix.*`` of known types.

    ``ValueError`` names the first pattern that matches nothing in the catalogue.
    """
    names = set(known)
    cleaned = sorted(set(patterns))
    if ALL_EVENTS in cleaned:
        return [ALL_EVENTS]
    for pattern in cleaned:
        if pattern.endswith(".*"):
            prefix = pattern[:-1]
            if not any(name.startswith(prefix) for name in names):
                raise ValueError(f"{pattern!r} matches no event type")
        elif pattern not in names:
            raise ValueError(f"unknown event type {pattern!r} (see GET /v1/event-types)")
    return cleaned


def matches(patterns: Sequence[str], event_type: str) -> bool:
    """Whether an endpoint subscribed to ``patterns`` receives ``event_type``."""
    for pattern in patterns:
        if pattern in (ALL_EVENTS, event_type):
            return True
        if pattern.endswith(".*") and event_type.startswith(pattern[:-1]):
            return True
    return False


# --- retries ----------------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds asked by a ``Retry-After`` header (delta-seconds or an HTTP date), or None if absent/unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


def next_delay(
    attempts_made: int,
    schedule: Sequence[float],
    *,
    jitter: float,
    random_unit: float,
    retry_after: float | None = None,
    retry_after_max: float = 86_400,
) -> float | None:
    """Seconds until the next attempt after ``attempts_made`` failed ones, or None when the delivery is dead.

    Step ``n`` of the schedule is spread by ``jitter`` (``random_unit`` in [0, 1) picks where), so that a
    receiver coming back is not hit by every retry at once. A receiver's ``Retry-After`` (429/503) replaces
    the step, within [1 s, ``retry_after_max``]; it never adds attempts.
    """
    if attempts_made < 1:
        raise ValueError("attempts_made counts failed attempts, so it is at least 1")
    if attempts_made > len(schedule):
        return None
    if retry_after is not None:
        return min(max(retry_after, 1.0), retry_after_max)
    base = schedule[attempts_made - 1]
    return base * (1 + jitter * (2 * random_unit - 1))


def total_retry_window(schedule: Sequence[float]) -> timedelta:
    """How long a failing delivery keeps being retried (without jitter)."""
    return timedelta(seconds=sum(schedule))


# --- ordering ---------------------------------------------------------------------------------------------------


def holds_order(status: str, resolution: str | None) -> bool:
    """Whether a delivery keeps later events of its endpoint and resource waiting.

    A pending delivery does, and so does a dead letter until it is redelivered or skipped by hand: otherwise
    a receiver would get ``order.confirmed`` without the ``order.created`` that died before it.
    """
    return status == DeliveryStatus.PENDING or (status == DeliveryStatus.FAILED and resolution is None)


@dataclass(frozen=True, slots=True)
class Queued:
    """A delivery as the ordering rule sees it."""

    delivery_id: str
    endpoint_id: str
    aggregate: str
    event_seq: int
    due: bool
    dead: bool = False  # an unresolved dead letter: never attempted again, but it holds its resource's order


def deliverable(queue: Sequence[Queued]) -> list[str]:
    """The deliveries that may be attempted now: due, pending, and the earliest of their endpoint+aggregate.

    Events about one aggregate reach each endpoint in the order they happened: a delivery waits while an
    earlier one for the same endpoint and aggregate is still pending (even one waiting for its retry) or
    died and was neither redelivered nor skipped. This is the rule the claim query implements in SQL;
    this function states it for the tests.
    """
    first: dict[tuple[str, str], Queued] = {}
    for item in queue:
        key = (item.endpoint_id, item.aggregate)
        if key not in first or item.event_seq < first[key].event_seq:
            first[key] = item
    return [
        item.delivery_id
        for item in queue
        if first[(item.endpoint_id, item.aggregate)] is item and item.due and not item.dead
    ]


# --- an endpoint's health ---------------------------------------------------------------------------------------


def failure_run(count: int, delivered: Iterable[bool], threshold: int) -> tuple[int, bool]:
    """An endpoint's run of failed deliveries after the deliveries that just ended, and whether it disables it.

    ``delivered`` holds, in the order they ended, True for a delivery that succeeded and False for one that
    failed after every retry (attempts that will be retried do not count either way). A success ends the
    run. Counting stops at ``threshold``: the endpoint is disabled then, and the deliveries of the same batch
    or still in flight that die after it do not run the count past it, so "5 in a row" reads 5, not 32.
    """
    for ok in delivered:
        if ok:
            count = 0
            continue
        count += 1
        if count >= threshold:
            return count, True
    return count, False


CIRCUIT_FAILURES = frozenset({AttemptOutcome.TIMEOUT, AttemptOutcome.NETWORK_ERROR})
ANSWERED = frozenset({AttemptOutcome.SUCCEEDED, AttemptOutcome.HTTP_ERROR})


@dataclass(frozen=True, slots=True)
class Breaker:
    """An endpoint's circuit breaker: attempts in a row with no answer, and until when nothing is sent."""

    failures: int = 0
    open_until: datetime | None = None  # None: closed; later than now: open; else half-open (one probe)

    def state(self, now: datetime) -> Circuit:
        if self.open_until is None:
            return Circuit.CLOSED
        return Circuit.OPEN if self.open_until > now else Circuit.HALF_OPEN

    def after(
        self, outcomes: Iterable[tuple[AttemptOutcome, datetime]], threshold: int, cooldown: timedelta
    ) -> Breaker:
        """The breaker after attempts that ended (in order, with when).

        Only attempts that got no answer (timeout, connection failure) count: they are what hold a delivery
        slot for long. Any answer, even a 500, closes the circuit (the retry schedule deals with errors). A
        failure while the circuit is tripped (the half-open probe, or a request that was in flight when it
        tripped) keeps it open for another cool-down.
        """
        failures, open_until = self.failures, self.open_until
        for outcome, at in outcomes:
            if outcome in ANSWERED:
                failures, open_until = 0, None
            elif outcome in CIRCUIT_FAILURES:
                failures += 1
                if open_until is not None or failures >= threshold:
                    open_until = at + cooldown
        return Breaker(failures, open_until)


# --- the envelope -----------------------------------------------------------------------------------------------


def envelope(event_id: str, event_type: str, created_at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """The one shape of every webhook body; ``id`` is also the ``webhook-id`` header (receivers dedupe on it)."""
    stamp = created_at.isoformat().replace("+00:00", "Z")
    return {"id": event_id, "type": event_type, "created_at": stamp, "data": data}


def body_of(envelope_: dict[str, Any]) -> str:
    """The exact text that is signed and sent (compact JSON, UTF-8, stable across retries)."""
    return json.dumps(envelope_, separators=(",", ":"), ensure_ascii=False, sort_keys=False)


def excerpt(text: str, limit: int = 500) -> str:
    """The start of a receiver's answer, kept with the attempt for diagnosis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"
