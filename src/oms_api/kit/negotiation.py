"""Binary answers (PDFs) also served as ``application/octet-stream`` to a client that prefers it.

The OpenAPI document offers every binary 2xx representation under that generic type as well
(``kit.openapi.offer_octet_stream``), because SDK generators map it to bytes with no configuration. This
keeps the document true: a client whose ``Accept`` prefers ``application/octet-stream`` to the document's own
type gets the same bytes labelled so; any other client (a browser, ``*/*``, no ``Accept``) gets the own type.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response

OCTET_STREAM = "application/octet-stream"

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def quality(accept: str, media_type: str) -> float:
    """The q-value ``accept`` gives ``media_type``: that of its most specific matching range (RFC 9110 §12.5.1)."""
    kind = media_type.split("/", 1)[0]
    ranks = {media_type: 2, f"{kind}/*": 1, "*/*": 0}
    best_rank, best_q = -1, 0.0
    for item in accept.split(","):
        media_range, *params = (part.strip() for part in item.split(";"))
        rank = ranks.get(media_range.lower(), -1)
        if rank <= best_rank:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        best_rank, best_q = rank, q
    return best_q


def prefers_octet_stream(accept: str, media_type: str) -> bool:
    return quality(accept, OCTET_STREAM) > quality(accept, media_type)


def serving_octet_stream(endpoint: Handler, binary_media_types: frozenset[str]) -> Handler:
    """Wrap a route handler so its binary answers follow the client's preference for octet-stream."""

    async def handler(request: Request) -> Response:
        response = await endpoint(request)
        media_type = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if media_type in binary_media_types and prefers_octet_stream(request.headers.get("accept", ""), media_type):
            response.headers["content-type"] = OCTET_STREAM
        return response

    return handler
