"""``oms-api serve`` as an operator starts it: the multiprocess metrics directory is made before anything
creates a metric (a start-up that wired the service first crashed on a directory that did not exist yet)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.servers import _free_ports


@pytest.mark.slow
def test_serve_with_a_new_metrics_directory_starts_and_counts_requests(tmp_path: Path) -> None:
    port = _free_ports(1)[0]
    metrics = tmp_path / "metrics" / "not-yet"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
    env |= {
        "OMS_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}",
        "OMS_LOG_LEVEL": "warning",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
        "OMS_METRICS_PUBLIC": "true",  # scraped without a key here (tests/api/test_public_surfaces.py: with one)
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "oms_api.cli", "serve", "--port", str(port), "--no-with-worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (server.stdout.read() if server.stdout else b"").decode()[-3000:]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not answer /healthz within 60 s"
            time.sleep(0.2)
        metrics_text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        assert "oms_http_requests_total" in metrics_text
        assert metrics.is_dir()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
