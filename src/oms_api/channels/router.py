"""``/v1/channels``: the sales channels orders come from. Configuring them is an admin task."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from oms_api.channels import service
from oms_api.channels.domain import ChannelType
from oms_api.channels.schemas import Channel, ChannelCreate, ChannelList, ChannelUpdate
from oms_api.kit.auth import Principal, Scope, Session, require
from oms_api.kit.etags import IfMatch, set_etag
from oms_api.kit.idempotency import write_access
from oms_api.kit.openapi import errors
from oms_api.kit.pagination import PageParams, page_params, paginate
from oms_api.kit.routing import OmsRoute

router = APIRouter(prefix="/v1/channels", tags=["channels"], route_class=OmsRoute)

ChannelRef = Annotated[
    str,
    Path(max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", description="The channel's code or its id"),
]


@router.post("", status_code=201, response_model=Channel, responses=errors(409))
async def channels_create(
    body: ChannelCreate,
    session: Session,
    response: Response,
    principal: Principal = write_access(Scope.ADMIN),
) -> Channel:
    """Create a sales channel. The code must be unique (409 ``duplicate_channel``)."""
    channel = await service.create_channel(session, principal, body)
    response.headers["Location"] = f"/v1/channels/{channel.id}"
    set_etag(response, channel.version)
    return Channel.model_validate(channel)


@router.get("", response_model=ChannelList)
async def channels_list(
    request: Request,
    response: Response,
    session: Session,
    page: Annotated[PageParams, Depends(page_params)],
    type_: Annotated[ChannelType | None, Query(alias="type")] = None,
    active: Annotated[bool | None, Query()] = None,
    _: Principal = require(Scope.ORDERS_READ),
) -> ChannelList:
    """List channels, oldest first."""
    result = await service.list_channels(session, page, type_=type_, active=active)
    return paginate(request, response, result, ChannelList, Channel)


@router.get("/{channel}", response_model=Channel, responses=errors(404))
async def channels_get(
    channel: ChannelRef, session: Session, response: Response, _: Principal = require(Scope.ORDERS_READ)
) -> Channel:
    """One channel, by code or id."""
    found = await service.get_channel(session, channel)
    set_etag(response, found.version)
    return Channel.model_validate(found)


@router.patch("/{channel}", response_model=Channel, responses=errors(404, 412))
async def channels_update(
    channel: ChannelRef,
    body: ChannelUpdate,
    session: Session,
    response: Response,
    if_match: IfMatch = None,
    principal: Principal = write_access(Scope.ADMIN),
) -> Channel:
    """Change a channel's name, type, default currency or active flag (its code never changes).

    Send ``If-Match`` with the ETag you read to avoid lost updates (412 ``stale_version``)."""
    updated = await service.update_channel(session, principal, channel, body, if_match)
    set_etag(response, updated.version)
    return Channel.model_validate(updated)
