"""Every query of the test gateway's own tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from oms_api.integrations.payments.models import TestGatewayOperation, TestGatewayPayment


async def operation(session: AsyncSession, key: str) -> TestGatewayOperation | None:
    """The answer already given under an idempotency key, if any."""
    return await session.get(TestGatewayOperation, key)


async def payment(session: AsyncSession, reference: str) -> TestGatewayPayment | None:
    """A gateway payment, row-locked (and read afresh) so that two calls on it take turns."""
    stmt = (
        select(TestGatewayPayment)
        .where(TestGatewayPayment.reference == reference)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def add(session: AsyncSession, row: TestGatewayPayment | TestGatewayOperation) -> None:
    session.add(row)
