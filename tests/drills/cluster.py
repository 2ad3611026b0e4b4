"""A PostgreSQL cluster of the test's own, in a temporary directory on a free port.

The restart drill stops and starts the database under a running service; it must not do that to the
shared server every other test uses, so it makes its own with ``initdb`` and ``pg_ctl``. PostgreSQL
refuses to run as root, so when the tests run as root the cluster belongs to the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


def _bin_dir() -> Path:
    """The newest installed server's binaries (Debian puts them under /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        pytest.fail("no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql)", pytrace=False)
    return found[-1].parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TempCluster:
    """``initdb`` + ``pg_ctl`` on ``directory``; ``url(db)`` gives an asyncpg SQLAlchemy URL."""

    directory: Path
    port: int = 0

    def __post_init__(self) -> None:
        self.port = self.port or _free_port()
        self.bin = _bin_dir()
        self.data = self.directory / "data"
        self.user = "postgres" if os.geteuid() == 0 else None

    def _run(self, *args: str, timeout: float = 60) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, timeout=timeout, capture_output=True)

    def init(self) -> TempCluster:
        self.directory.mkdir(parents=True, exist_ok=True)
        if self.user:
            record = pwd.getpwnam(self.user)
            os.chown(self.directory, record.pw_uid, record.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.directory / "server.log"), "-w", "start"
        )

    def stop(self) -> None:
        """Fast shutdown: open sessions are terminated, as in a failover or a restart for maintenance."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.directory, ignore_errors=True)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"
