"""``oms-api``: serve, run the worker, migrate, manage API keys, export the OpenAPI document, purge, seed demo data.

Every command reads its settings from the environment (``OMS_DATABASE_URL`` …). Exit codes: 0 done,
1 failed (or ``openapi --check`` found a difference), 2 unusable arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import idempotency, migrations
from oms_api.kit.auth import ApiKey, Scope, create_api_key, revoke_api_key
from oms_api.kit.db import create_engine, is_sqlite, session_factory, session_scope
from oms_api.settings import Settings, get_settings

T = TypeVar("T")
DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


class CommandError(Exception):
    """A failure worth one clear line on stderr (exit 1), not a traceback."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``oms-api`` console script."""
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace, Settings], int] = args.handler
    try:
        settings = get_settings()
    except ValidationError as exc:
        print(f"oms-api: invalid configuration (OMS_* environment variables):\n{exc}", file=sys.stderr)
        return 2
    try:
        return command(args, settings)
    except (CommandError, OSError) as exc:
        print(f"oms-api: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"oms-api: database error: {_first_line(exc)}", file=sys.stderr)
        if _missing_table(exc):
            print("oms-api: the database has no schema yet: run `oms-api migrate` first", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms-api", description="Headless order management system.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", help="listen address (default: OMS_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: OMS_PORT or 8000)")
    serve.add_argument("--workers", type=_positive, default=1, help="worker processes (default: 1)")
    serve.add_argument(
        "--with-worker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run the background worker in this process (default: OMS_SERVE_WITH_WORKER, else yes on SQLite)",
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser("worker", help="run the background worker: webhook delivery and scheduled jobs")
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on this port (default: OMS_WORKER_METRICS_PORT)"
    )
    worker.set_defaults(handler=cmd_worker)

    migrate = commands.add_parser("migrate", help="apply (or undo) database migrations")
    target = migrate.add_mutually_exclusive_group()
    target.add_argument("--revision", default="head", help="upgrade to this revision (default: head)")
    target.add_argument("--downgrade", metavar="REV", help="downgrade to this revision (e.g. -1 or base)")
    migrate.set_defaults(handler=cmd_migrate)

    keys = commands.add_parser("api-keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key; prints its secret once, on the last line")
    create.add_argument("--name", required=True, type=_key_name, help="who or what uses the key")
    create.add_argument(
        "--scope",
        dest="scopes",
        action="append",
        required=True,
        choices=[scope.value for scope in Scope],
        metavar="SCOPE",
        help=f"repeat for several; one of: {', '.join(s.value for s in Scope)}",
    )
    create.set_defaults(handler=cmd_keys_create)
    key_commands.add_parser("list", help="list keys (never their secrets)").set_defaults(handler=cmd_keys_list)
    revoke = key_commands.add_parser("revoke", help="revoke a key: it is refused from then on")
    revoke.add_argument("key_id", type=_uuid, metavar="KEY_ID")
    revoke.set_defaults(handler=cmd_keys_revoke)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH, help=f"default: {DEFAULT_OPENAPI_PATH}")
    openapi.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    openapi.set_defaults(handler=cmd_openapi)

    idem = commands.add_parser("idempotency", help="maintain stored Idempotency-Key results")
    idem_commands = idem.add_subparsers(dest="idempotency_command", required=True, metavar="ACTION")
    idem_commands.add_parser("purge", help="delete expired keys").set_defaults(handler=cmd_idempotency_purge)

    demo = commands.add_parser("demo", help="seed demo data through the API (idempotent)")
    demo.set_defaults(handler=cmd_demo)
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _key_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= 100:
        raise argparse.ArgumentTypeError("must be 1 to 100 characters")
    return name


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a key id (a UUID)") from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _missing_table(exc: BaseException) -> bool:
    text = str(exc)
    return "no such table" in text or ("relation" in text and "does not exist" in text)


def redacted(url: str) -> str:
    """The database URL without its password, fit for printing."""
    return make_url(url).render_as_string(hide_password=True)


def should_auto_migrate(settings: Settings) -> bool:
    """``OMS_AUTO_MIGRATE`` if set, else yes on SQLite (one process owns the file) and no on PostgreSQL."""
    if settings.auto_migrate is not None:
        return settings.auto_migrate
    return is_sqlite(settings.database_url)


def with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Run ``work`` in one committed transaction on a short-lived engine."""

    async def run() -> T:
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            async with session_scope(session_factory(engine)) as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(run())


# --- serve / migrate ------------------------------------------------------------------------------


def should_embed_worker(settings: Settings, requested: bool | None, processes: int) -> bool:
    """``--with-worker`` if given, else ``OMS_SERVE_WITH_WORKER``, else yes on SQLite with one process."""
    if requested is not None:
        return requested
    if settings.serve_with_worker is not None:
        return settings.serve_with_worker and processes == 1
    return is_sqlite(settings.database_url) and processes == 1


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    embed = should_embed_worker(settings, args.with_worker, args.workers)
    if embed and args.workers > 1:
        print(
            "oms-api: --with-worker runs with one process; run `oms-api worker` beside `serve --workers N`",
            file=sys.stderr,
        )
        return 2
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
        proxy_headers=True,
        access_log=False,  # RequestContextMiddleware logs every request, with its id
        log_level=settings.log_level.lower(),
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
        proxy_headers=True,
        access_log=False,
        log_level=settings.log_level.lower(),
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


# --- api keys -------------------------------------------------------------------------------------


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create(session: AsyncSession) -> tuple[ApiKey, str]:
        return await create_api_key(session, args.name, list(args.scopes))

    key, secret = with_session(settings, create)
    print(f"Created API key {key.name!r} (id {key.id}, scopes: {', '.join(key.scopes)}).")
    print("Send it as 'Authorization: Bearer <secret>'. Copy it now: it is shown only this once")
    print("(the service stores only its SHA-256 hash). The secret is on the next line:")
    print(secret)
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    async def load(session: AsyncSession) -> list[ApiKey]:
        return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))).all())

    keys = with_session(settings, load)
    if not keys:
        print("No API keys yet: create one with `oms-api api-keys create --name NAME --scope admin`.")
        return 0
    rows = [("ID", "NAME", "PREFIX", "SCOPES", "CREATED_AT", "REVOKED_AT")]
    for key in keys:
        rows.append(
            (
                str(key.id),
                key.name,
                key.prefix,
                ",".join(key.scopes),
                key.created_at.isoformat(timespec="seconds"),
                key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def revoke(session: AsyncSession) -> ApiKey | None:
        return await revoke_api_key(session, args.key_id)

    key = with_session(settings, revoke)
    if key is None:
        raise CommandError(f"no API key with id {args.key_id} (see `oms-api api-keys list`)")
    assert key.revoked_at is not None
    print(f"API key {key.name!r} ({key.id}) is revoked since {key.revoked_at.isoformat(timespec='seconds')}.")
    return 0


# --- openapi / idempotency / demo -----------------------------------------------------------------


def cmd_openapi(args: argparse.Namespace, settings: Settings) -> int:
    from oms_api.app import create_app
    from oms_api.kit.openapi import spec_json

    spec = spec_json(create_app(settings))
    output: Path = args.output
    if args.check:
        current = output.read_text(encoding="utf-8") if output.is_file() else None
        if current != spec:
            state = "is missing" if current is None else "is out of date"
            print(f"oms-api: {output} {state}: run `oms-api openapi --output {output}`", file=sys.stderr)
            return 1
        print(f"{output} is up to date")
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(spec, encoding="utf-8")
    print(f"Wrote {output}")
    return 0


def cmd_idempotency_purge(args: argparse.Namespace, settings: Settings) -> int:
    purged = with_session(settings, idempotency.purge)
    print(f"Purged {purged} expired Idempotency-Key record{'s' if purged != 1 else ''}.")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from oms_api.demo import DemoError, seed

    try:
        asyncio.run(seed(settings))
    except DemoError as exc:
        raise CommandError(str(exc)) from exc
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
