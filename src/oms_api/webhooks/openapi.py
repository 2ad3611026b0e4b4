"""The OpenAPI 3.1 ``webhooks`` section: one entry per event type, with its envelope schema.

(No ``from __future__ import annotations`` here: the receiver functions are built at run time and FastAPI
reads their annotations as objects.)
"""

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, FastAPI, Header, Response
from pydantic import BaseModel, Field, create_model
from starlette.routing import BaseRoute

from oms_api.kit.event_types import EventType, catalogue

RECEIVER_DOC = """{description}

Sent as `POST` to every active endpoint subscribed to `{name}` (or `*`), with the envelope below as the JSON
body. Verify `webhook-signature` with your endpoint's secret before trusting the body, e.g. with the
`standardwebhooks` library (`Webhook(secret).verify(body, headers)`); dedupe on `webhook-id` (the same for every
retry); answer 2xx within 15 s. Anything else is retried with back-off for about three days. Events about one
resource (e.g. one order) arrive in the order they happened."""


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.replace(".", "_").split("_"))


def envelope_model(event_type: EventType) -> type[BaseModel]:
    """``{"id", "type", "created_at", "data"}`` with ``data`` typed by the event type's schema."""
    model: type[BaseModel] = create_model(
        f"{_camel(event_type.name)}Event",
        __doc__=f"The body of each `{event_type.name}` delivery.",
        id=(uuid.UUID, Field(description="The event id; also the webhook-id header (dedupe on it)")),
        type=(Literal[event_type.name], Field(description="The event type")),  # type: ignore[arg-type]
        created_at=(datetime, Field(description="When the change committed")),
        data=(event_type.schema, Field(description="A snapshot of the resource after the change")),
    )
    return model


def _receiver(model: type[BaseModel]) -> Any:
    async def receive(
        body: Annotated[model, Body()],  # type: ignore[valid-type]
        webhook_id: Annotated[str, Header(alias="webhook-id", description="The event id, stable across retries")],
        webhook_timestamp: Annotated[
            str, Header(alias="webhook-timestamp", description="Unix seconds of this attempt")
        ],
        webhook_signature: Annotated[
            str,
            Header(
                alias="webhook-signature",
                description='Space-separated "v1,<base64 HMAC-SHA256 of {id}.{timestamp}.{body}>" entries, '
                "one per valid secret (two during a rotation)",
            ),
        ],
    ) -> Response:
        return Response(status_code=204)

    return receive


_BUILT: dict[tuple[str, ...], list[BaseRoute]] = {}
"""The webhook routes per catalogue, built once per process: a hundred pydantic envelope models and their routes
take half a second, and every app (each test makes one) shares them; they hold no state of an app."""


def register(app: FastAPI) -> None:
    """Declare every catalogued event type as an OpenAPI webhook of ``app``."""
    key = tuple(sorted(catalogue()))
    if key not in _BUILT:
        _BUILT[key] = _routes()
    app.webhooks.routes.extend(_BUILT[key])


def _routes() -> list[BaseRoute]:
    router = APIRouter()
    for event_type in sorted(catalogue().values(), key=lambda t: t.name):
        router.add_api_route(
            event_type.name,
            _receiver(envelope_model(event_type)),
            methods=["POST"],
            name=f"on_{event_type.name.replace('.', '_')}",
            generate_unique_id_function=lambda route: route.name,
            summary=event_type.name,
            description=RECEIVER_DOC.format(description=event_type.description, name=event_type.name),
            tags=["webhooks"],
            status_code=204,
            response_class=Response,
            responses={
                204: {"description": "Any 2xx acknowledges the event"},
                410: {"description": "Gone: the endpoint is disabled and nothing more is sent"},
                429: {"description": "Too many requests: honoured with Retry-After"},
                503: {"description": "Unavailable: honoured with Retry-After"},
            },
        )
    return list(router.routes)
