"""Allocation tables: every sourcing run's explanation, kept so that a plan can be questioned later."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.clock import utcnow
from oms_api.kit.db import Base, IdMixin


class AllocationPlan(IdMixin, Base):
    """One sourcing run of an order (placement, allocate or reallocate); the newest one is the order's plan."""

    __tablename__ = "allocation_plans"
    __table_args__ = (Index("ix_allocation_plans_order", "order_id", "id"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    trigger: Mapped[str] = mapped_column(String(32), doc="placement, allocate or reallocate")
    strategy: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(32), doc="single_warehouse, split, nearest_per_line, …")
    shipments: Mapped[int]
    explanation: Mapped[dict[str, Any]] = mapped_column(JSON, doc="Lines, warehouses and notes, as the API shows")
    reason: Mapped[str | None] = mapped_column(String(500))
    actor: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
