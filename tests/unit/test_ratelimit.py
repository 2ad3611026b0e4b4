"""GCRA, the arithmetic every rate limit shares (``kit.ratelimit.decide``), at explicit instants: no clock."""

from __future__ import annotations

from oms_api.kit.ratelimit import Decision, Policy, decide

TEN_PER_SECOND = Policy("api-key", 10, 5)


def run(policy: Policy, instants: list[float]) -> list[Decision]:
    tat: float | None = None
    decisions = []
    for now in instants:
        decision, moved = decide(policy, now, tat)
        tat = moved if moved is not None else tat
        decisions.append(decision)
    return decisions


def test_a_burst_fits_at_once_and_the_next_request_waits_one_step() -> None:
    decisions = run(TEN_PER_SECOND, [0.0] * 6)
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    refused = decisions[-1]
    assert abs(refused.retry_after_seconds - 0.1) < 1e-9
    assert refused.headers()["Retry-After"] == "1"
    assert abs(refused.reset_seconds - 0.5) < 1e-9


def test_the_bucket_refills_at_the_rate() -> None:
    decisions = run(TEN_PER_SECOND, [0.0] * 5 + [0.05, 0.1, 0.15, 0.2, 10.0])
    assert [d.allowed for d in decisions] == [True] * 5 + [False, True, False, True, True]
    assert decisions[-1].remaining == 4  # a long pause fills the bucket again, never beyond the burst


def test_a_steady_client_at_the_rate_is_never_refused() -> None:
    decisions = run(TEN_PER_SECOND, [n * 0.1 for n in range(100)])
    assert all(d.allowed for d in decisions)


def test_headers_follow_the_draft() -> None:
    first = run(Policy("api-key", 100, 200), [0.0])[0]
    assert first.headers() == {"RateLimit-Policy": '"api-key";q=200;w=2', "RateLimit": '"api-key";r=199;t=1'}
    slow = run(Policy("auth-failures", 0.5, 1), [0.0, 0.0])
    assert slow[1].headers() == {
        "RateLimit-Policy": '"auth-failures";q=1;w=2',
        "RateLimit": '"auth-failures";r=0;t=2',
        "Retry-After": "2",
    }


def test_zero_means_no_limit() -> None:
    assert not Policy("api-key", 0, 200).enabled
    assert not Policy("api-key", 100, 0).enabled
    assert Policy("api-key", 0.01, 1).enabled
