"""What may reach a log line: exceptions without their messages, URLs without their secrets.

Logs leave the service's trust boundary (shippers, dashboards, support tickets), so they carry no request
parameters and no row values. Two layers make sure of it:

- Exceptions are logged as their type, a few schema facts (SQLSTATE, constraint) and a traceback of code
  locations, never their message: a message is where values hide (SQLAlchemy's ``[parameters: …]``,
  PostgreSQL's ``DETAIL:  Key (email)=(…)``, asyncpg's ``invalid input for query argument $1: '…'``, our own
  problems quoting the input).
- Every string that is logged, ours or a library's, is scrubbed: URLs keep scheme, host and path (no user,
  password, query or fragment), and the value-bearing fragments above, bearer tokens, API keys, webhook secrets
  and e-mail addresses are replaced. This is the safety net for text we do not write ourselves (httpx logs every
  request URL at INFO).
"""

from __future__ import annotations

import re
import sys
import traceback
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

REDACTED = "[redacted]"
MAX_DEPTH = 4  # nesting of dicts and lists scrubbed inside one event

_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]{1,30})://([^\s\"'<>\\`]+)")
_QUERY_AFTER_PATH = re.compile(r"((?:^|[\s\"'(=])/[^\s\"'?#<>]*)[?#][^\s\"'<>]*")
_PARAMETERS = re.compile(r"\[parameters: [^\n]*")
_DETAIL = re.compile(r"DETAIL:[^\n]*")
_KEY_VALUES = re.compile(r"Key \(([^\n]*?)\)=\([^\n]*")
_FAILING_ROW = re.compile(r"Failing row contains \([^\n]*")
_QUERY_ARGUMENT = re.compile(r"(invalid input for query argument \$\d+)[^\n]*")
_INPUT_SYNTAX = re.compile(r"(invalid input (?:syntax|value) for (?:type |enum )?[\w ]+)(?::[^\n]*)?")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}")
# Credentials by their well-known prefixes: ours (API keys, webhook secrets), Shopify's, WooCommerce's, Stripe's.
# Lengths and the digit keep schema names (``pk_orders``, ``ck_order_lines_…``) and metric names out.
_SECRETS = re.compile(
    r"\b(?:whsec_[A-Za-z0-9+/=]{16,}|oms_(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{40,}|shp(?:ss|at|ca|pa)_[0-9a-fA-F]{16,}"
    r"|c[ks]_[0-9a-f]{32,}|[spr]k_(?:live|test)_[A-Za-z0-9]{8,})"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")

# Attributes of DBAPI errors (asyncpg's PostgresError, psycopg's Diagnostics) that name schema, not data.
_SCHEMA_FACTS = (("sqlstate", "sqlstate"), ("constraint_name", "constraint"), ("table_name", "table"))


def redact_url(url: str) -> str:
    """``scheme://host[:port]/path``: no user or password, no query string, no fragment."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return f"{url.split('://', 1)[0]}://{REDACTED}"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}{port}{parts.path}"


def scrub(text: str) -> str:
    """``text`` with URLs reduced and value-bearing fragments, tokens, keys and e-mail addresses replaced."""
    if "://" in text:
        text = _URL.sub(lambda m: redact_url(m.group(0)), text)
    if "?" in text or "#" in text:
        text = _QUERY_AFTER_PATH.sub(r"\1", text)
    if "[parameters:" in text:
        text = _PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    if "DETAIL:" in text:
        text = _DETAIL.sub(f"DETAIL:  {REDACTED}", text)
    if "Key (" in text:
        text = _KEY_VALUES.sub(rf"Key (\1)=({REDACTED})", text)
    if "Failing row" in text:
        text = _FAILING_ROW.sub(f"Failing row contains ({REDACTED})", text)
    if "invalid input" in text:
        text = _QUERY_ARGUMENT.sub(rf"\1: {REDACTED}", text)
        text = _INPUT_SYNTAX.sub(rf"\1: {REDACTED}", text)
    if "_" in text:
        text = _SECRETS.sub(REDACTED, text)
    if "earer" in text or "EARER" in text:
        text = _BEARER.sub(rf"\1 {REDACTED}", text)
    if "@" in text:
        text = _EMAIL.sub("[email]", text)
    return text


def scrub_value(value: Any, depth: int = 0) -> Any:
    """``scrub`` applied to every string inside ``value`` (dicts, lists, tuples; other values as they are)."""
    if isinstance(value, str):
        return scrub(value)
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {key: scrub_value(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(scrub_value(item, depth + 1) for item in value)
    return value


def exception_type(exc: BaseException) -> str:
    cls = type(exc)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def schema_facts(exc: BaseException) -> dict[str, str]:
    """SQLSTATE, constraint and table of a database error, found on it or on the DBAPI error it wraps."""
    facts: dict[str, str] = {}
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for attribute, key in _SCHEMA_FACTS:
            found = getattr(current, attribute, None)
            if isinstance(found, str) and found and key not in facts:
                facts[key] = found
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return facts


def describe(exc: BaseException) -> str:
    """One line naming an error without its message: ``sqlalchemy.exc.IntegrityError (sqlstate=23505, …)``."""
    facts = schema_facts(exc)
    details = ", ".join(f"{key}={value}" for key, value in facts.items())
    return f"{exception_type(exc)} ({details})" if details else exception_type(exc)


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its causes as Python prints it, each exception reduced to its type."""
    lines: list[str] = []
    _format_chain(exc, lines, set(), "")
    return "".join(lines).rstrip("\n")


def _format_chain(exc: BaseException, lines: list[str], seen: set[int], indent: str) -> None:
    seen.add(id(exc))
    cause, context = exc.__cause__, exc.__context__
    if cause is not None and id(cause) not in seen:
        _format_chain(cause, lines, seen, indent)
        lines.append(f"\n{indent}The above exception was the direct cause of the following exception:\n\n")
    elif context is not None and not exc.__suppress_context__ and id(context) not in seen:
        _format_chain(context, lines, seen, indent)
        lines.append(f"\n{indent}During handling of the above exception, another exception occurred:\n\n")
    if exc.__traceback__ is not None:
        lines.append(f"{indent}Traceback (most recent call last):\n")
        frames = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), capture_locals=False)
        lines.extend(f"{indent}{line}\n" for chunk in frames.format() for line in chunk.splitlines())
    lines.append(f"{indent}{describe(exc)}\n")
    for index, inner in enumerate(getattr(exc, "exceptions", None) or (), start=1):
        if isinstance(inner, BaseException) and id(inner) not in seen:
            lines.append(f"{indent}  +---------------- {index} ----------------\n")
            _format_chain(inner, lines, seen, indent + "  | ")


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3 and isinstance(exc_info[1], BaseException):
        return exc_info[1]
    if exc_info is True:
        return sys.exc_info()[1]
    return None


# --- structlog processors ---------------------------------------------------------------------------------------

EventDict = MutableMapping[str, Any]


def safe_exc_info(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Replace ``exc_info`` (ours or a library's) by ``exc_type`` and a value-free ``exception`` traceback."""
    exc = _exception_of(event.pop("exc_info", None))
    event.pop("stack_info", None)
    if exc is not None:
        event["exc_type"] = exception_type(exc)
        event.update({key: value for key, value in schema_facts(exc).items() if key not in event})
        event["exception"] = safe_traceback(exc)
    return event


def scrub_event(_logger: Any, _method: str, event: EventDict) -> EventDict:
    """Scrub every string of the event, the message included (see ``scrub``)."""
    return {key: scrub_value(value) for key, value in event.items()}
