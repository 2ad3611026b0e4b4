"""Pure ASGI middleware: request id, access log and HTTP metrics (cheaper than BaseHTTPMiddleware)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from oms_api.kit.metrics import HTTP_LATENCY, HTTP_REQUESTS

log = structlog.get_logger("oms_api.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = route_template(scope)
            HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(scope["method"], route).observe(elapsed)
            principal: Any = scope.get("state", {}).get("principal")
            log.info(
                "request",
                method=scope["method"],
                route=route,
                status=status,
                duration_ms=round(elapsed * 1000, 2),
                api_key_id=str(principal.api_key_id) if principal else None,
            )
            structlog.contextvars.clear_contextvars()


def route_template(scope: Scope) -> str:
    """The matched route's template (``/v1/orders/{order_id}``): bounded label cardinality."""
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"
