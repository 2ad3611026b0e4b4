"""Sales channel use cases. Other contexts call ``get_channel``."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from oms_api.channels import domain, repository
from oms_api.channels.models import Channel
from oms_api.channels.schemas import ChannelCreate, ChannelUpdate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.resealing import Resealed, reseal
from oms_api.stock import service as stock


def snapshot(channel: Channel) -> dict[str, object]:
    """The event payload of a channel."""
    return {
        "id": str(channel.id),
        "code": channel.code,
        "name": channel.name,
        "type": channel.type,
        "default_currency": channel.default_currency,
        "active": channel.active,
        "cart_ttl_minutes": channel.cart_ttl_minutes,
        "configured_integrations": channel.configured_integrations,
        "sourcing": channel.sourcing,
        "shipping_choice": channel.shipping_choice,
        "price_basis": channel.price_basis,
        "payment_policy": channel.payment_policy,
        "payment_gateway": channel.payment_gateway,
        "shipping_charge": channel.shipping_charge or {"mode": "as_given"},
        "invoice_policy": channel.invoice_policy,
        "legal_entity": channel.legal_entity,
        "version": channel.version,
    }


async def get_channel(session: AsyncSession, ref: str) -> Channel:
    """The channel with this code or id (``NotFound`` ``channel_not_found`` otherwise)."""
    channel = await repository.get_by_ref(session, ref)
    if channel is None:
        raise NotFound(f"No channel {ref!r}", code="channel_not_found")
    return channel


async def find_channel(session: AsyncSession, ref: str) -> Channel | None:
    """The channel with this code or id, or None."""
    return await repository.get_by_ref(session, ref)


def check_selling(
    channel: Channel | None, ref: str, *, inactive_ok: bool = False, pointer: str = "/body/channel"
) -> Channel:
    """The channel an order or a cart names, if it exists and sells (422 ``unknown_channel`` /
    ``channel_inactive`` at ``pointer`` otherwise; ``inactive_ok``: storefront intake holds such orders)."""
    if channel is None:
        raise field_error(pointer, f"no channel {ref!r}", "unknown_channel")
    if not channel.active and not inactive_ok:
        raise field_error(pointer, domain.inactive_detail(channel.code), "channel_inactive")
    return channel


async def selling_channel(session: AsyncSession, ref: str) -> Channel:
    """The channel (code or id) an order or a cart names, if it exists and sells (422 otherwise)."""
    return check_selling(await repository.get_by_ref(session, ref), ref)


async def channel_by_id(session: AsyncSession, channel_id: uuid.UUID) -> Channel:
    """The channel with this id, from the session when already loaded (no query on placement's hot path)."""
    channel = await session.get(Channel, channel_id)
    if channel is None:
        raise NotFound(f"No channel {channel_id}", code="channel_not_found")
    return channel


def _duplicate(existing: Channel) -> Conflict:
    return Conflict(
        f"A channel with code {existing.code!r} already exists", code="duplicate_channel", existing_id=str(existing.id)
    )


def _check_shipping_charge(charge: dict[str, Any] | None, currency: str) -> dict[str, Any] | None:
    """A flat charge is in the channel's currency (422 otherwise); the stored form is the wire form."""
    if not charge:
        return None
    for name in ("amount", "free_over"):
        given = charge.get(name)
        if given is not None and given["currency"] != currency:
            raise field_error(
                f"/body/shipping_charge/{name}/currency",
                f"must be the channel's default currency {currency}",
                "currency_mismatch",
            )
    return {k: v for k, v in charge.items() if v is not None}


async def create_channel(session: AsyncSession, actor: Principal, data: ChannelCreate) -> Channel:
    existing = await repository.get_by_code(session, data.code)
    if existing is not None:
        raise _duplicate(existing)
    channel = Channel(
        **data.model_dump(exclude={"integrations", "sourcing", "shipping_charge"}),
        shipping_charge=_check_shipping_charge(data.model_dump(mode="json")["shipping_charge"], data.default_currency),
        integration_secrets=_with_secrets(None, data.model_dump(exclude_unset=True).get("integrations") or {}),
        sourcing_policy=await _with_sourcing(session, None, data.model_dump(exclude_unset=True).get("sourcing")),
    )
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
    given = data.model_dump(exclude_unset=True)
    secrets = _with_secrets(channel.integration_secrets, given.pop("integrations", None) or {})
    sourcing = await _with_sourcing(session, channel.sourcing_policy, given.pop("sourcing", None))
    if "shipping_charge" in given or "default_currency" in given:
        charge = data.model_dump(mode="json", exclude_unset=True).get("shipping_charge", channel.shipping_charge)
        given["shipping_charge"] = _check_shipping_charge(
            charge, given.get("default_currency", channel.default_currency)
        )
    changes = {k: v for k, v in given.items() if getattr(channel, k) != v}
    if secrets != channel.integration_secrets:
        changes["integration_secrets"] = secrets
    if sourcing != channel.sourcing_policy:
        changes["sourcing_policy"] = sourcing
    if not changes:
        return channel
    for field, value in changes.items():
        setattr(channel, field, value)
    channel.version += 1
    await session.flush()
    outbox.record(session, "channel.updated", "channel", channel.id, snapshot(channel), actor=actor.actor)
    return channel


def _with_secrets(current: dict[str, Any] | None, given: dict[str, Any]) -> dict[str, Any] | None:
    """``current`` with the integrations named in ``given`` replaced (or removed where given as null)."""
    merged = dict(current or {})
    for name, config in given.items():
        if config is None:
            merged.pop(name, None)
        else:
            merged[name] = config
    return merged or None


async def _with_sourcing(
    session: AsyncSession, current: dict[str, Any] | None, given: dict[str, Any] | None
) -> dict[str, Any] | None:
    """``current`` with the sourcing fields in ``given`` replaced (a null resets one to its default).

    Allowed warehouses must exist (422 ``unknown_warehouse``): a typo would silently stop all sourcing.
    """
    merged = dict(current or {})
    for name, value in (given or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    codes = merged.get("allowed_warehouses")
    if codes:
        for i, code in enumerate(codes):
            try:
                found = await stock.get_warehouse(session, code)
            except NotFound as exc:
                raise field_error(
                    f"/body/sourcing/allowed_warehouses/{i}", f"no warehouse {code!r}", "unknown_warehouse"
                ) from exc
            codes[i] = found.code  # an id names the same warehouse as its code; policies keep codes
        merged["allowed_warehouses"] = sorted(set(codes))
    if "strategy" in merged:
        merged["strategy"] = str(merged["strategy"])
    return merged or None


async def reseal_secrets(sessions: async_sessionmaker[AsyncSession], batch_size: int) -> Resealed:
    """Re-encrypt the channels' storefront secrets under the current key (``oms-api secrets rotate``)."""
    return await reseal(sessions, Channel, batch_size=batch_size)


def webhook_secret(channel: Channel, integration: str) -> str | None:
    """The secret ``integration`` (``shopify``, ``woocommerce``) signs this channel's webhooks with, if set."""
    config = (channel.integration_secrets or {}).get(integration) or {}
    secret = config.get("webhook_secret")
    return secret if isinstance(secret, str) and secret else None


async def list_channels(
    session: AsyncSession, page: PageParams, *, type_: str | None = None, active: bool | None = None
) -> Slice[Channel]:
    return await repository.list_channels(session, page, type_=type_, active=active)
