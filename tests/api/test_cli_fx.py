"""``oms-api fx import``: the ECB's daily and historical reference-rate files (samples in tests/fixtures/ecb/),
run in-process against fresh SQLite files as in test_cli.py."""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from oms_api.settings import get_settings
from tests.api.test_cli import Cli

ECB = Path(__file__).resolve().parents[1] / "fixtures" / "ecb"
DAILY = ECB / "eurofxref.csv"
HISTORICAL = ECB / "eurofxref-hist.csv"


@pytest.fixture
def cli(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """The CLI pointed (through OMS_DATABASE_URL) at a fresh, migrated SQLite database."""
    path = tmp_path / "cli.db"
    shutil.copyfile(sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    monkeypatch.setenv("OMS_DATABASE_URL", url)
    monkeypatch.setenv("OMS_LOG_LEVEL", "warning")
    get_settings.cache_clear()
    yield Cli(capsys, url)
    get_settings.cache_clear()


def test_the_daily_file_is_imported_and_a_second_run_skips_it(cli: Cli) -> None:
    out = cli.ok("fx", "import", str(DAILY))
    assert "Imported eurofxref.csv (ECB daily file): 1 date, 2026-12-03." in out
    assert "Rates: 29 inserted, 0 skipped (already stored), 0 conflicts" in out
    assert cli.rows("SELECT rate, source FROM fx_rates WHERE quote = 'USD'") == [("1.0865", "ecb")]
    assert cli.rows("SELECT rate FROM fx_rates WHERE quote = 'GBP'") == [("0.85432",)]
    assert cli.rows("SELECT count(*) FROM events WHERE type = 'fx_rate.created'") == [(1,)]
    again = cli.ok("fx", "import", str(DAILY))
    assert "Rates: 0 inserted, 29 skipped (already stored), 0 conflicts" in again
    assert cli.rows("SELECT count(*) FROM fx_rates") == [(29,)]
    assert cli.rows("SELECT count(*) FROM events WHERE type = 'fx_rate.created'") == [(1,)]


def test_the_historical_file_is_imported_in_batches_of_whole_days_with_progress(cli: Cli) -> None:
    code, out, err = cli("fx", "import", str(HISTORICAL), "--batch-size", "50", "--source", "ecb-hist")
    assert code == 0, err
    assert "Imported eurofxref-hist.csv (ECB historical file): 40 dates, 2026-10-08 to 2026-12-02." in out
    # 6 currencies on 40 days, ISK on 38 (N/A twice); CYP is N/A throughout.
    assert "Rates: 278 inserted, 0 skipped (already stored), 0 conflicts" in out
    assert "Ignored 35 rates of codes that are not ISO 4217 currencies today: BGN." in out
    progress = err.splitlines()
    assert len(progress) >= 4
    assert all(line.startswith("fx import: ") for line in progress)
    assert progress[-1].startswith("fx import: 278 of 278 rates (100%), at 2026-10-08")
    assert cli.rows("SELECT count(DISTINCT rate_date), count(*) FROM fx_rates") == [(40, 278)]
    assert cli.rows("SELECT DISTINCT source FROM fx_rates") == [("ecb-hist",)]
    assert cli.rows("SELECT count(*) FROM fx_rates WHERE quote IN ('BGN', 'CYP')") == [(0,)]
    # One event per date, each with that date's rates: a day is never split across batches.
    assert cli.rows("SELECT count(*) FROM events WHERE type = 'fx_rate.created'") == [(40,)]


def test_a_small_file_shows_no_progress(cli: Cli) -> None:
    code, _, err = cli("fx", "import", str(HISTORICAL))
    assert code == 0
    assert err == ""


def test_clashing_rates_are_reported_and_the_stored_value_kept(cli: Cli, tmp_path: Path) -> None:
    cli.ok("fx", "import", str(DAILY))
    changed = tmp_path / "eurofxref.csv"
    changed.write_text(
        "Date, USD, JPY, CHF, \n03 December 2026, 1.0866, 162.45, 0.9412, \n",
        encoding="utf-8",
    )
    code, out, _ = cli("fx", "import", str(changed))
    assert code == 0
    assert "Rates: 0 inserted, 2 skipped (already stored), 1 conflict (stored value kept)." in out
    assert "conflict: EUR -> USD on 2026-12-03: file 1.0866, stored 1.0865" in out
    assert cli.rows("SELECT rate FROM fx_rates WHERE quote = 'USD'") == [("1.0865",)]


def test_the_zip_the_ecb_serves_is_read(cli: Cli, tmp_path: Path) -> None:
    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(HISTORICAL, "eurofxref-hist.csv")
    out = cli.ok("fx", "import", str(archive))
    assert "278 inserted" in out


def test_a_malformed_file_exits_1_naming_the_line_and_imports_nothing(cli: Cli, tmp_path: Path) -> None:
    lines = HISTORICAL.read_text(encoding="utf-8").splitlines()
    lines[30] = lines[30].replace("1.", "1,", 1)  # one value too many, deep in the file
    broken = tmp_path / "hist.csv"
    broken.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, out, err = cli("fx", "import", str(broken), "--batch-size", "50")
    assert code == 1
    assert not out
    assert err.startswith(f"oms-api: {broken}: line 31: 10 values for 9 currencies; nothing was imported")
    assert cli.rows("SELECT count(*) FROM fx_rates") == [(0,)]


def test_a_missing_file_or_a_bad_source_is_refused(cli: Cli, tmp_path: Path) -> None:
    code, _, err = cli("fx", "import", str(tmp_path / "nowhere.csv"))
    assert code == 1
    assert "nowhere.csv" in err
    code, _, err = cli("fx", "import", str(DAILY), "--source", "ECB!")
    assert code == 2
    assert "--source" in err
