"""``oms-api``: serve, run the worker, migrate, manage API keys, export the OpenAPI document, purge, seed demo data.

Every command reads its settings from the environment (``OMS_DATABASE_URL`` …). Exit codes: 0 done,
1 failed (or ``openapi --check`` found a difference), 2 unusable arguments.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from oms_api.cli import fx, keys, sealing, serving
from oms_api.cli.common import CommandError, first_line, missing_table, positive, with_session
from oms_api.cli.sealing import resealers
from oms_api.cli.serving import should_auto_migrate, uvicorn_options
from oms_api.kit import idempotency, secrets
from oms_api.settings import Settings, get_settings

__all__ = ["main", "resealers", "should_auto_migrate", "uvicorn_options"]
DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


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
    except (CommandError, OSError, secrets.SecretsError) as exc:
        print(f"oms-api: {exc}", file=sys.stderr)
        return 1
    except SQLAlchemyError as exc:
        print(f"oms-api: database error: {first_line(exc)}", file=sys.stderr)
        if missing_table(exc):
            print("oms-api: the database has no schema yet: run `oms-api migrate` first", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="oms-api", description="Headless order management system.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="run the HTTP API (uvicorn)")
    serve.add_argument("--host", help="listen address (default: OMS_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: OMS_PORT or 8000)")
    serve.add_argument("--workers", type=positive, default=1, help="worker processes (default: 1)")
    serve.add_argument(
        "--with-worker",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also run the background worker in this process (default: OMS_SERVE_WITH_WORKER, else yes on SQLite)",
    )
    serve.set_defaults(handler=serving.cmd_serve)

    worker = commands.add_parser("worker", help="run the background worker: webhook delivery and scheduled jobs")
    worker.add_argument(
        "--metrics-port", type=int, help="serve Prometheus metrics on this port (default: OMS_WORKER_METRICS_PORT)"
    )
    worker.set_defaults(handler=serving.cmd_worker)

    migrate = commands.add_parser("migrate", help="apply (or undo) database migrations")
    target = migrate.add_mutually_exclusive_group()
    target.add_argument("--revision", default="head", help="upgrade to this revision (default: head)")
    target.add_argument("--downgrade", metavar="REV", help="downgrade to this revision (e.g. -1 or base)")
    migrate.set_defaults(handler=serving.cmd_migrate)

    keys.add_commands(commands)

    openapi = commands.add_parser("openapi", help="write the OpenAPI document")
    openapi.add_argument("--output", type=Path, default=DEFAULT_OPENAPI_PATH, help=f"default: {DEFAULT_OPENAPI_PATH}")
    openapi.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is out of date")
    openapi.set_defaults(handler=cmd_openapi)

    idem = commands.add_parser("idempotency", help="maintain stored Idempotency-Key results")
    idem_commands = idem.add_subparsers(dest="idempotency_command", required=True, metavar="ACTION")
    idem_commands.add_parser("purge", help="delete expired keys").set_defaults(handler=cmd_idempotency_purge)

    sealing.add_commands(commands)
    fx.add_commands(commands)

    demo = commands.add_parser("demo", help="seed demo data through the API (idempotent)")
    demo.set_defaults(handler=cmd_demo)
    return parser


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
