"""A local stand-in for Stripe's API: recorded exchanges served on 127.0.0.1, every request kept for assertions.

The answers are JSON files of ``tests/fixtures/stripe/`` written in the shapes Stripe documents (PaymentIntent,
Charge, Refund, error and Event objects of API version 2026-10-28). Tests point ``OMS_STRIPE_API_BASE`` (or the
adapter's ``api_base``) here, so the real adapter, the real ``stripe`` library and a real HTTP exchange run, and
nothing reaches the internet. A route may also drop the connection unanswered, as a time-out looks to a client.

``sign`` makes a ``Stripe-Signature`` header the way Stripe documents it (``t=<unix time>,v1=<hex HMAC-SHA256 of
"<t>.<payload>">``), written here independently of the library that verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    t = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{t}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any] | None
    drop: bool = False


@dataclass
class StripeStub:
    routes: list[Route] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None

    def on(
        self, method: str, path: str, body: dict[str, Any] | None = None, *, status: int = 200, drop: bool = False
    ) -> None:
        """Answer ``method`` on paths matching ``path`` (a regular expression) with ``body``; the latest route
        given for a path wins. ``drop``: close the connection without answering."""
        self.routes.insert(0, Route(method, re.compile(f"^{path}$"), status, body, drop))

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> StripeStub:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                split = urlsplit(self.path)
                form = dict(parse_qsl(raw or split.query, keep_blank_values=True))
                stub.requests.append(
                    Recorded(self.command, split.path, {k.lower(): v for k, v in self.headers.items()}, form)
                )
                route = next((r for r in stub.routes if r.method == self.command and r.pattern.match(split.path)), None)
                if route is not None and route.drop:
                    self.close_connection = True
                    self.connection.close()
                    return
                status, body = (route.status, route.body) if route else (404, _missing(split.path))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("Request-Id", "req_stub")
                self.end_headers()
                self.wfile.write(payload)

            do_GET = _serve  # noqa: N815
            do_POST = _serve  # noqa: N815
            do_DELETE = _serve  # noqa: N815

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def _missing(path: str) -> dict[str, Any]:
    return {
        "error": {
            "code": "resource_missing",
            "message": f"Unrecognized request URL (POST: {path}).",
            "type": "invalid_request_error",
        }
    }
