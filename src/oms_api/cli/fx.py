"""``oms-api fx import FILE``: the European Central Bank's reference rates (daily or historical file, CSV or the
ZIP the ECB serves) into ``fx_rates``."""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

from oms_api.cli.common import CommandError, positive
from oms_api.fx import service
from oms_api.fx.domain import ECB_SOURCE, EcbFormatError, rate_text
from oms_api.kit.db import create_engine, session_factory
from oms_api.settings import Settings

PROGRESS_STEPS = 10
"""A large file reports its progress on stderr every tenth of its rates."""
MAX_CLASHES_LISTED = 20
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def add_commands(commands: Any) -> None:
    fx = commands.add_parser("fx", help="exchange rates")
    fx_commands = fx.add_subparsers(dest="fx_command", required=True, metavar="ACTION")
    importer = fx_commands.add_parser(
        "import",
        help="import an ECB reference-rate file: eurofxref.csv (daily) or eurofxref-hist.csv (historical), "
        "or the .zip the ECB serves either in",
    )
    importer.add_argument("file", type=Path, metavar="FILE")
    importer.add_argument("--source", type=_source, default=ECB_SOURCE, help="who published the rates (default: ecb)")
    importer.add_argument(
        "--batch-size",
        type=positive,
        default=service.BATCH_ROWS,
        help="rates per transaction, in whole days (default: 1000)",
    )
    importer.set_defaults(handler=cmd_fx_import)


def _source(value: str) -> str:
    if not _SOURCE.match(value):
        raise argparse.ArgumentTypeError("must be lower-case letters, digits, - or _ (at most 32)")
    return value


def read_lines(path: Path) -> list[str]:
    """The lines of an ECB file: a CSV, or the ZIP archive holding one."""
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [name for name in archive.namelist() if name.lower().endswith(".csv")]
            if len(names) != 1:
                raise CommandError(f"{path}: the archive holds {len(names)} CSV files, not one")
            data = archive.read(names[0])
    try:
        return data.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise CommandError(f"{path}: not a text file in UTF-8 (an ECB CSV file is plain ASCII)") from None


def cmd_fx_import(args: argparse.Namespace, settings: Settings) -> int:
    path: Path = args.file
    lines = read_lines(path)
    try:
        report = service.check(lines)
    except EcbFormatError as exc:
        raise CommandError(f"{path}: {exc}; nothing was imported") from None
    large = report.rates_in_file > args.batch_size
    shown = [0]

    def progress(done: int, total: int, last: date) -> None:
        step = done * PROGRESS_STEPS // max(total, 1)
        if large and step > shown[0]:
            shown[0] = step
            print(f"fx import: {done:,} of {total:,} rates ({done * 100 // total}%), at {last}", file=sys.stderr)

    async def run() -> None:
        engine = create_engine(settings.database_url, pool_size=1, max_overflow=0)
        try:
            await service.import_ecb(
                session_factory(engine),
                lines,
                report,
                source=args.source,
                batch_rows=args.batch_size,
                progress=progress,
                actor="cli:fx-import",
            )
        finally:
            await engine.dispose()

    asyncio.run(run())
    span = f", {report.first_date} to {report.last_date}" if report.first_date != report.last_date else ""
    if report.first_date == report.last_date and report.first_date is not None:
        span = f", {report.first_date}"
    dates = f"{report.dates} date{'s' if report.dates != 1 else ''}"
    print(f"Imported {path.name} (ECB {report.format} file): {dates}{span}.")
    print(
        f"Rates: {report.inserted} inserted, {report.skipped} skipped (already stored), "
        f"{len(report.clashes)} conflict{'s' if len(report.clashes) != 1 else ''} (stored value kept)."
    )
    if report.not_currencies:
        print(
            f"Ignored {report.ignored} rates of codes that are not ISO 4217 currencies today: "
            f"{', '.join(sorted(report.not_currencies))}."
        )
    for clash in report.clashes[:MAX_CLASHES_LISTED]:
        given = clash.given
        print(
            f"  conflict: {given.base} -> {given.quote} on {given.rate_date}: file {rate_text(given.rate)}, "
            f"stored {rate_text(clash.existing)}"
        )
    if len(report.clashes) > MAX_CLASHES_LISTED:
        print(f"  … and {len(report.clashes) - MAX_CLASHES_LISTED} more conflicts")
    return 0
