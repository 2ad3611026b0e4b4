"""Worker tables: scheduled jobs with their lease, and named locks that serialise one step across workers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from oms_api.kit.db import Base


class ScheduledJob(Base):
    """One interval job: when it runs next, who holds it now (a lease), and how its last run went."""

    __tablename__ = "scheduled_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_run_at: Mapped[datetime]
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    runs: Mapped[int] = mapped_column(default=0)
    last_started_at: Mapped[datetime | None]
    last_finished_at: Mapped[datetime | None]
    last_duration_ms: Mapped[int | None]
    last_result: Mapped[int | None] = mapped_column(doc="What the job returned (e.g. rows purged)")
    last_error: Mapped[str | None] = mapped_column(String(500))


class WorkerLock(Base):
    """A row locked (``FOR UPDATE SKIP LOCKED``) by the one worker doing a step that must not run twice at once."""

    __tablename__ = "worker_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
