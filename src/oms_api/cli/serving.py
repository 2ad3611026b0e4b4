"""``oms-api serve``, ``worker`` and ``migrate``: running the service and keeping its schema current."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from oms_api.cli.common import redacted
from oms_api.cli.sealing import start_keyring
from oms_api.kit import migrations
from oms_api.kit.db import is_sqlite
from oms_api.settings import Settings


def should_auto_migrate(settings: Settings) -> bool:
    """``OMS_AUTO_MIGRATE`` if set, else yes on SQLite (one process owns the file) and no on PostgreSQL."""
    if settings.auto_migrate is not None:
        return settings.auto_migrate
    return is_sqlite(settings.database_url)


def should_embed_worker(settings: Settings, requested: bool | None, processes: int) -> bool:
    """``--with-worker`` if given, else ``OMS_SERVE_WITH_WORKER``, else yes on SQLite with one process."""
    if requested is not None:
        return requested
    if settings.serve_with_worker is not None:
        return settings.serve_with_worker and processes == 1
    return is_sqlite(settings.database_url) and processes == 1


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every ``serve`` gives uvicorn: its loggers are left to ``kit.logging`` (``log_config=None``), so its
    lines are JSON like ours, and its access log is off (RequestContextMiddleware logs every request, with its
    id and route template, never the query string)."""
    return {"proxy_headers": True, "access_log": False, "log_config": None, "log_level": settings.log_level.lower()}


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from oms_api.kit.logging import configure_logging

    configure_logging(settings.log_level, settings.log_json)  # this process's (migrations, uvicorn's supervisor)
    embed = should_embed_worker(settings, args.with_worker, args.workers)
    if embed and args.workers > 1:
        print(
            "oms-api: --with-worker runs with one process; run `oms-api worker` beside `serve --workers N`",
            file=sys.stderr,
        )
        return 2
    start_keyring(settings)  # before migrating: a migration may seal stored values with it
    if should_auto_migrate(settings):
        migrations.upgrade(settings.database_url)
    _prepare_metrics_dir(args.workers)
    if embed:
        asyncio.run(_serve_with_worker(settings, args.host or settings.host, args.port or settings.port))
        return 0
    uvicorn.run(
        "oms_api.asgi:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        **uvicorn_options(settings),
    )
    return 0


async def _serve_with_worker(settings: Settings, host: str, port: int) -> None:
    """uvicorn and one worker in one event loop (the embedded default: a single command, a working system).

    uvicorn takes SIGTERM/SIGINT while it serves and raises them again once it has stopped; the handler set
    here receives them then and stops the worker gracefully too.
    """
    import signal

    import uvicorn

    from oms_api.app import create_app
    from oms_api.worker.runner import Worker

    config = uvicorn.Config(
        create_app(settings),
        host=host,
        port=port,
        **uvicorn_options(settings),
    )
    server = uvicorn.Server(config)
    worker = Worker(settings)
    previous = {sig: signal.signal(sig, lambda *_: worker.request_stop()) for sig in (signal.SIGTERM, signal.SIGINT)}
    task = asyncio.create_task(worker.run())
    try:
        await server.serve()
    finally:
        worker.request_stop()
        await task
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    from oms_api.kit.logging import configure_logging
    from oms_api.worker.runner import run_worker

    configure_logging(settings.log_level, settings.log_json)
    start_keyring(settings)
    port = args.metrics_port or settings.worker_metrics_port
    if port:
        from prometheus_client import start_http_server

        start_http_server(port, addr=settings.host)
    asyncio.run(run_worker(settings))
    return 0


def _prepare_metrics_dir(workers: int) -> None:
    """Multiprocess metrics need an existing, empty PROMETHEUS_MULTIPROC_DIR when the server starts."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        if workers > 1:
            print("oms-api: note: set PROMETHEUS_MULTIPROC_DIR so /metrics covers every worker", file=sys.stderr)
        return
    path = Path(directory)
    if path.is_dir():
        for stale in path.glob("*.db"):
            stale.unlink()
    path.mkdir(parents=True, exist_ok=True)


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    where = redacted(settings.database_url)
    if args.downgrade is not None:
        migrations.downgrade(settings.database_url, args.downgrade)
        print(f"Downgraded {where} to {args.downgrade}")
    else:
        migrations.upgrade(settings.database_url, args.revision)
        print(f"Migrated {where} to {args.revision}")
    return 0
