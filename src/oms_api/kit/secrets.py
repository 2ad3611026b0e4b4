"""Secrets at rest: every credential the service must read back (webhook signing secrets, storefront secrets, and
later payment, carrier and SMTP credentials) is sealed with the key in ``OMS_SECRET_KEY`` before it is stored.

Models declare such a column once, as ``EncryptedString()`` or ``EncryptedJSON()``; the ORM seals on write and
unseals on read, so use cases handle plain values and the database only ever sees ciphertext.

Why Fernet (``cryptography``): its key is exactly what ``OMS_SECRET_KEY`` is (32 random bytes, URL-safe base64),
and it is authenticated encryption with no nonce for us to manage (AES-128-CBC with a random IV, then
HMAC-SHA256 over everything), so a tampered or truncated value is refused, never half-decrypted. AES-GCM would
add associated data, which these columns do not need, and a nonce discipline that Fernet removes.

A sealed value is ``enc:v1:<key id>:<Fernet token>``. ``v1`` names the format (a later one gets a new prefix and
``v1`` stays readable); the key id (8 characters of a SHA-256 of the key, which reveals nothing usable about it)
says which key sealed it, so a read picks the current or the previous key directly, rotation knows what is left
to do without decrypting, and an error can say which key is missing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog
from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.types import TypeDecorator

from oms_api.kit.db import is_sqlite, json_dumps

if TYPE_CHECKING:
    from oms_api.settings import Settings

log = structlog.get_logger("oms_api.secrets")

KEY_ENV = "OMS_SECRET_KEY"
PREVIOUS_KEY_ENV = "OMS_SECRET_KEY_PREVIOUS"
SEALED_PREFIX = "enc:v1:"
_SEALED = re.compile(r"^enc:v1:([A-Za-z0-9_-]{8}):([A-Za-z0-9_=-]+)$")
KEY_BYTES = 32

MISSING_KEY = (
    f"{KEY_ENV} is not set. On PostgreSQL the service encrypts stored credentials (webhook and storefront "
    f"secrets) with it and does not start without one: generate one with `oms-api secrets generate-key`, keep "
    f"it with your other secrets (without it the stored credentials cannot be read) and set {KEY_ENV}."
)


class SecretsError(Exception):
    """A sealed value cannot be made or read (no key, a wrong key, a damaged value); the message says which."""


class SecretKeyMissing(SecretsError):
    pass


class SecretUnreadable(SecretsError):
    pass


def generate_key() -> str:
    """A new key: 32 random bytes in URL-safe base64 (what ``oms-api secrets generate-key`` prints)."""
    return base64.urlsafe_b64encode(os.urandom(KEY_BYTES)).decode()


def check_key(text: str, name: str = KEY_ENV) -> str:
    """``text`` if it is a key (44 characters of URL-safe base64 holding 32 bytes), else ``ValueError``."""
    key = text.strip()
    try:
        raw = base64.urlsafe_b64decode(key.encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES or base64.urlsafe_b64encode(raw).decode() != key:
        raise ValueError(
            f"{name} must be {KEY_BYTES} random bytes in URL-safe base64 (44 characters ending in '='), "
            "as `oms-api secrets generate-key` prints it"
        )
    return key


def key_id(key: str) -> str:
    """A short, non-secret name of a key (in every value it seals, and in error messages)."""
    digest = hashlib.sha256(b"oms-api secret key id\x00" + base64.urlsafe_b64decode(key)).digest()
    return base64.urlsafe_b64encode(digest).decode()[:8]


def is_sealed(value: str) -> bool:
    return _SEALED.match(value) is not None


@dataclass(frozen=True)
class _Key:
    id: str
    fernet: Fernet
    source: str


class Keyring:
    """The current key, which seals, and optionally the previous one, which still unseals during a rotation."""

    def __init__(
        self,
        current: str,
        previous: str | None = None,
        *,
        source: str = KEY_ENV,
        previous_source: str = PREVIOUS_KEY_ENV,
    ) -> None:
        self.current = _Key(key_id(check_key(current, source)), Fernet(current.strip()), source)
        self.keys = {self.current.id: self.current}
        if previous and previous.strip() != current.strip():
            old = _Key(key_id(check_key(previous, previous_source)), Fernet(previous.strip()), previous_source)
            self.keys[old.id] = old

    @property
    def current_id(self) -> str:
        return self.current.id

    def seal(self, plaintext: str) -> str:
        token = self.current.fernet.encrypt(plaintext.encode()).decode()
        return f"{SEALED_PREFIX}{self.current.id}:{token}"

    def unseal(self, sealed: str) -> str:
        found = _SEALED.match(sealed)
        if found is None:
            raise SecretUnreadable(
                f"not a sealed value (one starts with {SEALED_PREFIX!r}): the column holds plaintext"
            )
        key = self.keys.get(found.group(1))
        if key is None:
            known = ", ".join(f"{k.source} is {k.id}" for k in self.keys.values())
            raise SecretUnreadable(
                f"a value is sealed with key {found.group(1)}, which is not configured ({known}): set "
                f"{PREVIOUS_KEY_ENV} to the key it was sealed with (a SQLite key file's content, if the database "
                "used one) and run `oms-api secrets rotate`"
            )
        try:
            return key.fernet.decrypt(found.group(2)).decode()
        except InvalidToken:
            raise SecretUnreadable(
                f"a value sealed with key {key.id} ({key.source}) fails its authentication check: it was altered "
                "or damaged in the database"
            ) from None

    def is_current(self, sealed: str) -> bool:
        return sealed.startswith(f"{SEALED_PREFIX}{self.current.id}:")

    def reseal(self, sealed: str) -> str | None:
        """``sealed`` under the current key, or None when it already is."""
        return None if self.is_current(sealed) else self.seal(self.unseal(sealed))


# --- the process's keyring --------------------------------------------------------------------------------------

_lock = threading.Lock()
_provider: Callable[[], Keyring] | None = None
_active: Keyring | None = None


def configure(keyring: Keyring | Callable[[], Keyring] | None) -> None:
    """Make ``keyring`` (or what ``keyring()`` returns, made at first use) the one the columns use."""
    global _provider, _active
    with _lock:
        _active = keyring if isinstance(keyring, Keyring) else None
        _provider = None if isinstance(keyring, Keyring) else keyring


def active() -> Keyring:
    """This process's keyring; ``SecretKeyMissing`` when no entry point installed one."""
    global _active
    found = _active
    if found is not None:
        return found
    with _lock:
        if _active is None:
            if _provider is None:
                raise SecretKeyMissing("no secret key is installed in this process (kit.secrets.install)")
            _active = _provider()
        return _active


def seal(plaintext: str) -> str:
    return active().seal(plaintext)


def unseal(sealed: str) -> str:
    return active().unseal(sealed)


def _plain(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def install(settings: Settings) -> None:
    """Install the keyring ``settings`` describe; the app factory, the worker and the CLI call this.

    Without a key, a PostgreSQL deployment is refused here (``SecretKeyMissing``); a SQLite one reads, or makes,
    its key file at first use (``keyring_for``).
    """
    key, previous = _plain(settings.secret_key), _plain(settings.secret_key_previous)
    url = settings.database_url
    try:
        for value, name in ((key, KEY_ENV), (previous, PREVIOUS_KEY_ENV)):
            if value is not None:
                check_key(value, name)  # the message never holds the value
    except ValueError as exc:
        raise SecretsError(str(exc)) from None
    if key is not None:
        configure(Keyring(key, previous))
    elif not is_sqlite(url):
        raise SecretKeyMissing(MISSING_KEY)
    else:
        configure(lambda: keyring_for(url, None, previous))


def keyring_for(database_url: str, key: str | None, previous: str | None = None) -> Keyring:
    """The keyring of a deployment: ``key`` if given; else, on SQLite, the database's key file (made if missing)."""
    if key is not None:
        return Keyring(key, previous)
    if not is_sqlite(database_url):
        raise SecretKeyMissing(MISSING_KEY)
    path = key_file_for(database_url)
    if path is None:
        log.warning(
            "secret_key_ephemeral",
            reason="in-memory SQLite database: secrets are sealed with a key "
            f"that lives as long as this process; set {KEY_ENV} to keep one",
        )
        return Keyring(generate_key(), previous)
    return Keyring(read_or_create_key_file(path), previous, source=f"key file {path}")


def key_file_for(database_url: str) -> Path | None:
    """``oms.db.key`` beside ``oms.db``; None for an in-memory database."""
    database = make_url(database_url).database or ""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    if database in ("", ":memory:") or "mode=memory" in database_url:
        return None
    return Path(database + ".key")


def read_or_create_key_file(path: Path) -> str:
    """The key in ``path``; a new one (mode 0600, written whole before it appears) if there is none yet."""
    if not path.exists():
        key = generate_key()
        staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as file:
                file.write(key + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.link(staged, path)  # fails if another process made it first: then its key is the one
            log.warning(
                "secret_key_generated",
                path=str(path.absolute()),
                note=f"no {KEY_ENV} is set, so a key was made for this SQLite database: back it up with the "
                "database (without it the stored secrets cannot be read), or set OMS_SECRET_KEY to its content",
            )
            return key
        except FileExistsError:
            pass
        finally:
            staged.unlink(missing_ok=True)
    if path.stat().st_mode & 0o077:
        log.warning("secret_key_file_readable_by_others", path=str(path.absolute()), fix=f"chmod 600 {path}")
    try:
        return check_key(path.read_text(encoding="ascii"), f"the key file {path}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise SecretsError(str(exc)) from None


# --- columns ----------------------------------------------------------------------------------------------------


class Sealed(TypeDecorator[Any]):
    """A column whose values are stored sealed (``Text``: ciphertext is about 2.5 times the plaintext)."""

    impl = Text
    cache_ok = True

    def encode(self, value: Any) -> str:
        raise NotImplementedError

    def decode(self, text: str) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else seal(self.encode(value))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else self.decode(unseal(value))


class EncryptedString(Sealed):
    """A string stored sealed."""

    cache_ok = True

    def encode(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"EncryptedString takes str, not {type(value).__name__}")
        return value

    def decode(self, text: str) -> str:
        return text


class EncryptedJSON(Sealed):
    """A JSON document stored sealed (None is SQL NULL)."""

    cache_ok = True

    def encode(self, value: Any) -> str:
        return json_dumps(value)

    def decode(self, text: str) -> Any:
        return json.loads(text)
