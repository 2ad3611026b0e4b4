"""Every setting of the service, read once from the environment (prefix ``OMS_``)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration; each field is documented in the README's configuration table."""

    model_config = SettingsConfigDict(env_prefix="OMS_", env_file=".env", extra="ignore")

    database_url: str = Field(
        "sqlite+aiosqlite:///./oms.db",
        description="SQLAlchemy URL: sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db",
    )
    db_pool_size: int = Field(10, ge=1, description="Connections kept open per process (PostgreSQL)")
    db_max_overflow: int = Field(10, ge=0, description="Extra connections allowed under burst (PostgreSQL)")
    sqlite_busy_timeout_ms: int = Field(30_000, ge=0, description="How long a SQLite writer waits its turn")
    host: str = Field("127.0.0.1", description="Address `oms-api serve` listens on")
    port: int = Field(8000, description="Port `oms-api serve` listens on")
    log_level: str = Field("info", description="debug, info, warning or error")
    log_json: bool = Field(True, description="JSON log lines (false: human-readable console)")
    auto_migrate: bool | None = Field(
        None, description="Apply pending migrations on `serve` (default: yes on SQLite, no on PostgreSQL)"
    )
    idempotency_ttl_hours: int = Field(24, ge=24, description="How long Idempotency-Key results are kept")
    idempotency_lock_seconds: int = Field(
        60, ge=1, description="After this, an unfinished request's key may be taken over by a retry"
    )
    db_retry_attempts: int = Field(3, ge=1, description="Tries for a request hit by a deadlock/serialization error")
    max_split_warehouses: int = Field(3, ge=1, description="Most warehouses one order is split across")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
