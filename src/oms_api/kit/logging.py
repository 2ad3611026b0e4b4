"""Logging: one JSON line per event, ours and every library's, never secrets or personal data.

structlog renders everything with the same processors: our events directly, and every library's records
(httpx, uvicorn, SQLAlchemy, asyncpg, alembic…) through the root handler's ``ProcessorFormatter``, so no
plain-text line escapes when ``OMS_LOG_JSON`` is on. Before rendering, exceptions lose their messages and every
string is scrubbed (``kit.redaction``).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any, TextIO

import structlog

from oms_api.kit.redaction import safe_exc_info, scrub_event

# Libraries kept at WARNING or above whatever the level: SQL echo (every statement) and each migration step are
# of no use to an operator, aiosqlite's DEBUG lines print every statement's parameters, and uvicorn's access log
# is replaced by ours (``kit.middleware``), which logs the route template rather than the path and query string.
QUIET = ("alembic", "aiosqlite", "sqlalchemy.engine", "sqlalchemy.pool", "uvicorn.access")
# Loggers that uvicorn gives plain-text handlers of its own (when it configures logging): theirs go to the root.
ADOPTED = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


# Loggers whose DEBUG records are values: SQLAlchemy's result rows (``Row (…)``), aiosqlite's every statement with
# its parameters. Dropped even when someone turns these loggers up to DEBUG.
VALUES_AT_DEBUG = ("sqlalchemy.engine", "aiosqlite")


def _no_values_at_debug(record: logging.LogRecord) -> bool:
    return record.levelno >= logging.INFO or not record.name.startswith(VALUES_AT_DEBUG)


class _Output:
    """The handler that the latest ``configure_logging`` installed: loggers cached before a reconfiguration
    (structlog caches them on first use) write to the new stream, not to the one they first saw."""

    handler: logging.StreamHandler[TextIO] | None = None


class _EventWriter:
    """structlog's logger for our own events: the rendered line goes straight to the handler's stream, under its
    lock. A quarter of the cost of a trip through ``logging`` (no LogRecord, no caller lookup), which matters for
    the access log's line per request."""

    def __init__(self, name: str) -> None:
        self.name = name  # for add_logger_name

    def msg(self, message: str) -> None:
        handler = _Output.handler
        if handler is None:
            return
        with handler.lock or contextlib.nullcontext():
            try:
                handler.stream.write(message + "\n")
                handler.stream.flush()
            except (OSError, ValueError):  # a closed or broken stream must not fail what was being logged
                pass

    debug = info = warning = warn = error = critical = exception = fatal = log = msg


def _event_writer(*args: Any) -> _EventWriter:
    return _EventWriter(str(args[0]) if args else "oms_api")


def configure_logging(level: str = "info", json: bool = True, stream: TextIO | None = None) -> None:
    """Route every log record, ours and the libraries', through the same structlog processors to ``stream``
    (stdout): ours straight (``_EventWriter``), the libraries' through the root handler's ``ProcessorFormatter``."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    redaction: list[structlog.types.Processor] = [safe_exc_info, scrub_event, renderer]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *redaction],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    handler.addFilter(_no_values_at_debug)
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in ADOPTED:
        adopted = logging.getLogger(name)
        adopted.handlers.clear()
        adopted.propagate = True
    for name in QUIET:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    logging.captureWarnings(True)
    _Output.handler = handler
    structlog.configure(
        processors=[*shared, *redaction],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_event_writer,
        cache_logger_on_first_use=True,
    )
