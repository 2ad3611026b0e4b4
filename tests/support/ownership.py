"""Who writes which table, watched while the whole suite runs: each table is written by its own context only.

Import rules (``lint-imports``) keep a context from importing another's models or repositories, but a row
that another context's service hands out could still be changed in place. This guard sees every write made
in the test process and names the context that made it:

- SQL that the code sends itself (``INSERT``, ``UPDATE``, ``DELETE``, Core or text): the engine's
  ``before_cursor_execute``;
- ORM changes: a new row added to a session (``before_attach``) and an attribute set on a loaded row.

The writer is the innermost ``oms_api`` module on the call stack outside ``kit``'s generic helpers (async
calls reach the driver in a greenlet, whose parent frames hold the caller); the owner is the package whose
``models`` declares the table (``kit`` tables belong to the one ``kit`` module that declares them). Writes made
by the unit of work at flush time are judged when the change was made, not when it is flushed, and ``COPY``
(``kit.bulk`` for large batches) passes under the driver, unseen.
"""

from __future__ import annotations

import re
import sys
from types import FrameType
from typing import Any

import greenlet
from sqlalchemy import event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from oms_api import models

HELPERS = ("oms_api.kit.bulk", "oms_api.kit.sql", "oms_api.kit.db", "oms_api.kit.resealing", "oms_api.kit.migrations")
"""Generic writers: they write on behalf of whoever calls them (``kit.migrations`` runs Alembic revisions, whose
data steps act for the schema, not for a context)."""
_DML = re.compile(r"(?:^|\)|\s)(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+\"?(\w+)\"?", re.IGNORECASE)


def _owners() -> tuple[dict[str, str], dict[type, str]]:
    by_table: dict[str, str] = {}
    by_class: dict[type, str] = {}
    for mapper in models.Base.registry.mappers:
        module = mapper.class_.__module__
        owner = module if module.startswith("oms_api.kit.") else ".".join(module.split(".")[:2])
        by_class[mapper.class_] = owner
        for table in mapper.tables:
            by_table[table.name] = owner
    return by_table, by_class


OWNER_OF_TABLE, OWNER_OF_CLASS = _owners()
VIOLATIONS: list[str] = []


def _writer(frame: FrameType | None) -> str | None:
    """The module (``oms_api.kit.outbox``) or context (``oms_api.orders``) making a write, or None (tests)."""
    while frame is not None:
        name = str(frame.f_globals.get("__name__", ""))
        if name.startswith("oms_api.") and not name.startswith(HELPERS):
            return name if name.startswith("oms_api.kit.") else ".".join(name.split(".")[:2])
        frame = frame.f_back
    return None


def _caller_frame() -> FrameType | None:
    """Where the application code is: above the greenlet that SQLAlchemy's async layer runs the driver in."""
    current = greenlet.getcurrent()
    if current.parent is not None:
        return current.parent.gr_frame
    return sys._getframe(2)


def _check(table: str, frame: FrameType | None, what: str) -> None:
    owner = OWNER_OF_TABLE.get(table)
    writer = _writer(frame)
    if owner is None or writer is None or writer == owner:
        return
    VIOLATIONS.append(f"{writer} {what} {table} (owned by {owner})")


def _in_flush() -> bool:
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if frame.f_globals.get("__name__") == "sqlalchemy.orm.unitofwork":
            return True
        frame = frame.f_back
    return False


def _on_sql(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
    found = _DML.search(statement)
    if found is None or statement.lstrip().upper().startswith(("SELECT", "PRAGMA", "CREATE", "ALTER", "DROP")):
        return
    if _in_flush() or _in_migration():
        return
    _check(found.group(2).lower(), _caller_frame(), f"sends {found.group(1).split()[0].upper()} to")


def _in_migration() -> bool:
    """An Alembic revision runs (on this greenlet, whoever started it: ``oms-api migrate``, ``serve``, a test):
    its data steps rewrite tables for the schema, not for a context."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        if str(frame.f_globals.get("__name__", "")).startswith("alembic.runtime."):
            return True
        frame = frame.f_back
    return False


def _on_attach(session: Session, instance: Any) -> None:
    state = inspect(instance)
    if state.transient:
        table = getattr(type(instance), "__tablename__", None)
        if table is not None:
            _check(table, sys._getframe(1), "adds a row to")


def _on_set(target: Any, value: Any, oldvalue: Any, initiator: Any) -> None:
    if inspect(target).persistent and value is not oldvalue:
        _check(target.__tablename__, sys._getframe(1), f"sets {initiator.key} on")


_installed = False


def install() -> None:
    """Watch every write of this process (idempotent)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Engine, "before_cursor_execute", _on_sql)
    event.listen(Session, "before_attach", _on_attach)
    for mapper in models.Base.registry.mappers:
        for attribute in mapper.column_attrs:
            event.listen(getattr(mapper.class_, attribute.key), "set", _on_set)


def take() -> list[str]:
    """The violations seen since the last call (and forget them)."""
    found = sorted(set(VIOLATIONS))
    VIOLATIONS.clear()
    return found
