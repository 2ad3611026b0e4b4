"""The in-process event bus: handlers run in subscription order, on the publisher's session, and a failure
reaches the publisher (so the whole request rolls back)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit.bus import Bus, NotWired


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class Other:
    what: str


SESSION = cast(AsyncSession, object())


async def test_handlers_run_in_the_order_they_were_subscribed_with_the_publishers_session() -> None:
    seen: list[tuple[str, Any, str]] = []

    async def first(session: AsyncSession, event: Happened) -> None:
        seen.append(("first", session, event.what))

    async def second(session: AsyncSession, event: Happened) -> None:
        seen.append(("second", session, event.what))

    bus = Bus()
    bus.wire({Happened: [first, second]})
    await bus.publish(SESSION, Happened("cancelled"))
    assert seen == [("first", SESSION, "cancelled"), ("second", SESSION, "cancelled")]


async def test_an_event_nobody_subscribed_to_runs_nothing() -> None:
    calls: list[str] = []

    async def handler(session: AsyncSession, event: Happened) -> None:
        calls.append(event.what)

    bus = Bus()
    bus.wire({Happened: [handler]})
    await bus.publish(SESSION, Other("ignored"))
    assert calls == []


async def test_a_failing_handler_fails_the_publisher_and_stops_the_later_handlers() -> None:
    calls: list[str] = []

    async def broken(session: AsyncSession, event: Happened) -> None:
        raise ValueError("the reaction failed")

    async def later(session: AsyncSession, event: Happened) -> None:
        calls.append("later")

    bus = Bus()
    bus.wire({Happened: [broken, later]})
    with pytest.raises(ValueError, match="the reaction failed"):
        await bus.publish(SESSION, Happened("x"))
    assert calls == []


async def test_publishing_before_the_bus_is_wired_is_refused() -> None:
    with pytest.raises(NotWired):
        await Bus().publish(SESSION, Happened("too early"))


async def test_wiring_again_replaces_the_subscriptions() -> None:
    calls: list[str] = []

    async def old(session: AsyncSession, event: Happened) -> None:
        calls.append("old")

    async def new(session: AsyncSession, event: Happened) -> None:
        calls.append("new")

    bus = Bus()
    bus.wire({Happened: [old]})
    bus.wire({Happened: [new]})
    await bus.publish(SESSION, Happened("x"))
    assert calls == ["new"]
    assert bus.handlers(Happened) == (new,)
