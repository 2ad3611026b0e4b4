"""Column types shared by contexts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class TagSet(TypeDecorator[list[str]]):
    """A small set of slug tags stored as ``,a,b,`` so that ``LIKE '%,vip,%'`` filters on any database."""

    impl = String(700)  # 20 tags of up to 32 characters, comma-separated
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str:
        tags = sorted(set(value or []))
        return "," + ",".join(tags) + "," if tags else ""

    def coerce_compared_value(self, op: Any, value: Any) -> Any:
        """Compare with plain strings (``LIKE '%,vip,%'``) as text, not as a tag list."""
        return String() if isinstance(value, str) else self

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str]:
        return [tag for tag in (value or "").split(",") if tag]


def tag_pattern(tag: str) -> str:
    """The LIKE pattern matching rows that carry ``tag``."""
    return f"%,{tag},%"
