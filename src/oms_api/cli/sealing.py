"""``oms-api secrets``: the key that seals stored credentials; making one and re-encrypting under a new one."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.cli.common import positive
from oms_api.kit import secrets
from oms_api.kit.db import create_engine, session_factory
from oms_api.kit.resealing import Resealed
from oms_api.settings import Settings


def add_commands(commands: Any) -> None:
    keys_at_rest = commands.add_parser("secrets", help="the key that seals stored credentials (OMS_SECRET_KEY)")
    secret_commands = keys_at_rest.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    secret_commands.add_parser(
        "generate-key", help="print a new key (32 random bytes, URL-safe base64) for OMS_SECRET_KEY"
    ).set_defaults(handler=cmd_secrets_generate_key)
    rotate = secret_commands.add_parser(
        "rotate",
        help="re-encrypt every stored credential with OMS_SECRET_KEY, reading old ones with OMS_SECRET_KEY_PREVIOUS",
    )
    rotate.add_argument(
        "--batch-size", type=positive, default=200, help="rows per transaction (default: 200; locks last one batch)"
    )
    rotate.set_defaults(handler=cmd_secrets_rotate)


def start_keyring(settings: Settings) -> secrets.Keyring:
    """The keyring of ``serve`` and ``worker``, resolved now: without a key, PostgreSQL is refused with one clear
    line, and SQLite's key file is read or made (and logged) before anything else runs."""
    secrets.install(settings)
    return secrets.active()


def cmd_secrets_generate_key(args: argparse.Namespace, settings: Settings) -> int:
    print(secrets.generate_key())
    return 0


def cmd_secrets_rotate(args: argparse.Namespace, settings: Settings) -> int:
    keyring = start_keyring(settings)

    async def run() -> list[Resealed]:
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            sessions = session_factory(engine)
            return [await reseal(sessions, args.batch_size) for reseal in resealers()]
        finally:
            await engine.dispose()

    reports = asyncio.run(run())
    for report in reports:
        print(f"{report.table}: {report.resealed} re-encrypted, {report.current} already under the current key")
    print(f"Every stored credential is sealed with key {keyring.current_id} (OMS_SECRET_KEY or the key file).")
    if settings.secret_key_previous is not None:
        print("OMS_SECRET_KEY_PREVIOUS is no longer needed: remove it once every process runs with the new key.")
    return 0


def resealers() -> list[Callable[[async_sessionmaker[AsyncSession], int], Awaitable[Resealed]]]:
    """Each owner's re-encryption of its sealed columns (a test checks that every sealed column has one)."""
    from oms_api.channels import service as channels
    from oms_api.webhooks import service as webhooks

    return [channels.reseal_secrets, webhooks.reseal_secrets]
