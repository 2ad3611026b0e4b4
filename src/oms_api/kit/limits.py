"""Request body limits per route class, enforced as the body arrives, and the RateLimit headers of each response.

``LimitsMiddleware`` is pure ASGI (no ``BaseHTTPMiddleware``): it wraps ``receive``, so nothing is buffered ahead
of the application. The limit is looked up when the application first asks for the body, which is after the
route matched and after ``kit.admission`` let the caller in: an unauthenticated request is 401 and a forbidden
one 403 whatever its size, and its body is never read. Then a declared ``Content-Length`` over the limit is
refused before one byte is read, and a body without one (chunked) is counted as it streams and refused as soon
as it passes the limit: 413 ``payload_too_large`` either way, never the whole body in memory.

Starlette's ``RequestBodyLimitMiddleware`` (and FastAPI's ``max_body_size``) is not used: it replaces any
response to an over-declared request, the 401 included, with a plain-text 413.

Route classes: ``default`` (``OMS_BODY_LIMIT_BYTES``), ``bulk`` (routes declaring ``openapi_extra=BULK_BODY``:
carrier rate tables, batch allocation; ``OMS_BODY_LIMIT_BULK_BYTES``) and ``inbound`` (webhooks a platform signs,
``x-signed-by-platform``; ``OMS_BODY_LIMIT_INBOUND_BYTES``). The class shows in the OpenAPI document as
``x-body-limit`` on bulk routes.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms_api.kit.errors import PROBLEM_MEDIA_TYPE, OmsError
from oms_api.kit.route_marks import BODY_LIMIT, SIGNED_BY_PLATFORM

RATE_LIMIT_HEADERS = "rate_limit_headers"
"""``request.state`` key: the ``RateLimit`` headers ``kit.admission`` decided, added to whatever response leaves."""

BodyClass = Literal["default", "bulk", "inbound"]


def body_class(route: Any) -> BodyClass:
    """The body limit class of a matched route (``default`` when no route matched)."""
    extra: dict[str, Any] = getattr(route, "openapi_extra", None) or {}
    if extra.get(SIGNED_BY_PLATFORM):
        return "inbound"
    return "bulk" if extra.get(BODY_LIMIT) == "bulk" else "default"


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException, so FastAPI's body reading lets it through to the problem
    handlers (413 ``payload_too_large``) instead of turning it into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes, the most this route accepts")
        self.limit = limit


class LimitsMiddleware:
    def __init__(self, app: ASGIApp, *, default: int, bulk: int, inbound: int) -> None:
        self.app = app
        self.limits: dict[BodyClass, int] = {"default": default, "bulk": bulk, "inbound": inbound}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal limit, received
            if limit is None:  # the first read: the route is known now
                limit = self.limits[body_class(scope.get("route"))]
                declared = _content_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                extra = scope.get("state", {}).get(RATE_LIMIT_HEADERS)
                if extra:
                    message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except BodyTooLarge as exc:  # raised where no exception handler runs (a background read)
            if started:
                raise
            await _send_problem(send, exc, scope.get("path", ""))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _send_problem(send: Send, exc: BodyTooLarge, path: str) -> None:
    error = OmsError(str(exc.detail), status=413, code="payload_too_large", title="Payload too large")
    body = orjson.dumps(error.to_problem(instance=path))
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", PROBLEM_MEDIA_TYPE.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
