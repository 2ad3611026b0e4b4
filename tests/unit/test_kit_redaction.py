"""Log redaction: what exceptions and strings look like once they may be logged (``kit.redaction``,
``kit.logging``), and the engines' hidden parameters (``kit.db``)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from oms_api.kit.db import create_engine
from oms_api.kit.logging import configure_logging
from oms_api.kit.redaction import describe, redact_url, safe_traceback, scrub

EMAIL = "ada@example.org"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://partner.example.com/hooks/oms?token=s3cret&x=1", "https://partner.example.com/hooks/oms"),
        ("http://user:pw@127.0.0.1:8080/in#frag", "http://127.0.0.1:8080/in"),
        ("https://[2001:db8::1]:8443/h?k=v", "https://[2001:db8::1]:8443/h"),
        ("postgresql+asyncpg://oms:pw@db.internal/oms", "postgresql+asyncpg://db.internal/oms"),
        ("http://host:notaport/x?t=1", "http://[redacted]"),
    ],
)
def test_urls_keep_scheme_host_and_path(url: str, shown: str) -> None:
    assert redact_url(url) == shown
    assert scrub(f'HTTP Request: POST {url} "HTTP/1.1 200 OK"') == f'HTTP Request: POST {shown} "HTTP/1.1 200 OK"'


@pytest.mark.parametrize(
    ("raw", "kept", "gone"),
    [
        ("GET /v1/customers?email=x%40y.org&q=Lovelace HTTP/1.1", "GET /v1/customers HTTP/1.1", "Lovelace"),
        (
            "[SQL: INSERT INTO customers (email) VALUES ($1)]\n[parameters: ('ada', '+44 20 7946 0958')]\n(Background)",
            "[SQL: INSERT INTO customers (email) VALUES ($1)]\n[parameters: [redacted]]\n(Background)",
            "7946",
        ),
        ("duplicate key\nDETAIL:  Key (email)=(lovelace) already exists.", "key\nDETAIL:  [redacted]", "love"),
        ("Key (lower(email::text))=(lovelace) already exists.", "Key (lower(email::text))=([redacted])", "love"),
        ("new row violates check\nFailing row contains (1, Lovelace, 12 Row).", "Failing row contains", "Lovelace"),
        ("invalid input for query argument $2: 'Lovelace' (expected str)", "argument $2: [redacted]", "Lovelace"),
        ('invalid input syntax for type uuid: "Lovelace"', "for type uuid: [redacted]", "Lovelace"),
        ("Authorization: Bearer oms_abc123def456", "Authorization: Bearer [redacted]", "abc123"),
        ("secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw rotated", "secret [redacted] rotated", "MfKQ9"),
        ("key oms_Xq3" + "a" * 40 + " used", "key [redacted] used", "Xq3"),
        ("shop 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", "shop [redacted]", "0d6b5f"),
        (f"customer {EMAIL} placed", "customer [email] placed", EMAIL),
    ],
)
def test_value_bearing_fragments_and_credentials_are_replaced(raw: str, kept: str, gone: str) -> None:
    scrubbed = scrub(raw)
    assert kept in scrubbed
    assert gone not in scrubbed


@pytest.mark.parametrize(
    "schema_text",
    [
        'violates check constraint "ck_order_lines_quantity_positive"',
        'constraint "pk_orders" and "uq_customers_email", index ix_orders_status',
        "oms_http_requests_total oms_api.kit.routing oms_worker_oldest_pending_seconds",
        "/v1/orders/{order_id}/allocation",
    ],
)
def test_schema_names_metric_names_androute_templates_are_left_alone(schema_text: str) -> None:
    assert scrub(schema_text) == schema_text


class FakeUniqueViolation(Exception):
    """Shaped like asyncpg's: a message with the row's values, and schema facts as attributes."""

    sqlstate = "23505"
    constraint_name = "uq_customers_email"
    table_name = "customers"


def _raise_integrity_error() -> None:
    try:
        raise FakeUniqueViolation(f"duplicate key\nDETAIL:  Key (email)=({EMAIL}) already exists.")
    except FakeUniqueViolation as exc:
        raise IntegrityError("INSERT INTO customers (email) VALUES ($1)", (EMAIL,), exc) from exc


def test_an_exception_is_described_by_its_type_and_schema_facts_and_a_traceback_without_messages() -> None:
    with pytest.raises(IntegrityError) as caught:
        _raise_integrity_error()
    assert EMAIL in str(caught.value)  # what the log used to get
    described = "sqlalchemy.exc.IntegrityError (sqlstate=23505, constraint=uq_customers_email, table=customers)"
    assert describe(caught.value) == described
    trace = safe_traceback(caught.value)
    assert EMAIL not in trace
    assert "parameters" not in trace
    assert "The above exception was the direct cause of the following exception" in trace
    assert "in _raise_integrity_error" in trace
    assert trace.endswith(described)


def test_exception_groups_list_each_exception_without_its_message() -> None:
    group = ExceptionGroup("two", [ValueError(EMAIL), KeyError(EMAIL)])
    trace = safe_traceback(group)
    assert EMAIL not in trace
    assert "ValueError" in trace
    assert "KeyError" in trace


@pytest.fixture
def logged() -> Iterator[io.StringIO]:
    """Logging configured as the service configures it, at DEBUG, into a buffer."""
    buffer = io.StringIO()
    configure_logging("debug", True, stream=buffer)
    yield buffer
    configure_logging("warning", True)


def _lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]


def test_library_records_are_json_scrubbed_and_their_exceptions_lose_their_messages(logged: io.StringIO) -> None:
    logging.getLogger("httpx").info('HTTP Request: POST http://127.0.0.1:9/hooks?token=t0k3n "HTTP/1.1 200 OK"')
    try:
        _raise_integrity_error()
    except IntegrityError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    [request, failure] = _lines(logged)
    assert request["logger"] == "httpx"
    assert request["event"] == 'HTTP Request: POST http://127.0.0.1:9/hooks "HTTP/1.1 200 OK"'
    assert failure["exc_type"] == "sqlalchemy.exc.IntegrityError"
    assert failure["sqlstate"] == "23505"
    assert "Traceback (most recent call last)" in failure["exception"]
    assert EMAIL not in logged.getvalue()


def test_our_events_are_scrubbed_and_their_exceptions_lose_their_messages(logged: io.StringIO) -> None:
    log = structlog.get_logger("oms_api.test_redaction")
    try:
        _raise_integrity_error()
    except IntegrityError as exc:
        log.error("unhandled_error", exc_info=exc, note=f"for {EMAIL}", urls=["https://x.example/a?b=c"])
    [event] = _lines(logged)
    assert event["event"] == "unhandled_error"
    assert event["exc_type"] == "sqlalchemy.exc.IntegrityError"
    assert event["note"] == "for [email]"
    assert event["urls"] == ["https://x.example/a"]
    assert EMAIL not in logged.getvalue()


def test_result_rows_and_driver_traces_are_dropped_even_at_debug(logged: io.StringIO) -> None:
    names = ("sqlalchemy.engine.Engine", "aiosqlite")
    before = {name: logging.getLogger(name).level for name in names}
    try:
        for name in names:
            logging.getLogger(name).setLevel(logging.DEBUG)
            logging.getLogger(name).debug("Row %r", ("Lovelace", "+44 20 7946 0958"))
        logging.getLogger("sqlalchemy.engine.Engine").info("SELECT customers.phone FROM customers")
    finally:  # later tests of this process must not echo SQL (the CLI tests read what the commands print)
        for name, level in before.items():
            logging.getLogger(name).setLevel(level)
    assert [e["event"] for e in _lines(logged)] == ["SELECT customers.phone FROM customers"]


def test_the_console_format_is_scrubbed_too() -> None:
    buffer = io.StringIO()
    configure_logging("info", False, stream=buffer)
    try:
        logging.getLogger("httpx").info("HTTP Request: POST https://h.example/p?token=t0k3n")
    finally:
        configure_logging("warning", True)
    assert "https://h.example/p" in buffer.getvalue()
    assert "t0k3n" not in buffer.getvalue()


async def test_engines_hide_statement_parameters_in_errors(tmp_path: Any) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'hidden.db'}")
    try:
        async with engine.connect() as conn:
            await conn.execute(text("CREATE TABLE t (email TEXT UNIQUE)"))
            await conn.execute(text("INSERT INTO t VALUES (:email)"), {"email": EMAIL})
            with pytest.raises(StatementError) as caught:
                await conn.execute(text("INSERT INTO t VALUES (:email)"), {"email": EMAIL})
    finally:
        await engine.dispose()
    assert engine.sync_engine.hide_parameters
    assert EMAIL not in str(caught.value)
    assert "hidden" in str(caught.value)
