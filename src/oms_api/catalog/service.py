"""Catalog use cases."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog import domain, repository
from oms_api.catalog.models import Sku
from oms_api.catalog.schemas import SkuCreate, SkuUpdate
from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.errors import Conflict, NotFound, ProblemError, ValidationFailed, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.pagination import PageParams, Slice
from oms_api.taxes import service as taxes


def snapshot(sku: Sku) -> dict[str, object]:
    """The event payload of a SKU."""
    return {
        "id": str(sku.id),
        "sku": sku.sku,
        "name": sku.name,
        "barcode": sku.barcode,
        "active": sku.active,
        "tax_category": sku.tax_category,
        "version": sku.version,
    }


async def get_sku(session: AsyncSession, ref: str) -> Sku:
    sku = await repository.get_by_ref(session, ref)
    if sku is None:
        raise NotFound(f"No SKU {ref!r}", code="sku_not_found")
    return sku


async def _refuse_duplicates(session: AsyncSession, sku: Sku | None, code: str | None, barcode: str | None) -> None:
    clash = await repository.find_conflict(session, code, barcode, exclude=sku.id if sku else None)
    if clash is None:
        return
    field = "sku" if code is not None and clash.sku == code else "barcode"
    raise Conflict(f"SKU {clash.sku!r} already has this {field}", code=f"duplicate_{field}", existing_id=str(clash.id))


async def _check_tax_category(session: AsyncSession, code: str) -> None:
    """422 ``unknown_tax_category`` unless taxes knows the category (which it keeps until this transaction ends)."""
    if not await taxes.tax_category_exists(session, code):
        raise field_error("/body/tax_category", f"no tax category {code!r}", "unknown_tax_category")


async def create_sku(session: AsyncSession, actor: Principal, data: SkuCreate) -> Sku:
    await _refuse_duplicates(session, None, data.sku, data.barcode)
    await _check_tax_category(session, data.tax_category)
    sku = Sku(**data.model_dump())
    session.add(sku)
    await session.flush()
    outbox.record(session, "sku.created", "sku", sku.id, snapshot(sku), actor=actor.actor)
    return sku


async def update_sku(session: AsyncSession, actor: Principal, ref: str, data: SkuUpdate, if_match: str | None) -> Sku:
    sku = await get_sku(session, ref)
    check_if_match(if_match, sku.version)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        changes.pop("name")
    if changes.get("barcode") is not None:
        await _refuse_duplicates(session, sku, None, changes["barcode"])
    if changes.get("tax_category", sku.tax_category) != sku.tax_category:
        await _check_tax_category(session, changes["tax_category"])
    for field, value in changes.items():
        setattr(sku, field, value)
    if changes:
        sku.version += 1
        await session.flush()
        outbox.record(session, "sku.updated", "sku", sku.id, snapshot(sku), actor=actor.actor)
    return sku


async def list_skus(
    session: AsyncSession,
    page: PageParams,
    *,
    active: bool | None = None,
    barcode: str | None = None,
    q: str | None = None,
) -> Slice[Sku]:
    return await repository.list_skus(session, page, active=active, barcode=barcode, q=q)


def check_sellable(lines: Iterable[tuple[str, str]], active: Mapping[str, bool]) -> None:
    """422 naming every line whose SKU is unknown or not sold: ``lines`` are ``(pointer, sku)``, ``active`` says
    for each SKU the catalogue knows whether it is sold."""
    problems = []
    for pointer, sku in lines:
        refusal = domain.sale_refusal(sku, known=sku in active, active=active.get(sku, False))
        if refusal is not None:
            problems.append(ProblemError(pointer=pointer, detail=refusal[1], code=refusal[0]))
    if problems:
        raise ValidationFailed(problems)
