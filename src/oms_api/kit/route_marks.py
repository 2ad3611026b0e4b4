"""Marks a route puts in its ``openapi_extra`` for the edge to act on (plain constants: no web framework here,
so adapters' parsing modules can name them without importing Starlette)."""

from typing import Any

SIGNED_BY_PLATFORM = "x-signed-by-platform"
"""OpenAPI extension on routes that a platform authenticates by signing the body, not by an API key.

Its value names the platform; such a route's body limit is the ``inbound`` class, and ``kit.admission`` limits
its deliveries per channel. The auth-walk and spec contract tests hold these routes to that instead."""
BODY_LIMIT = "x-body-limit"
BULK_BODY: dict[str, Any] = {BODY_LIMIT: "bulk"}
"""``openapi_extra`` of a route taking bulk bodies (rate tables, batches)."""
