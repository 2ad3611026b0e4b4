"""Rate limits: per API key (the default or the key's own), failed authentications per address, signed webhooks
per channel; 429 problems with Retry-After and the draft RateLimit headers, and the headers on every answer.

On PostgreSQL the buckets live in ``rate_limit_buckets`` (``tests/integration/test_rate_limit_processes.py``
shares one across two processes); on SQLite in the process. The rates here are tiny (one request per 100 s),
so that no bucket refills while a test runs: the counts are exact, with no timing in the assertions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from oms_api.app import create_app
from oms_api.cli import main
from oms_api.kit.auth import KeyRateLimit, Scope, set_rate_limit
from oms_api.kit.db import create_engine, session_factory, session_scope
from oms_api.kit.errors import PROBLEM_MEDIA_TYPE
from oms_api.settings import Settings, get_settings
from tests.conftest import KeyMaker

SLOW = 0.01
"""Requests per second of the limits under test: one per 100 s, so nothing refills during a test."""
POLICY = re.compile(r'^"(?P<name>[a-z-]+)";q=(?P<q>\d+);w=(?P<w>\d+)$')
STATE = re.compile(r'^"(?P<name>[a-z-]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')

MakeClient = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def make_client(settings: Settings) -> AsyncIterator[MakeClient]:
    """A client of a fresh app whose settings take ``overrides``; ``address`` is the client's IP address."""
    opened: list[tuple[httpx.AsyncClient, Any]] = []
    apps: dict[str, Any] = {}

    async def make(address: str = "127.0.0.1", **overrides: Any) -> httpx.AsyncClient:
        key = repr(sorted(overrides.items()))
        if key not in apps:  # clients with the same settings share one app (and its in-memory buckets)
            apps[key] = create_app(settings.model_copy(update=overrides))
        transport = httpx.ASGITransport(app=apps[key], client=(address, 40000))
        client = httpx.AsyncClient(transport=transport, base_url="http://oms.test")
        opened.append((client, apps[key]))
        return client

    yield make
    for client, _ in opened:
        await client.aclose()
    for app in apps.values():
        await app.state.limits.close()
        await app.state.db.engine.dispose()


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def policy_of(response: httpx.Response) -> dict[str, str]:
    found = POLICY.match(response.headers["ratelimit-policy"])
    assert found, response.headers["ratelimit-policy"]
    return found.groupdict()


def state_of(response: httpx.Response) -> dict[str, str]:
    found = STATE.match(response.headers["ratelimit"])
    assert found, response.headers["ratelimit"]
    return found.groupdict()


def assert_429(response: httpx.Response, code: str, policy: str) -> int:
    """A 429 problem with Retry-After (returned, in seconds) and the RateLimit fields of ``policy``, none left."""
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert response.json()["code"] == code
    retry_after = int(response.headers["retry-after"])
    assert retry_after >= 1
    assert policy_of(response)["name"] == policy
    assert state_of(response)["r"] == "0"
    return retry_after


async def test_a_key_over_its_rate_gets_429_with_retry_after_and_ratelimit_headers(
    make_client: MakeClient, make_key: KeyMaker
) -> None:
    client = await make_client(rate_limit_per_second=SLOW, rate_limit_burst=3)
    key = await make_key(Scope.CATALOG_READ.value)
    answers = [await client.get("/v1/skus", headers=auth(key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [state_of(a)["r"] for a in answers] == ["2", "1", "0"]
    assert policy_of(answers[0]) == {"name": "api-key", "q": "3", "w": "300"}
    assert 0 < int(state_of(answers[-1])["t"]) <= 300

    refused = await client.get("/v1/skus", headers=auth(key))
    assert 1 < assert_429(refused, "rate_limited", "api-key") <= 100
    # Errors and writes count too, and carry the headers: the budget is per key, not per route.
    assert_429(await client.post("/v1/skus", json={}, headers=auth(key)), "rate_limited", "api-key")


async def test_every_answer_to_a_limited_key_carries_the_headers_errors_included(
    make_client: MakeClient, make_key: KeyMaker
) -> None:
    client = await make_client(rate_limit_per_second=SLOW, rate_limit_burst=5)
    key = await make_key(Scope.CATALOG_READ.value)
    not_found = await client.get(f"/v1/skus/{uuid.uuid4()}", headers=auth(key))
    assert not_found.status_code == 404
    assert state_of(not_found)["r"] == "4"
    forbidden = await client.get("/v1/orders", headers=auth(key))
    assert forbidden.status_code == 403
    assert state_of(forbidden)["r"] == "3"


async def test_a_key_with_its_own_limit_keeps_to_it_and_an_update_applies_at_once(
    make_client: MakeClient, make_key: KeyMaker, database_url: str
) -> None:
    client = await make_client(rate_limit_per_second=SLOW, rate_limit_burst=2)
    ordinary = await make_key(Scope.CATALOG_READ.value, name="ordinary")
    generous_id, generous = await key_with_limit(database_url, KeyRateLimit(SLOW, 5))

    assert [(await client.get("/v1/skus", headers=auth(generous))).status_code for _ in range(6)] == [200] * 5 + [429]
    assert [(await client.get("/v1/skus", headers=auth(ordinary))).status_code for _ in range(3)] == [200, 200, 429]

    await update_limit(database_url, generous_id, KeyRateLimit(0, None))  # 0: this key is not limited
    unlimited = [await client.get("/v1/skus", headers=auth(generous)) for _ in range(3)]
    assert [a.status_code for a in unlimited] == [200, 200, 200]
    assert all("ratelimit" not in a.headers for a in unlimited)


@pytest.mark.parametrize(("per_second", "burst"), [(0, 1), (SLOW, 0)])
async def test_zero_turns_the_default_limit_off(
    make_client: MakeClient, make_key: KeyMaker, per_second: float, burst: int
) -> None:
    client = await make_client(rate_limit_per_second=per_second, rate_limit_burst=burst)
    key = await make_key(Scope.CATALOG_READ.value)
    answers = [await client.get("/v1/skus", headers=auth(key)) for _ in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert all("ratelimit" not in a.headers and "ratelimit-policy" not in a.headers for a in answers)


async def test_repeated_failed_authentication_from_one_address_is_slowed(
    make_client: MakeClient, make_key: KeyMaker
) -> None:
    limits = {"auth_failure_rate_per_second": SLOW, "auth_failure_burst": 3}
    attacker = await make_client("203.0.113.7", **limits)
    neighbour = await make_client("198.51.100.9", **limits)
    good = await make_key(Scope.CATALOG_READ.value)
    guesses = [await attacker.get("/v1/skus", headers=auth(f"oms_{uuid.uuid4().hex}")) for _ in range(3)]
    assert [g.status_code for g in guesses] == [401, 401, 401]

    assert_429(
        await attacker.get("/v1/skus", headers=auth(f"oms_{uuid.uuid4().hex}")),
        "too_many_failed_authentications",
        "auth-failures",
    )
    # Refused before the key is looked up: while blocked, the address cannot try keys at all.
    blocked = await attacker.get("/v1/skus", headers=auth(good))
    assert_429(blocked, "too_many_failed_authentications", "auth-failures")
    assert_429(await attacker.get("/v1/skus"), "too_many_failed_authentications", "auth-failures")
    assert (await neighbour.get("/v1/skus", headers=auth(good))).status_code == 200
    assert (await neighbour.get("/v1/skus")).status_code == 401


async def test_bad_webhook_signatures_count_as_failed_authentication(make_client: MakeClient) -> None:
    client = await make_client(auth_failure_rate_per_second=SLOW, auth_failure_burst=2, easypost_webhook_secret="s")
    url = "/v1/integrations/easypost/webhooks"
    unsigned = [await client.post(url, content=b"{}") for _ in range(2)]
    assert [u.status_code for u in unsigned] == [401, 401]
    assert_429(await client.post(url, content=b"{}"), "too_many_failed_authentications", "auth-failures")
    signed = await client.post(url, content=b"{}", headers={"X-Hmac-Signature": "hmac-sha256-hex=00"})
    assert_429(signed, "too_many_failed_authentications", "auth-failures")  # blocked before its body is read


async def test_signed_webhooks_are_limited_per_channel(make_client: MakeClient) -> None:
    client = await make_client(inbound_rate_limit_per_second=SLOW, inbound_rate_limit_burst=2)
    web, shop = "/v1/integrations/shopify/web/webhooks", "/v1/integrations/shopify/shop/webhooks"
    first = [await client.post(web, content=b"{}") for _ in range(2)]  # no such channel: 404, but each one counts
    assert [f.status_code for f in first] == [404, 404]
    assert state_of(first[1]) == {"name": "inbound-webhooks", "r": "0", "t": state_of(first[1])["t"]}
    assert_429(await client.post(web, content=b"{}"), "rate_limited", "inbound-webhooks")
    assert (await client.post(shop, content=b"{}")).status_code == 404  # another channel has its own budget
    woo = "/v1/integrations/woocommerce/web/webhooks"  # and so has another platform
    assert (await client.post(woo, content=b"{}")).status_code != 429
    for _ in range(2):
        await client.post("/v1/integrations/easypost/webhooks", content=b"{}")
    assert_429(
        await client.post("/v1/integrations/easypost/webhooks", content=b"{}"), "rate_limited", "inbound-webhooks"
    )


async def key_with_limit(database_url: str, limit: KeyRateLimit) -> tuple[uuid.UUID, str]:
    from oms_api.kit.auth import create_api_key

    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            key, secret = await create_api_key(session, "own-limit", [Scope.CATALOG_READ.value], limit)
            return key.id, secret
    finally:
        await engine.dispose()


async def update_limit(database_url: str, key_id: uuid.UUID, limit: KeyRateLimit) -> None:
    engine = create_engine(database_url)
    try:
        async with session_scope(session_factory(engine)) as session:
            assert await set_rate_limit(session, key_id, limit) is not None
    finally:
        await engine.dispose()


# --- the command line ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_db(sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.db"
    path.write_bytes(sqlite_template.read_bytes())
    monkeypatch.setenv("OMS_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("OMS_RATE_LIMIT_PER_SECOND", "100")
    monkeypatch.setenv("OMS_RATE_LIMIT_BURST", "200")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_the_cli_sets_lists_updates_and_resets_a_keys_rate_limit(
    cli_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "api-keys", "create", "--name", "erp", "--scope", "admin", "--rate-limit-per-second", "2.5",
        "--rate-limit-burst", "10",
    )  # fmt: skip
    assert code == 0
    assert "Rate limit: 2.5/s, bursts of 10." in out
    key_id = re.search(r"id ([0-9a-f-]{36})", out).group(1)  # type: ignore[union-attr]
    code, out, _ = run(capsys, "api-keys", "create", "--name", "shop", "--scope", "admin")
    assert "Rate limit: 100/s, bursts of 200 (default)." in out

    listed = run(capsys, "api-keys", "list")[1]
    assert re.search(rf"{key_id} .*2\.5/s, bursts of 10 ", listed), listed
    assert "100/s, bursts of 200 (default)" in listed

    code, out, _ = run(capsys, "api-keys", "update", key_id, "--rate-limit-burst", "50")
    assert (code, out.strip()) == (0, f"API key 'erp' ({key_id}) rate limit: 2.5/s, bursts of 50.")
    code, out, _ = run(capsys, "api-keys", "update", key_id, "--rate-limit-per-second", "0")
    assert "rate limit: unlimited." in out
    code, out, _ = run(capsys, "api-keys", "update", key_id, "--default-rate-limit")
    assert "rate limit: 100/s, bursts of 200 (default)." in out

    assert run(capsys, "api-keys", "update", key_id)[0] == 1  # nothing to change
    assert run(capsys, "api-keys", "update", str(uuid.uuid4()), "--rate-limit-burst", "1")[0] == 1
    assert run(capsys, "api-keys", "update", key_id, "--rate-limit-per-second", "-1")[0] == 2
    assert run(capsys, "api-keys", "update", key_id, "--rate-limit-burst", "1.5")[0] == 2
