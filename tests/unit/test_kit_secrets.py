"""kit.secrets: sealing and unsealing, keys, the key file, and the column types."""

from __future__ import annotations

import base64
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy.dialects import postgresql

from oms_api.kit import secrets
from oms_api.kit.secrets import EncryptedJSON, EncryptedString, Keyring, SecretKeyMissing, SecretUnreadable
from oms_api.settings import Settings
from tests.support.keys import TEST_SECRET_KEY

OLD = secrets.generate_key()
NEW = secrets.generate_key()
SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def keyring() -> Iterator[Keyring]:
    """A keyring installed for the process, the test run's one put back afterwards."""
    ring = Keyring(NEW, OLD)
    secrets.configure(ring)
    yield ring
    secrets.configure(Keyring(TEST_SECRET_KEY))


def test_a_value_round_trips_and_is_stored_as_versioned_ciphertext() -> None:
    ring = Keyring(NEW)
    sealed = ring.seal(SECRET)
    assert sealed.startswith(f"enc:v1:{ring.current_id}:")
    assert SECRET not in sealed
    assert secrets.is_sealed(sealed)
    assert ring.unseal(sealed) == SECRET


def test_sealing_twice_gives_different_ciphertexts() -> None:
    ring = Keyring(NEW)
    assert ring.seal(SECRET) != ring.seal(SECRET)


def test_unicode_and_empty_values_round_trip() -> None:
    ring = Keyring(NEW)
    for value in ("", "clé secrète ✓", "x" * 5000):
        assert ring.unseal(ring.seal(value)) == value


def test_a_wrong_key_cannot_read_and_says_which_key_is_missing() -> None:
    sealed = Keyring(OLD).seal(SECRET)
    with pytest.raises(SecretUnreadable) as caught:
        Keyring(NEW).unseal(sealed)
    message = str(caught.value)
    assert secrets.key_id(OLD) in message
    assert "OMS_SECRET_KEY_PREVIOUS" in message
    assert SECRET not in message


def test_the_previous_key_still_reads_and_the_current_one_seals() -> None:
    old_value = Keyring(OLD).seal(SECRET)
    ring = Keyring(NEW, OLD)
    assert ring.unseal(old_value) == SECRET
    assert not ring.is_current(old_value)
    fresh = ring.seal(SECRET)
    assert ring.is_current(fresh)
    assert Keyring(NEW).unseal(fresh) == SECRET


def test_reseal_moves_a_value_to_the_current_key_and_leaves_current_ones_alone() -> None:
    ring = Keyring(NEW, OLD)
    moved = ring.reseal(Keyring(OLD).seal(SECRET))
    assert moved is not None
    assert ring.is_current(moved)
    assert Keyring(NEW).unseal(moved) == SECRET
    assert ring.reseal(moved) is None


@pytest.mark.parametrize("position", [0, 20, 60, -3])
def test_a_tampered_value_is_refused_clearly(position: int) -> None:
    ring = Keyring(NEW)
    sealed = ring.seal(SECRET)
    prefix, token = sealed.rsplit(":", 1)
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[position] ^= 0x01
    tampered = f"{prefix}:{base64.urlsafe_b64encode(bytes(raw)).decode()}"
    with pytest.raises(SecretUnreadable, match="altered or damaged"):
        ring.unseal(tampered)


def test_a_truncated_value_is_refused() -> None:
    ring = Keyring(NEW)
    with pytest.raises(SecretUnreadable):
        ring.unseal(ring.seal(SECRET)[:-10])


def test_plaintext_is_not_taken_for_a_sealed_value() -> None:
    with pytest.raises(SecretUnreadable, match="plaintext"):
        Keyring(NEW).unseal(SECRET)
    assert not secrets.is_sealed(SECRET)


def test_a_generated_key_is_32_random_bytes_in_url_safe_base64() -> None:
    key = secrets.generate_key()
    assert len(base64.urlsafe_b64decode(key)) == 32
    assert secrets.check_key(key) == key
    assert key != secrets.generate_key()


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "short",
        base64.urlsafe_b64encode(b"x" * 16).decode(),  # 16 bytes
        base64.urlsafe_b64encode(b"x" * 33).decode(),
        base64.b64encode(b"\xfb" * 32).decode(),  # standard, not URL-safe, alphabet
        "é" * 44,
    ],
)
def test_a_malformed_key_is_refused_with_the_expected_format(bad: str) -> None:
    with pytest.raises(ValueError, match="32 random bytes in URL-safe base64"):
        Keyring(bad)


def test_no_key_on_postgresql_is_refused() -> None:
    with pytest.raises(SecretKeyMissing, match="OMS_SECRET_KEY is not set"):
        secrets.keyring_for("postgresql+asyncpg://postgres@127.0.0.1/oms", None)


def test_no_key_on_sqlite_makes_a_key_file_beside_the_database_then_reuses_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
    path = tmp_path / "oms.db.key"
    first = secrets.keyring_for(url, None)
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.check_key(path.read_text())
    assert secrets.key_id(path.read_text().strip()) == first.current_id
    again = secrets.keyring_for(url, None)
    assert again.current_id == first.current_id
    assert again.unseal(first.seal(SECRET)) == SECRET
    assert [p.name for p in tmp_path.iterdir()] == ["oms.db.key"]  # no staging file left behind


def test_a_given_key_wins_over_the_key_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}"
    assert secrets.keyring_for(url, NEW).current_id == secrets.key_id(NEW)
    assert not (tmp_path / "oms.db.key").exists()


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "oms.db.key").write_text("not a key\n")
    with pytest.raises(secrets.SecretsError, match="key file"):
        secrets.keyring_for(f"sqlite+aiosqlite:///{tmp_path / 'oms.db'}", None)


def test_an_in_memory_database_gets_a_key_for_the_process_and_no_file() -> None:
    assert secrets.key_file_for("sqlite+aiosqlite://") is None
    assert secrets.key_file_for("sqlite+aiosqlite:///:memory:") is None
    ring = secrets.keyring_for("sqlite+aiosqlite:///:memory:", None)
    assert ring.unseal(ring.seal(SECRET)) == SECRET


def test_without_an_installed_keyring_the_columns_refuse() -> None:
    secrets.configure(None)
    try:
        with pytest.raises(SecretKeyMissing, match="no secret key is installed"):
            secrets.seal(SECRET)
    finally:
        secrets.configure(Keyring(TEST_SECRET_KEY))


def test_the_column_types_seal_on_write_and_unseal_on_read(keyring: Keyring) -> None:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    text_type = EncryptedString()
    stored = text_type.process_bind_param(SECRET, dialect)
    assert stored is not None
    assert keyring.is_current(stored)
    assert text_type.process_result_value(stored, dialect) == SECRET
    assert text_type.process_bind_param(None, dialect) is None
    assert text_type.process_result_value(None, dialect) is None

    json_type = EncryptedJSON()
    document = {"shopify": {"webhook_secret": "shpss_123"}}
    stored = json_type.process_bind_param(document, dialect)
    assert stored is not None
    assert "shpss_123" not in stored
    assert "shopify" not in stored
    assert json_type.process_result_value(stored, dialect) == document


def test_a_lazy_keyring_is_made_once_at_first_use(tmp_path: Path) -> None:
    made: list[Keyring] = []

    def make() -> Keyring:
        made.append(Keyring(NEW))
        return made[-1]

    secrets.configure(make)
    try:
        assert made == []
        assert secrets.unseal(secrets.seal(SECRET)) == SECRET
        assert secrets.active() is secrets.active()
        assert len(made) == 1
    finally:
        secrets.configure(Keyring(TEST_SECRET_KEY))


@pytest.mark.parametrize("field", ["secret_key", "secret_key_previous"])
def test_a_malformed_key_in_the_settings_is_refused_without_showing_it(field: str) -> None:
    bad = "0123456789abcdef" * 4  # a 64-hex key: someone's real secret, in the wrong format
    keys = {"secret_key": SecretStr(NEW), field: SecretStr(bad)}
    settings = Settings(database_url="postgresql+asyncpg://db/oms", **keys)  # type: ignore[arg-type]
    with pytest.raises(secrets.SecretsError) as caught:
        secrets.install(settings)
    assert bad not in str(caught.value)
    assert "must be 32 random bytes in URL-safe base64" in str(caught.value)
    assert bad not in repr(settings)
