"""Tax rate use cases: the rate table's CRUD (periods of one country, region and category never overlap) and
``rates_for``, the one query order placement asks."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.kit import outbox
from oms_api.kit.auth import Principal
from oms_api.kit.clock import utcnow
from oms_api.kit.errors import Conflict, NotFound, field_error
from oms_api.kit.etags import check_if_match
from oms_api.kit.ids import uuid7
from oms_api.kit.pagination import PageParams, Slice
from oms_api.taxes import domain, repository
from oms_api.taxes.models import TaxRate as RateRow
from oms_api.taxes.models import from_ppm, to_ppm
from oms_api.taxes.schemas import TaxRate, TaxRateCreate, TaxRateUpdate


def rate_view(row: RateRow) -> TaxRate:
    return TaxRate(
        id=row.id,
        country=row.country,
        region=row.region,
        category=row.category,
        rate=domain.rate_text(from_ppm(row.rate_ppm)),
        name=row.name,
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        version=row.version,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _record(session: AsyncSession, type_: str, view: TaxRate, actor: Principal) -> None:
    outbox.record(session, type_, "tax_rate", view.id, view.model_dump(mode="json"), actor=actor.actor)


def _default_name(data: TaxRateCreate) -> str:
    where = f"{data.country} {data.region}" if data.region else data.country
    return f"{where} {data.category} {domain.percent_text(Decimal(data.rate))}%"


async def _lock_category(session: AsyncSession, code: str) -> None:
    """Lock the category's row: rates of one category are written one transaction at a time, so two concurrent
    writes cannot both pass the overlap check (422 when the category does not exist)."""
    if await repository.category(session, code, for_update=True) is None:
        raise field_error("/body/category", f"no tax category {code!r}", "unknown_tax_category")


async def _refuse_overlap(
    session: AsyncSession,
    *,
    country: str,
    region: str | None,
    category: str,
    valid_from: date,
    valid_to: date | None,
    exclude: uuid.UUID | None = None,
) -> None:
    other = await repository.overlapping(
        session,
        country=country,
        region=region,
        category=category,
        valid_from=valid_from,
        valid_to=valid_to,
        exclude=exclude,
    )
    if other is None:
        return
    until = other.valid_to.isoformat() if other.valid_to else "open-ended"
    raise Conflict(
        f"Rate {other.name!r} ({other.valid_from.isoformat()} to {until}) already applies to "
        f"{category} in {country}{' ' + region if region else ''} for part of this period",
        code="tax_rate_overlap",
        existing_id=str(other.id),
    )


async def _load(session: AsyncSession, rate_id: uuid.UUID, *, for_update: bool = False) -> RateRow:
    row = await repository.rate(session, rate_id, for_update=for_update)
    if row is None:
        raise NotFound(f"No tax rate {rate_id}", code="tax_rate_not_found")
    return row


async def create_rate(session: AsyncSession, actor: Principal, data: TaxRateCreate) -> TaxRate:
    await _lock_category(session, data.category)
    await _refuse_overlap(
        session,
        country=data.country,
        region=data.region,
        category=data.category,
        valid_from=data.valid_from,
        valid_to=data.valid_to,
    )
    now = utcnow()
    row = RateRow(
        id=uuid7(),
        country=data.country,
        region=data.region,
        category=data.category,
        rate_ppm=to_ppm(Decimal(data.rate)),
        name=data.name or _default_name(data),
        valid_from=data.valid_from,
        valid_to=data.valid_to,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    view = rate_view(row)
    _record(session, "tax_rate.created", view, actor)
    return view


async def get_rate(session: AsyncSession, rate_id: uuid.UUID) -> TaxRate:
    return rate_view(await _load(session, rate_id))


async def list_rates(
    session: AsyncSession,
    page: PageParams,
    *,
    country: str | None = None,
    region: str | None = None,
    category: str | None = None,
    on: date | None = None,
) -> Slice[TaxRate]:
    rows = await repository.list_rates(session, page, country=country, region=region, category=category, on=on)
    return Slice(items=[rate_view(r) for r in rows.items], has_more=rows.has_more, next_after=rows.next_after)


async def update_rate(
    session: AsyncSession, actor: Principal, rate_id: uuid.UUID, data: TaxRateUpdate, if_match: str | None
) -> TaxRate:
    """Rename or end-date a rate (``valid_to``, re-checked against the other rates of its category)."""
    found = await _load(session, rate_id)
    await _lock_category(session, found.category)
    row = await _load(session, rate_id, for_update=True)
    check_if_match(if_match, row.version)
    changes = {k: v for k, v in data.model_dump(exclude_unset=True).items() if getattr(row, k) != v}
    if not changes:
        return rate_view(row)
    if "valid_to" in changes:
        valid_to = changes["valid_to"]
        if valid_to is not None and valid_to <= row.valid_from:
            raise field_error(
                "/body/valid_to",
                f"must be after valid_from {row.valid_from.isoformat()} (the first day the rate no longer applies)",
                "invalid_validity",
            )
        await _refuse_overlap(
            session,
            country=row.country,
            region=row.region,
            category=row.category,
            valid_from=row.valid_from,
            valid_to=valid_to,
            exclude=row.id,
        )
    for field, value in changes.items():
        setattr(row, field, value)
    row.version += 1
    row.updated_at = utcnow()
    await session.flush()
    view = rate_view(row)
    _record(session, "tax_rate.updated", view, actor)
    return view


async def delete_rate(session: AsyncSession, actor: Principal, rate_id: uuid.UUID, if_match: str | None) -> None:
    """Delete a rate (orders keep the rate they were taxed at: they copy it). End-dating keeps the history."""
    row = await _load(session, rate_id, for_update=True)
    check_if_match(if_match, row.version)
    view = rate_view(row)
    await repository.delete_rate(session, row.id)
    _record(session, "tax_rate.deleted", view, actor)


async def rates_for(
    session: AsyncSession, country: str, region: str | None, categories: set[str], on: date
) -> domain.TaxRules:
    """The rates of ``categories`` at a destination on a day, in ONE SELECT (placement counts its statements).

    ``region`` is the destination's region as the rate table spells it (``CA``, ``ES-CN``) or None.
    """
    region = domain.normalise_region(region)
    rows = await repository.rates_at(session, country, region, on)
    wanted = frozenset(categories)
    rules = tuple(
        domain.RateRule(
            id=row.id,
            country=row.country,
            region=row.region,
            category=row.category,
            rate=from_ppm(row.rate_ppm),
            name=row.name,
            valid_from=row.valid_from,
            valid_to=row.valid_to,
        )
        for row in rows
        if row.category in wanted
    )
    return domain.TaxRules(
        country=country, region=region, on=on, categories=wanted, rates=rules, taxes_country=bool(rows)
    )
