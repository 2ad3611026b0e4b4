"""Every query of the catalog."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.catalog.models import Sku
from oms_api.kit.pagination import PageParams, Slice, make_slice
from oms_api.kit.sql import id_or_code


async def get_by_ref(session: AsyncSession, ref: str) -> Sku | None:
    """A SKU by its id or its code."""
    return (await session.execute(select(Sku).where(id_or_code(Sku.id, Sku.sku, ref)))).scalars().first()


async def get_many_by_code(session: AsyncSession, codes: Sequence[str]) -> list[Sku]:
    return list((await session.execute(select(Sku).where(Sku.sku.in_(codes)))).scalars())


async def find_conflict(
    session: AsyncSession, code: str | None, barcode: str | None, exclude: uuid.UUID | None = None
) -> Sku | None:
    conditions = []
    if code is not None:
        conditions.append(Sku.sku == code)
    if barcode is not None:
        conditions.append(Sku.barcode == barcode)
    if not conditions:
        return None
    stmt = select(Sku).where(or_(*conditions))
    if exclude is not None:
        stmt = stmt.where(Sku.id != exclude)
    return (await session.execute(stmt.limit(1))).scalars().first()


async def list_skus(
    session: AsyncSession, page: PageParams, *, active: bool | None, barcode: str | None, q: str | None
) -> Slice[Sku]:
    stmt = select(Sku).order_by(Sku.id).limit(page.limit + 1)
    if page.after is not None:
        stmt = stmt.where(Sku.id > page.after)
    if active is not None:
        stmt = stmt.where(Sku.active == active)
    if barcode is not None:
        stmt = stmt.where(Sku.barcode == barcode)
    if q:
        pattern = f"%{q.lower()}%"
        stmt = stmt.where(or_(Sku.sku.ilike(pattern), Sku.name.ilike(pattern)))
    return make_slice(list((await session.execute(stmt)).scalars()), page.limit)


async def a_sku_with_tax_category(session: AsyncSession, code: str) -> str | None:
    """The code of one SKU in the tax category (the oldest), if any: a range of ``ix_skus_tax_category_id``."""
    stmt = select(Sku.sku).where(Sku.tax_category == code).order_by(Sku.tax_category, Sku.id).limit(1)
    found: str | None = (await session.execute(stmt)).scalar_one_or_none()
    return found
