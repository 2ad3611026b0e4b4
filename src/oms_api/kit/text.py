"""Which characters text input may hold: one rule for request bodies, path parameters and query strings.

PostgreSQL refuses U+0000 in text and a lone surrogate cannot be encoded as UTF-8 at all, so either would reach
the database as a 500. The other control characters (C0, DEL, C1) mean nothing in a code, a name or a filter, and
are how log and header injection start. Tabs and line breaks belong in free text (notes, messages) only.
"""

from __future__ import annotations

import re

_ALWAYS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff"
SINGLE_LINE_FORBIDDEN = re.compile(f"[\t\n\r{_ALWAYS}]")
"""What a one-line value (every string unless marked free text) may not hold: every control character."""
FREE_TEXT_FORBIDDEN = re.compile(f"[{_ALWAYS}]")
"""What free text may not hold: control characters other than tab, line feed and carriage return."""

WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
"""Unicode's White_Space: what pydantic strips (``str.strip()`` also strips U+001C to U+001F; pydantic keeps them)."""

CODE = "control_character"
"""The problem ``errors[].code`` of a refused character."""


def forbidden_character(value: str, *, free_text: bool = False) -> str | None:
    """A description of the first character ``value`` may not hold (``"U+0000 at index 3"``), or None."""
    found = (FREE_TEXT_FORBIDDEN if free_text else SINGLE_LINE_FORBIDDEN).search(value)
    if found is None:
        return None
    return f"U+{ord(found.group()):04X} at index {found.start()}"


def refusal(value: str, *, free_text: bool = False) -> str | None:
    """The ``detail`` of a problem refusing ``value``, or None when it is acceptable."""
    found = forbidden_character(value, free_text=free_text)
    if found is None:
        return None
    allowed = " other than tab and line breaks" if free_text else ""
    return f"must not contain control characters{allowed} ({found})"
