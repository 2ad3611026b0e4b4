"""The in-process event bus: how one context reacts to another's change, in the same transaction.

A context that changes something others may care about publishes a domain event (a frozen dataclass
declared in its ``events.py``); the handlers subscribed to that class at start-up (``oms_api.bootstrap``)
run one after the other, awaited, on the publisher's session. Their changes commit or roll back with
the change that caused them, and a handler that fails fails the request: a reaction is never half done
nor lost. The publisher knows nothing of its subscribers, so no two contexts need to import each other.

Public (webhook) events are another thing: ``kit.outbox`` writes them for partners, after the fact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

Handler = Callable[[AsyncSession, Any], Awaitable[None]]


class NotWired(RuntimeError):
    """An event was published before the process subscribed its handlers (call ``oms_api.bootstrap``)."""


class Bus:
    """Handlers by event class; ``wire`` replaces them all at once (start-up, tests)."""

    def __init__(self) -> None:
        self._handlers: dict[type, tuple[Handler, ...]] = {}
        self.wired = False

    def wire(self, subscriptions: Mapping[type, Sequence[Handler]]) -> None:
        self._handlers = {event_type: tuple(handlers) for event_type, handlers in subscriptions.items()}
        self.wired = True

    def handlers(self, event_type: type) -> tuple[Handler, ...]:
        return self._handlers.get(event_type, ())

    async def publish(self, session: AsyncSession, event: Any) -> None:
        """Run every handler of ``type(event)`` on ``session``, in the order they were subscribed."""
        if not self.wired:
            raise NotWired(f"{type(event).__name__} published before the event bus was wired")
        for handler in self._handlers.get(type(event), ()):
            await handler(session, event)


BUS = Bus()
"""The process's bus (handlers hold no state: every process wires the same subscriptions)."""


def wire(subscriptions: Mapping[type, Sequence[Handler]]) -> None:
    BUS.wire(subscriptions)


async def publish(session: AsyncSession, event: Any) -> None:
    await BUS.publish(session, event)
