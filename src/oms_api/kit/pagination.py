"""Cursor pagination: opaque cursors over a stable, unique sort key (time-ordered UUIDs)."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Query, Request, Response
from pydantic import BaseModel

from oms_api.kit.errors import BadRequest

MAX_LIMIT = 200
T = TypeVar("T")


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: uuid.UUID | None


def encode_cursor(last_id: uuid.UUID) -> str:
    raw = json.dumps({"after": str(last_id)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> uuid.UUID:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        return uuid.UUID(json.loads(base64.urlsafe_b64decode(padded.encode()))["after"])
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not one this API issued", code="invalid_cursor") from exc


def page_params(
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 200)")] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor of the previous page")] = None,
) -> PageParams:
    """FastAPI dependency for ``limit`` and ``cursor``."""
    return PageParams(limit=limit, after=decode_cursor(cursor) if cursor else None)


@dataclass(frozen=True)
class Slice(Generic[T]):
    """What a repository returns for a page: the rows and whether more follow."""

    items: Sequence[T]
    has_more: bool
    next_after: uuid.UUID | None


def make_slice(rows: Sequence[T], limit: int) -> Slice[T]:
    """Rows fetched with ``limit + 1`` turned into a page (the extra row only says more exist)."""
    has_more = len(rows) > limit
    items = rows[:limit]
    last = getattr(items[-1], "id", None) if (has_more and items) else None
    return Slice(items=items, has_more=has_more, next_after=last)


def link_next(request: Request, response: Response, next_cursor: str | None) -> None:
    """RFC 8288 ``Link: <…>; rel="next"`` for the next page, when there is one."""
    if next_cursor:
        url = request.url.include_query_params(cursor=next_cursor)
        response.headers["Link"] = f'<{url}>; rel="next"'


PageT = TypeVar("PageT", bound="BaseModel")


def paginate(
    request: Request,
    response: Response,
    result: Slice[Any],
    page_cls: type[PageT],
    item: type[BaseModel] | Callable[[Any], BaseModel],
) -> PageT:
    """The wire page for ``result``: items converted, ``next_cursor`` and the ``Link`` header set.

    ``item`` is the item's schema (built from attributes) or a function that builds it.
    """
    if isinstance(item, type) and issubclass(item, BaseModel):
        convert: Callable[[Any], BaseModel] = item.model_validate
    else:
        convert = cast(Callable[[Any], BaseModel], item)
    cursor = encode_cursor(result.next_after) if result.next_after else None
    link_next(request, response, cursor)
    return page_cls.model_validate(
        {"data": [convert(i) for i in result.items], "has_more": result.has_more, "next_cursor": cursor}
    )
