"""Tax category use cases: list, add, delete (refused for the built-in four and for a category in use), and the
existence check the catalog asks before a SKU names a category."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import bus, outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.taxes import repository
from oms_api.taxes.events import TaxCategoryDeleting
from oms_api.taxes.models import TaxCategory as CategoryRow
from oms_api.taxes.schemas import TaxCategory, TaxCategoryCreate


def category_view(row: CategoryRow) -> TaxCategory:
    return TaxCategory.model_validate(row)


def _record(session: AsyncSession, type_: str, view: TaxCategory, actor: Principal) -> None:
    outbox.record(session, type_, "tax_category", view.id, view.model_dump(mode="json"), actor=actor.actor)


async def tax_category_exists(session: AsyncSession, code: str) -> bool:
    """Whether ``code`` names a tax category. Its row stays share-locked until the transaction ends, so a row that
    names it (a SKU) is never written while the category is being deleted."""
    return await repository.category_exists(session, code)


async def get_category(session: AsyncSession, code: str) -> TaxCategory:
    row = await repository.category(session, code)
    if row is None:
        raise NotFound(f"No tax category {code!r}", code="tax_category_not_found")
    return category_view(row)


async def list_categories(session: AsyncSession, page: PageParams) -> Slice[TaxCategory]:
    rows = await repository.list_categories(session, page)
    return Slice(items=[category_view(r) for r in rows.items], has_more=rows.has_more, next_after=rows.next_after)


def _duplicate(code: str, existing: CategoryRow | None) -> Conflict:
    return Conflict(
        f"A tax category {code!r} exists",
        code="duplicate_tax_category",
        existing_id=str(existing.id) if existing else None,
    )


async def create_category(session: AsyncSession, actor: Principal, data: TaxCategoryCreate) -> TaxCategory:
    existing = await repository.category(session, data.code)
    if existing is not None:
        raise _duplicate(data.code, existing)
    now = utcnow()
    row = CategoryRow(
        id=uuid7(),
        code=data.code,
        name=data.name,
        description=data.description,
        builtin=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    if not await repository.add_category(session, row):
        raise _duplicate(data.code, await repository.category(session, data.code))
    view = category_view(row)
    _record(session, "tax_category.created", view, actor)
    return view


async def delete_category(session: AsyncSession, actor: Principal, code: str) -> None:
    """Delete a category nobody uses. Refused (409) for the built-in four (``tax_category_builtin``), for one a rate
    names (``tax_category_in_use``, with the rate's id) and, through the ``TaxCategoryDeleting`` domain event, for
    one a SKU is in (the catalog refuses with ``tax_category_in_use``)."""
    row = await repository.category(session, code, for_update=True)
    if row is None:
        raise NotFound(f"No tax category {code!r}", code="tax_category_not_found")
    if row.builtin:
        raise Conflict(f"Tax category {code!r} is built in and cannot be deleted", code="tax_category_builtin")
    rate = await repository.a_rate_of_category(session, code)
    if rate is not None:
        raise Conflict(
            f"Tax category {code!r} has rates (e.g. {rate.name!r}): delete them first",
            code="tax_category_in_use",
            rate_id=str(rate.id),
        )
    await bus.publish(session, TaxCategoryDeleting(code=code, actor=actor))
    view = category_view(row)
    await repository.delete_category(session, row.id)
    _record(session, "tax_category.deleted", view, actor)
