"""``oms-api api-keys``: create, list, update (rate limits) and revoke API keys."""

from __future__ import annotations

import argparse
import math
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.cli.common import CommandError, key_id, with_session
from oms_api.kit.auth import ApiKey, KeyRateLimit, Scope, create_api_key, revoke_api_key, set_rate_limit
from oms_api.settings import Settings


def add_commands(commands: Any) -> None:
    keys = commands.add_parser("api-keys", help="create, list, update and revoke API keys")
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
    _rate_limit_options(create)
    create.set_defaults(handler=cmd_keys_create)
    key_commands.add_parser("list", help="list keys (never their secrets)").set_defaults(handler=cmd_keys_list)
    update = key_commands.add_parser("update", help="change a key's rate limit (every API process applies it at once)")
    update.add_argument("key_id", type=key_id, metavar="KEY_ID")
    _rate_limit_options(update)
    update.add_argument(
        "--default-rate-limit",
        action="store_true",
        help="forget the key's own rate limit: OMS_RATE_LIMIT_PER_SECOND and OMS_RATE_LIMIT_BURST apply again",
    )
    update.set_defaults(handler=cmd_keys_update)
    revoke = key_commands.add_parser("revoke", help="revoke a key: it is refused from then on")
    revoke.add_argument("key_id", type=key_id, metavar="KEY_ID")
    revoke.set_defaults(handler=cmd_keys_revoke)


def _rate_limit_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate-limit-per-second",
        type=_rate,
        metavar="N",
        help="the key's own rate (requests per second, fractions allowed; 0: unlimited); "
        "default: OMS_RATE_LIMIT_PER_SECOND",
    )
    parser.add_argument(
        "--rate-limit-burst",
        type=_burst,
        metavar="M",
        help="the key's own burst (requests at once; 0: unlimited); default: OMS_RATE_LIMIT_BURST",
    )


def _rate(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not (math.isfinite(number) and number >= 0):
        raise argparse.ArgumentTypeError("must be a number of requests per second, 0 or more")
    return number


def _burst(value: str) -> int:
    number = int(value) if value.isdigit() else -1
    if number < 0:
        raise argparse.ArgumentTypeError("must be a whole number, 0 or more")
    return number


def _key_name(value: str) -> str:
    name = value.strip()
    if not 1 <= len(name) <= 100:
        raise argparse.ArgumentTypeError("must be 1 to 100 characters")
    return name


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    async def create(session: AsyncSession) -> tuple[ApiKey, str]:
        limit = KeyRateLimit(args.rate_limit_per_second, args.rate_limit_burst)
        return await create_api_key(session, args.name, list(args.scopes), limit)

    key, secret = with_session(settings, create)
    print(f"Created API key {key.name!r} (id {key.id}, scopes: {', '.join(key.scopes)}).")
    print(f"Rate limit: {describe_rate_limit(key, settings)}.")
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
    rows = [("ID", "NAME", "PREFIX", "SCOPES", "CREATED_AT", "RATE_LIMIT", "REVOKED_AT")]
    for key in keys:
        rows.append(
            (
                str(key.id),
                key.name,
                key.prefix,
                ",".join(key.scopes),
                key.created_at.isoformat(timespec="seconds"),
                describe_rate_limit(key, settings),
                key.revoked_at.isoformat(timespec="seconds") if key.revoked_at else "-",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


def cmd_keys_update(args: argparse.Namespace, settings: Settings) -> int:
    if args.rate_limit_per_second is None and args.rate_limit_burst is None and not args.default_rate_limit:
        raise CommandError("nothing to change: give --rate-limit-per-second, --rate-limit-burst, --default-rate-limit")

    async def update(session: AsyncSession) -> ApiKey | None:
        key = await session.get(ApiKey, args.key_id)
        if key is None:
            return None
        per_second = None if args.default_rate_limit else key.rate_limit_per_second
        burst = None if args.default_rate_limit else key.rate_limit_burst
        if args.rate_limit_per_second is not None:
            per_second = args.rate_limit_per_second
        if args.rate_limit_burst is not None:
            burst = args.rate_limit_burst
        return await set_rate_limit(session, key.id, KeyRateLimit(per_second, burst))

    key = with_session(settings, update)
    if key is None:
        raise CommandError(f"no API key with id {args.key_id} (see `oms-api api-keys list`)")
    print(f"API key {key.name!r} ({key.id}) rate limit: {describe_rate_limit(key, settings)}.")
    return 0


def describe_rate_limit(key: ApiKey, settings: Settings) -> str:
    """``5/s, bursts of 10``, ``unlimited``, with ``(default)`` where the service's default applies."""
    own = key.rate_limit_per_second is not None or key.rate_limit_burst is not None
    rate = settings.rate_limit_per_second if key.rate_limit_per_second is None else key.rate_limit_per_second
    burst = settings.rate_limit_burst if key.rate_limit_burst is None else key.rate_limit_burst
    text = "unlimited" if rate <= 0 or burst <= 0 else f"{rate:g}/s, bursts of {burst}"
    return text if own else f"{text} (default)"


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    async def revoke(session: AsyncSession) -> ApiKey | None:
        return await revoke_api_key(session, args.key_id)

    key = with_session(settings, revoke)
    if key is None:
        raise CommandError(f"no API key with id {args.key_id} (see `oms-api api-keys list`)")
    assert key.revoked_at is not None
    print(f"API key {key.name!r} ({key.id}) is revoked since {key.revoked_at.isoformat(timespec='seconds')}.")
    return 0
