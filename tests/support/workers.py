"""Real ``oms-api worker`` processes for the tests that need delivery across processes and crashes.

Retry waits, leases and poll intervals are seconds or less so that runs stay short; a test may
override any of them through ``extra_env``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.keys import SECRET_KEY_ENV

FAST_WORKER_ENV = {
    "OMS_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true",
    "OMS_WEBHOOKS_RETRY_SCHEDULE": ",".join(["0.2s", "0.5s"] + ["1s"] * 40),
    "OMS_WEBHOOKS_RETRY_JITTER": "0.1",
    "OMS_WEBHOOKS_TIMEOUT_SECONDS": "3",
    "OMS_WEBHOOKS_CLAIM_LEASE_SECONDS": "4",
    "OMS_WORKER_POLL_INTERVAL_SECONDS": "0.1",
    "OMS_WORKER_SHUTDOWN_GRACE_SECONDS": "5",
    "OMS_LOG_LEVEL": "warning",
    "OMS_DB_POOL_SIZE": "3",
    **SECRET_KEY_ENV,  # workers refuse PostgreSQL without a key; this one unseals what the tests sealed
}


@dataclass
class WorkerProcess:
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown grace, claims are left for the lease to expire."""
        self.process.kill()
        self.process.wait(timeout=10)


@dataclass
class Workers:
    """Starts workers on ``database_url`` with ``FAST_WORKER_ENV`` (+ ``extra_env``); ``stop()`` ends them all."""

    database_url: str
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    started: list[WorkerProcess] = field(default_factory=list)

    def start(self) -> WorkerProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMS_")}
        env.update(FAST_WORKER_ENV, OMS_DATABASE_URL=self.database_url, PYTHONUNBUFFERED="1")
        env.update(self.extra_env)
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_path = self.workdir / f"worker-{len(self.started)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "oms_api.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        worker = WorkerProcess(process, log_path)
        self.started.append(worker)
        return worker

    def stop(self) -> None:
        """SIGTERM (graceful), then SIGKILL whichever is still there."""
        for worker in self.started:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in self.started:
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=5)

    def tracebacks(self) -> list[str]:
        return [w.log()[-3000:] for w in self.started if "Traceback" in w.log()]
