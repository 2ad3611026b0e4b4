"""A webhook receiver for tests: a stdlib HTTP server on a loopback port that verifies every signature.

It runs in a thread, so the code under test (in-process or in another process) reaches it over real
HTTP. Each request is checked with the ``standardwebhooks`` package's own verifier against the secrets
the test gives; what it answers is decided per request by ``respond`` (status, headers, delay), so a test
can make it fail, slow down, ask for a ``Retry-After`` or answer 410. ``stop()`` then ``start()`` on the
same port simulates an outage.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError


@dataclass
class Delivery:
    """One request the receiver got (verified or not)."""

    id: str
    type: str
    data: dict[str, Any]
    body: dict[str, Any]
    headers: dict[str, str]
    verified_with: list[int]  # indexes of the secrets whose signature matched
    at: float
    status: int


Answer = tuple[int, dict[str, str], float]  # status, headers, delay before answering


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    secrets: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    respond: Callable[[Delivery], Answer] = lambda _delivery: (200, {}, 0.0)
    received: list[Delivery] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = []
                for index, secret in enumerate(receiver.secrets):
                    try:
                        Webhook(secret).verify(raw, headers)
                        verified.append(index)
                    except WebhookVerificationError:
                        pass
                if receiver.secrets and not verified:
                    with receiver._lock:
                        receiver.rejected.append(headers.get("webhook-id", "?"))
                    self._answer(401, {}, b"bad signature")
                    return
                body = json.loads(raw)
                delivery = Delivery(
                    id=headers.get("webhook-id", ""),
                    type=body.get("type", ""),
                    data=body.get("data", {}),
                    body=body,
                    headers=headers,
                    verified_with=verified,
                    at=time.monotonic(),
                    status=0,
                )
                status, extra, delay = receiver.respond(delivery)
                if delay:
                    time.sleep(delay)
                delivery.status = status
                with receiver._lock:
                    receiver.received.append(delivery)
                self._answer(status, extra, b"ok" if status < 300 else b"nope")

            def _answer(self, status: int, extra: dict[str, str], payload: bytes) -> None:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return

        ThreadingHTTPServer.allow_reuse_address = True
        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def accepted(self) -> list[Delivery]:
        """Deliveries answered 2xx, in arrival order."""
        with self._lock:
            return [d for d in self.received if 200 <= d.status < 300]

    def accepted_ids(self) -> list[str]:
        return [d.id for d in self.accepted()]

    def types_by_resource(self) -> dict[str, list[str]]:
        """Event types per resource (``data.id``) in arrival order, each webhook id counted once (delivery is at
        least once, so a crash can send one twice)."""
        seen: set[str] = set()
        flows: dict[str, list[str]] = {}
        for delivery in self.accepted():
            if delivery.id not in seen:
                seen.add(delivery.id)
                flows.setdefault(delivery.data["id"], []).append(delivery.type)
        return flows


@dataclass
class HungReceiver:
    """A receiver that accepts connections and never answers (a partner stuck behind a dead upstream).

    Each request the worker sends it holds one connection until the attempt's time limit; ``connections``
    counts those accepted so far, which is how many requests were in flight to it at once while no attempt
    has timed out yet.
    """

    port: int = field(default_factory=free_port)
    connections: int = 0
    _listener: socket.socket | None = None
    _held: list[socket.socket] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> HungReceiver:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        listener.settimeout(0.1)
        self._listener = listener

        def accept() -> None:
            while self._listener is listener:
                try:
                    conn, _ = listener.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                with self._lock:
                    self._held.append(conn)
                    self.connections += 1

        threading.Thread(target=accept, daemon=True).start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            for conn in self._held:
                conn.close()
            self._held.clear()
