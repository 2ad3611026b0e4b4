"""Sales channel use cases. Other contexts call ``get_channel``."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.channels import repository
from oms_api.channels.models import Channel
from oms_api.channels.schemas import ChannelCreate, ChannelUpdate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice


def snapshot(channel: Channel) -> dict[str, object]:
    """The event payload of a channel."""
    return {
        "id": str(channel.id),
        "code": channel.code,
        "name": channel.name,
        "type": channel.type,
        "default_currency": channel.default_currency,
        "active": channel.active,
        "version": channel.version,
    }


async def get_channel(session: AsyncSession, ref: str) -> Channel:
    """The channel with this code or id (``NotFound`` ``channel_not_found`` otherwise)."""
    channel = await repository.get_by_ref(session, ref)
    if channel is None:
        raise NotFound(f"No channel {ref!r}", code="channel_not_found")
    return channel


def _duplicate(existing: Channel) -> Conflict:
    return Conflict(
        f"A channel with code {existing.code!r} already exists", code="duplicate_channel", existing_id=str(existing.id)
    )


async def create_channel(session: AsyncSession, actor: Principal, data: ChannelCreate) -> Channel:
    existing = await repository.get_by_code(session, data.code)
    if existing is not None:
        raise _duplicate(existing)
    channel = Channel(**data.model_dump())
    if not await repository.insert(session, channel):
        winner = await repository.get_by_code(session, data.code)
        if winner is None:  # not the unique code after all: let it surface
            raise RuntimeError(f"inserting channel {data.code!r} failed for another reason")
        raise _duplicate(winner)
    outbox.record(session, "channel.created", "channel", channel.id, snapshot(channel), actor=actor.actor)
    return channel


async def update_channel(
    session: AsyncSession, actor: Principal, ref: str, data: ChannelUpdate, if_match: str | None
) -> Channel:
    channel = await get_channel(session, ref)
    check_if_match(if_match, channel.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(channel, k) != v}
    if not changes:
        return channel
    for field, value in changes.items():
        setattr(channel, field, value)
    channel.version += 1
    await session.flush()
    outbox.record(session, "channel.updated", "channel", channel.id, snapshot(channel), actor=actor.actor)
    return channel


async def list_channels(
    session: AsyncSession, page: PageParams, *, type_: str | None = None, active: bool | None = None
) -> Slice[Channel]:
    return await repository.list_channels(session, page, type_=type_, active=active)
