"""The ``oms-api`` command line, run in-process (``main([...])``) against fresh SQLite files.

The commands are plain synchronous functions that call ``asyncio.run`` themselves, so these
tests are synchronous too (no event loop is running while they execute).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from oms_api.app import create_app
from oms_api.cli import main, should_auto_migrate
from oms_api.kit.auth import hash_secret
from oms_api.kit.migrations import head_revision
from oms_api.settings import Settings, get_settings

README = Path(__file__).resolve().parents[2] / "README.md"


class Cli:
    """Runs ``oms-api`` in-process and captures what it prints."""

    def __init__(self, capsys: pytest.CaptureFixture[str], url: str) -> None:
        self.capsys = capsys
        self.url = url
        self.path = Path(url.removeprefix("sqlite+aiosqlite:///"))

    def __call__(self, *argv: str) -> tuple[int, str, str]:
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse refusing the arguments
            code = int(exc.code or 0)
        out, err = self.capsys.readouterr()
        return code, out, err

    def ok(self, *argv: str) -> str:
        code, out, err = self(*argv)
        assert code == 0, f"exit {code}\nstdout:\n{out}\nstderr:\n{err}"
        return out

    def new_key(self, *scopes: str, name: str = "cli-test") -> tuple[str, str]:
        """(key id, secret) of a key made with ``api-keys create``."""
        out = self.ok("api-keys", "create", "--name", name, *(arg for s in scopes for arg in ("--scope", s)))
        match = re.search(r"id ([0-9a-f-]{36})", out)
        assert match, out
        return match.group(1), out.rstrip("\n").splitlines()[-1]

    def rows(self, sql: str) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql).fetchall()

    def status(self, secret: str, path: str) -> int:
        """The status of ``GET path`` on the app, authenticated with ``secret``."""

        async def call() -> int:
            app = create_app(Settings(database_url=self.url, log_level="warning"))
            try:
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://oms.test") as client:
                    response = await client.get(path, headers={"Authorization": f"Bearer {secret}"})
                    return response.status_code
            finally:
                await app.state.db.engine.dispose()

        return asyncio.run(call())


def _use_database(monkeypatch: pytest.MonkeyPatch, path: Path) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    monkeypatch.setenv("OMS_LOG_LEVEL", "warning")
    get_settings.cache_clear()
    return url


@pytest.fixture
def cli(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """The CLI pointed (through OMS_DATABASE_URL) at a fresh, migrated SQLite database."""
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    yield Cli(capsys, _use_database(monkeypatch, path))
    get_settings.cache_clear()


@pytest.fixture
def blank_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Cli]:
    """The CLI pointed at a SQLite file that does not exist yet."""
    yield Cli(capsys, _use_database(monkeypatch, tmp_path / "blank.db"))
    get_settings.cache_clear()


def test_a_created_key_prints_its_secret_alone_on_the_last_line_and_authenticates(cli: Cli) -> None:
    _, secret = cli.new_key("catalog:read")
    assert re.fullmatch(r"oms_[A-Za-z0-9_-]{40,}", secret)
    assert cli.status(secret, "/v1/skus") == 200
    assert cli.status(secret, "/v1/orders") == 403


def test_a_key_is_stored_hashed_never_in_clear(cli: Cli) -> None:
    _, secret = cli.new_key("admin")
    stored = [str(value) for row in cli.rows("SELECT * FROM api_keys") for value in row]
    assert hash_secret(secret) in stored
    assert not any(secret in value for value in stored)


def test_an_unknown_scope_is_refused_with_exit_2(cli: Cli) -> None:
    code, out, err = cli("api-keys", "create", "--name", "x", "--scope", "orders:destroy")
    assert code == 2
    assert "invalid choice: 'orders:destroy'" in err
    assert not out
    assert cli.rows("SELECT count(*) FROM api_keys") == [(0,)]


def test_listing_keys_shows_them_without_their_secrets(cli: Cli) -> None:
    key_id, secret = cli.new_key("orders:read", "stock:read", name="storefront")
    out = cli.ok("api-keys", "list")
    assert key_id in out
    assert "storefront" in out
    assert "orders:read,stock:read" in out
    assert secret[:12] in out  # the prefix, to recognise a key
    assert secret not in out


def test_a_revoked_key_is_refused_with_401(cli: Cli) -> None:
    key_id, secret = cli.new_key("catalog:read")
    assert cli.status(secret, "/v1/skus") == 200
    assert "is revoked since" in cli.ok("api-keys", "revoke", key_id)
    assert cli.status(secret, "/v1/skus") == 401
    listed = next(line for line in cli.ok("api-keys", "list").splitlines() if key_id in line)
    assert not listed.endswith(" -")  # REVOKED_AT is filled in


def test_revoking_an_unknown_key_fails_clearly(cli: Cli) -> None:
    code, _, err = cli("api-keys", "revoke", "01900000-0000-7000-8000-000000000000")
    assert code == 1
    assert "no API key with id" in err


def test_idempotency_purge_reports_how_many_records_went(cli: Cli) -> None:
    assert cli.ok("idempotency", "purge") == "Purged 0 expired Idempotency-Key records.\n"


def test_openapi_check_passes_on_a_fresh_export_and_fails_on_drift(cli: Cli, tmp_path: Path) -> None:
    output = tmp_path / "openapi" / "openapi.json"
    assert cli("openapi", "--output", str(output), "--check")[0] == 1  # missing
    cli.ok("openapi", "--output", str(output))
    assert '"openapi": "3.' in output.read_text()
    cli.ok("openapi", "--output", str(output), "--check")
    output.write_text(output.read_text().replace("oms-api", "other-api", 1))
    code, _, err = cli("openapi", "--output", str(output), "--check")
    assert code == 1
    assert "out of date" in err


def test_migrate_builds_a_fresh_sqlite_file_and_downgrades_it(blank_cli: Cli) -> None:
    assert "to head" in blank_cli.ok("migrate")
    assert blank_cli.rows("SELECT version_num FROM alembic_version") == [(head_revision(),)]
    assert blank_cli.rows("SELECT count(*) FROM api_keys") == [(0,)]
    blank_cli.ok("migrate", "--downgrade", "base")
    assert blank_cli.rows("SELECT name FROM sqlite_master WHERE name = 'api_keys'") == []
    blank_cli.ok("migrate", "--revision", "head")
    assert blank_cli.rows("SELECT version_num FROM alembic_version") == [(head_revision(),)]


def test_a_command_on_an_unmigrated_database_says_to_migrate(blank_cli: Cli) -> None:
    code, _, err = blank_cli("api-keys", "list")
    assert code == 1
    assert "oms-api migrate" in err


def test_serve_migrates_sqlite_by_default_but_not_postgresql() -> None:
    assert should_auto_migrate(Settings(database_url="sqlite+aiosqlite:///./x.db"))
    assert not should_auto_migrate(Settings(database_url="postgresql+asyncpg://postgres@127.0.0.1/oms"))
    assert should_auto_migrate(Settings(database_url="postgresql+asyncpg://db/oms", auto_migrate=True))
    assert not should_auto_migrate(Settings(database_url="sqlite+aiosqlite:///./x.db", auto_migrate=False))


def test_demo_seeds_through_the_api_and_a_second_run_creates_nothing(cli: Cli) -> None:
    first = cli.ok("demo")
    assert "warehouses:  3 created" in first
    assert "skus:" in first
    assert "customers:   10 created" in first
    second = cli.ok("demo")
    for line in second.splitlines()[1:-1]:
        assert " 0 created" in line, second
    assert "nothing new" in second.splitlines()[-1]
    # The temporary admin keys of both runs are revoked; the data is there for a real client.
    assert cli.rows("SELECT count(*) FROM api_keys WHERE revoked_at IS NULL") == [(0,)]
    _, secret = cli.new_key("admin")
    assert cli.status(secret, "/v1/warehouses/BER") == 200
    assert cli.status(secret, "/v1/skus/MUG-CER-WHT") == 200
    assert cli.status(secret, "/v1/channels/amazon-uk") == 200


def test_the_readme_quickstart_is_two_commands_and_ci_runs_the_second() -> None:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Quickstart", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    lines = block.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith(".venv/bin/oms-api serve")
    assert "pytest" in lines[1]


def test_the_readme_documents_every_setting_with_its_default() -> None:
    text = README.read_text(encoding="utf-8")
    rows = re.findall(r"^\| `(OMS_[A-Z_]+)` \| ([^|]*) \|", text, flags=re.MULTILINE)
    documented = {name: default.strip("`") for name, default in rows}
    expected = {
        f"OMS_{name.upper()}": "unset"
        if field.default is None
        else str(field.default).lower()
        if isinstance(field.default, bool)
        else str(field.default)
        for name, field in Settings.model_fields.items()
    }
    assert documented == expected
