"""Closed-loop order clients for the drills: each places orders one after another, retrying with the same key.

A client retries an order (same ``Idempotency-Key``, same body, possibly on another process) after a
transport error, a 503 or a 409 ``idempotency_in_progress``, as a well-behaved integration would; every
answer is kept, so a drill can check both what clients saw and what the database holds afterwards.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.servers import order_body


@dataclass
class Answer:
    key: str
    status: int | None
    code: str | None
    retry_after: str | None
    media_type: str | None
    error: str | None
    at: float

    @property
    def retryable(self) -> bool:
        """No answer, the database away, or the same key still running elsewhere: send it again."""
        return self.status is None or self.status == 503 or self.code == "idempotency_in_progress"


@dataclass
class Load:
    """``clients`` loops spread over ``urls`` placing orders on ``channel`` until stopped, taking their
    lines from ``mixes`` in turn."""

    urls: Sequence[str]
    token: str
    channel: str
    mixes: Sequence[Sequence[tuple[str, int]]]
    clients: int = 50
    answers: list[Answer] = field(default_factory=list)
    acknowledged: dict[str, dict[str, Any]] = field(default_factory=dict)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)

    async def _send(self, http: httpx.AsyncClient, url: str, key: str, body: dict[str, Any]) -> Answer:
        try:
            response = await http.post(f"{url}/v1/orders", json=body, headers={"Idempotency-Key": key})
        except httpx.HTTPError as exc:
            return Answer(key, None, None, None, None, f"{type(exc).__name__}: {exc}", time.monotonic())
        payload: Any = None
        if response.headers.get("content-type", "").startswith(("application/json", "application/problem+json")):
            payload = response.json()
        code = payload.get("code") if isinstance(payload, dict) else None
        answer = Answer(
            key,
            response.status_code,
            code,
            response.headers.get("retry-after"),
            response.headers.get("content-type"),
            None,
            time.monotonic(),
        )
        if response.status_code == 201:
            self.acknowledged[key] = payload
        return answer

    async def _client(self, n: int) -> None:
        limits = httpx.Limits(max_connections=4)
        timeout = httpx.Timeout(30.0, connect=5.0)
        headers = {"Authorization": f"Bearer {self.token}"}
        async with httpx.AsyncClient(headers=headers, timeout=timeout, limits=limits) as http:
            sequence = 0
            while not self.stopping.is_set():
                key = f"drill-{n}-{sequence}"
                body = order_body(self.channel, key, list(self.mixes[(n + sequence) % len(self.mixes)]))
                attempt = 0
                while True:
                    url = self.urls[(n + attempt) % len(self.urls)]  # a retry goes to the next process
                    answer = await self._send(http, url, key, body)
                    self.answers.append(answer)
                    attempt += 1
                    if not answer.retryable:
                        break
                    await asyncio.sleep(0.2)
                    if attempt > 200:
                        raise AssertionError(f"order {key} never went through: {answer}")
                sequence += 1

    def attempts(self) -> dict[str, int]:
        """Requests sent per Idempotency-Key."""
        counts: dict[str, int] = {}
        for answer in self.answers:
            counts[answer.key] = counts.get(answer.key, 0) + 1
        return counts

    async def run(self, for_seconds: float, during: Coroutine[Any, Any, None]) -> None:
        """Run the clients for ``for_seconds`` while ``during`` (the fault) runs; open orders then finish."""
        tasks = [asyncio.create_task(self._client(n)) for n in range(self.clients)]
        try:
            await asyncio.gather(asyncio.sleep(for_seconds), during)
        finally:
            self.stopping.set()
            await asyncio.wait_for(asyncio.gather(*tasks), timeout=120)
