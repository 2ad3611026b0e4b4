"""Legal entities: the companies that issue invoices. VAT ids are checked and stored normalised; at most one entity
is the default (making one the default unsets the previous one, in the same transaction), and the first entity
created becomes the default when none is."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.invoices import repository
from oms_api.invoices.models import LegalEntity
from oms_api.invoices.schemas import LegalEntity as LegalEntityOut
from oms_api.invoices.schemas import LegalEntityCreate, LegalEntityUpdate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.kit.vat import normalise_vat_id


def snapshot(entity: LegalEntity) -> dict[str, Any]:
    return LegalEntityOut.model_validate(entity).model_dump(mode="json")


def _vat(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return normalise_vat_id(value)
    except ValueError as exc:
        raise field_error("/body/vat_id", str(exc), "invalid_vat_id") from exc


async def get_entity(session: AsyncSession, ref: str) -> LegalEntity:
    entity = await repository.entity_by_ref(session, ref)
    if entity is None:
        raise NotFound(f"No legal entity {ref!r}", code="legal_entity_not_found")
    return entity


async def _unset_others(session: AsyncSession, actor: Principal, keep: LegalEntity) -> None:
    for other in await repository.unset_other_defaults(session, keep.id):
        outbox.record(session, "legal_entity.updated", "legal_entity", other.id, snapshot(other), actor=actor.actor)


async def create_entity(session: AsyncSession, actor: Principal, data: LegalEntityCreate) -> LegalEntity:
    """A new legal entity (409 ``duplicate_legal_entity`` for a code in use, 422 ``invalid_vat_id``)."""
    now = utcnow()
    first_default = not data.is_default and await repository.default_entity(session) is None
    values = {
        **data.model_dump(mode="json", exclude={"address"}),
        "address": data.address.model_dump(mode="json", exclude_none=True),
        "vat_id": _vat(data.vat_id),
        "is_default": data.is_default or first_default,
        "id": uuid7(),
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    if not await repository.insert_entity(session, values):
        raise Conflict(f"A legal entity with code {data.code!r} already exists", code="duplicate_legal_entity")
    entity = await get_entity(session, data.code)
    if entity.is_default:
        await _unset_others(session, actor, entity)
    outbox.record(session, "legal_entity.created", "legal_entity", entity.id, snapshot(entity), actor=actor.actor)
    return entity


async def update_entity(
    session: AsyncSession, actor: Principal, ref: str, data: LegalEntityUpdate, if_match: str | None
) -> LegalEntity:
    """Change a legal entity (its code never changes); documents issued before keep the seller as it was."""
    entity = await repository.entity_by_ref(session, ref, for_update=True)
    if entity is None:
        raise NotFound(f"No legal entity {ref!r}", code="legal_entity_not_found")
    check_if_match(if_match, entity.version)
    given = data.model_dump(mode="json", exclude_unset=True)
    if "vat_id" in given:
        given["vat_id"] = _vat(given["vat_id"])
    if "address" in given:
        if given["address"] is None:
            raise field_error("/body/address", "a legal entity needs an address", "missing")
        given["address"] = {k: v for k, v in given["address"].items() if v is not None}
    if given.get("is_default") is None:
        given.pop("is_default", None)
    if given.get("name", "") is None:
        raise field_error("/body/name", "a legal entity needs a name", "missing")
    changes = {k: v for k, v in given.items() if getattr(entity, k) != v}
    if not changes:
        return entity
    for name, value in changes.items():
        setattr(entity, name, value)
    entity.version += 1
    await session.flush()
    if changes.get("is_default"):
        await _unset_others(session, actor, entity)
    outbox.record(session, "legal_entity.updated", "legal_entity", entity.id, snapshot(entity), actor=actor.actor)
    return entity


async def list_entities(session: AsyncSession, page: PageParams) -> Slice[LegalEntity]:
    return await repository.list_entities(session, page)


async def issuing_entity(session: AsyncSession, code: str | None) -> LegalEntity:
    """The entity that issues for a channel: the one it names, else the default (409 ``legal_entity_missing``)."""
    entity = await repository.entity_by_ref(session, code) if code else await repository.default_entity(session)
    if entity is None:
        named = f"legal entity {code!r}" if code else "default legal entity"
        raise Conflict(
            f"No {named} issues this channel's invoices: create one (POST /v1/legal-entities)",
            code="legal_entity_missing",
        )
    return entity


def seller_snapshot(entity: LegalEntity) -> dict[str, Any]:
    """The seller as printed on a document issued now."""
    return {
        "code": entity.code,
        "name": entity.name,
        "company": entity.name,
        "vat_id": entity.vat_id,
        "registration_id": entity.registration_id,
        "email": entity.email,
        "address": dict(entity.address or {}),
        "iban": entity.iban,
        "bic": entity.bic,
    }
