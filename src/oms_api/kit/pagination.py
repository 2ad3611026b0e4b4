"""Cursor pagination: opaque cursors over a stable, unique sort key (time-ordered UUIDs).

A cursor is bound to the list and the filters it came from: it carries a digest of the route, its path parameters,
its filters (the query parameters other than ``cursor`` and ``limit``) and the position. Used on another list, with
other filters or altered, it is a 400 ``invalid_cursor`` instead of a page of something else. The digest is not
keyed: it makes a mistake or damage evident, it is not a secret (a cursor only ever says where a page starts).
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Query, Request, Response
from fastapi.dependencies.models import Dependant
from pydantic import BaseModel

from oms_api.kit.errors import BadRequest

MAX_LIMIT = 200
T = TypeVar("T")
_PAGING = frozenset({"cursor", "limit"})


@dataclass(frozen=True)
class PageParams:
    limit: int
    after: uuid.UUID | None


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


def list_binding(request: Request) -> str:
    """What a cursor of this request's list is bound to: the route template, its path parameters and its filters
    (the route's query parameters other than ``cursor`` and ``limit``, as sent)."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    declared = set(_query_names(dependant)) if isinstance(dependant, Dependant) else None
    filters = sorted(
        (name, value)
        for name, value in request.query_params.multi_items()
        if name not in _PAGING and (declared is None or name in declared)
    )
    parts = [getattr(route, "path", request.url.path), sorted(request.path_params.items()), filters]
    return json.dumps(parts, separators=(",", ":"))


def _seal(binding: str, after: str) -> str:
    return hashlib.sha256(f"{binding}\n{after}".encode()).hexdigest()[:24]


def encode_cursor(last_id: uuid.UUID, binding: str = "") -> str:
    """The cursor of the page after ``last_id`` in the list ``binding`` names (``list_binding``)."""
    after = str(last_id)
    raw = json.dumps({"after": after, "seal": _seal(binding, after)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, binding: str = "") -> uuid.UUID:
    """The position ``cursor`` holds; 400 ``invalid_cursor`` unless this API issued it for the list ``binding``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded.encode()))
        after, seal = fields["after"], fields["seal"]
        position = uuid.UUID(after)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not one this API issued", code="invalid_cursor") from exc
    if not isinstance(seal, str) or seal != _seal(binding, after):
        raise BadRequest(
            "The cursor belongs to another list or other filters: send it with the query it came with",
            code="invalid_cursor",
        )
    return position


def page_params(
    request: Request,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (at most 200)")] = 50,
    cursor: Annotated[
        str | None,
        Query(max_length=200, description="next_cursor of the previous page, with the same filters"),
    ] = None,
) -> PageParams:
    """FastAPI dependency for ``limit`` and ``cursor``."""
    return PageParams(limit=limit, after=decode_cursor(cursor, list_binding(request)) if cursor else None)


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
    cursor = encode_cursor(result.next_after, list_binding(request)) if result.next_after else None
    link_next(request, response, cursor)
    return page_cls.model_validate(
        {"data": [convert(i) for i in result.items], "has_more": result.has_more, "next_cursor": cursor}
    )
