"""Every setting of the service, read once from the environment (prefix ``OMS_``)."""

import re
from functools import lru_cache

import iso4217
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}
_STEP = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")


def parse_schedule(text: str) -> tuple[float, ...]:
    """``"5s,30s,2m,1h"`` -> seconds; a bare number is seconds. At least one step, each > 0 and <= 7 days."""
    steps = []
    for raw in text.split(","):
        token = raw.strip().lower()
        found = _STEP.match(token)
        if not found:
            raise ValueError(f"retry schedule step {raw.strip()!r} is not like 30s, 5m, 2h or 1d")
        seconds = float(found.group(1)) * _UNITS[found.group(2) or "s"]
        if not 0 < seconds <= 7 * 86_400:
            raise ValueError(f"retry schedule step {raw.strip()!r} must be more than 0 and at most 7 days")
        steps.append(seconds)
    if not steps:
        raise ValueError("the retry schedule needs at least one step")
    return tuple(steps)


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
    metrics_public: bool = Field(
        False, description="Serve /metrics without an API key (trusted networks only); else it needs `metrics:read`"
    )
    auto_migrate: bool | None = Field(
        None, description="Apply pending migrations on `serve` (default: yes on SQLite, no on PostgreSQL)"
    )
    idempotency_ttl_hours: int = Field(24, ge=24, description="How long Idempotency-Key results are kept")
    db_retry_attempts: int = Field(3, ge=1, description="Tries for a request hit by a deadlock/serialization error")
    max_split_warehouses: int = Field(3, ge=1, description="Most warehouses one order is split across")
    base_currency: str = Field(
        "EUR", description="ISO 4217 currency every figure in the base currency is in (payments' converted amounts)"
    )
    easypost_webhook_secret: str | None = Field(
        None, description="Secret of the EasyPost webhook (X-Hmac-Signature); unset: its deliveries are refused"
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Key sealing stored credentials (32 random bytes in URL-safe base64, as `oms-api secrets "
        "generate-key` prints it); required on PostgreSQL; on SQLite, unset: a key file beside the database",
    )
    secret_key_previous: SecretStr | None = Field(
        None, description="The key before the current one: still unseals while `oms-api secrets rotate` runs"
    )
    # Both keys are checked by kit.secrets.install (every entry point calls it), not by a validator here: a
    # validation error would print the value it refuses, and a malformed key may still be someone's secret.
    # --- webhooks and the worker (issue 3) ---
    webhooks_allow_private_networks: bool = Field(
        False, description="Let webhook URLs reach private, loopback and link-local addresses (tests, on-premises)"
    )
    webhooks_secret_overlap_hours: int = Field(
        24, ge=0, le=720, description="After a secret rotation, how long the old secret still signs deliveries"
    )
    webhooks_timeout_seconds: float = Field(15.0, gt=0, le=120, description="Time limit of one delivery attempt")
    webhooks_retry_schedule: str = Field(
        "5s,30s,2m,10m,30m,1h,3h,6h,12h,24h,24h",
        description="Waits between delivery attempts (s, m, h, d); a delivery fails after the last one",
    )
    webhooks_retry_jitter: float = Field(0.2, ge=0, le=1, description="Random spread of each wait (0.2: +/-20 %)")
    webhooks_retry_after_max_seconds: int = Field(
        86_400, ge=1, description="Longest Retry-After (on 429/503) that is honoured as given"
    )
    webhooks_disable_after_failures: int = Field(
        5, ge=1, description="Failed deliveries in a row (every retry spent, no success between) disabling an endpoint"
    )
    webhooks_concurrency: int = Field(32, ge=1, le=1000, description="Deliveries one worker sends at once")
    webhooks_endpoint_concurrency: int = Field(
        4, ge=1, le=1000, description="Requests one worker sends to one endpoint at once (its share of the worker)"
    )
    webhooks_circuit_threshold: int = Field(
        5, ge=1, description="Attempts in a row with no answer (timeout, no connection) that open an endpoint's circuit"
    )
    webhooks_circuit_cooldown_seconds: float = Field(
        30.0, gt=0, description="How long an open circuit sends nothing before one probe delivery"
    )
    webhooks_claim_lease_seconds: float = Field(
        15.0,
        gt=0,
        description="A worker's claim on a delivery, renewed every third of it while the request runs; "
        "a dead worker's claims are taken over after it",
    )
    webhooks_replay_max_events: int = Field(100_000, ge=1, description="Most events one replay request re-queues")
    webhooks_retention_days: int = Field(
        30, ge=1, description="Finished deliveries and their attempts are deleted after this many days"
    )
    worker_poll_interval_seconds: float = Field(
        0.5, gt=0, le=60, description="How often an idle worker looks for new events and due deliveries"
    )
    worker_fanout_batch: int = Field(500, ge=1, le=10_000, description="Events turned into deliveries per step")
    worker_shutdown_grace_seconds: float = Field(
        30.0, ge=0, description="On SIGTERM, how long in-flight deliveries may finish before their claims are released"
    )
    worker_job_lease_seconds: float = Field(
        300.0, gt=0, description="A scheduled job's claim expires after this (a killed worker's job runs again)"
    )
    worker_metrics_port: int | None = Field(
        None, ge=1, le=65535, description="Serve the worker's Prometheus metrics on this port (`oms-api worker`)"
    )
    serve_with_worker: bool | None = Field(
        None, description="Run a worker inside `serve` (default: yes on SQLite with one process, no on PostgreSQL)"
    )
    job_idempotency_purge_seconds: int = Field(3600, ge=1, description="Interval of the idempotency-key purge job")
    job_cart_expiry_seconds: int = Field(15, ge=1, description="Interval of the cart expiry job")
    job_quote_expiry_seconds: int = Field(
        600, ge=1, description="Interval of the job expiring sent quotes past their validity (and their held stock)"
    )
    job_intake_seconds: int = Field(2, ge=1, description="Interval of the storefront intake processing job")
    job_webhooks_purge_seconds: int = Field(3600, ge=1, description="Interval of the delivery retention purge job")
    # --- body limits and rate limits (issue 9) ---
    body_limit_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body a route takes (413 past it), unless its class says more"
    )
    body_limit_bulk_bytes: int = Field(
        8_388_608, ge=1024, description="Largest body of bulk routes (carrier rate tables, batch allocation)"
    )
    body_limit_inbound_bytes: int = Field(
        2_097_152, ge=1024, description="Largest body of inbound webhooks (Shopify, WooCommerce, EasyPost)"
    )
    rate_limit_per_second: float = Field(
        100, ge=0, description="Requests per second of an API key that sets no rate of its own; 0: no limit"
    )
    rate_limit_burst: int = Field(
        200, ge=0, description="Requests an API key may send at once (its bucket) unless it sets its own; 0: no limit"
    )
    auth_failure_rate_per_second: float = Field(
        1, ge=0, description="Failed authentications per second one client address may keep making (then 429); 0: off"
    )
    auth_failure_burst: int = Field(
        20, ge=0, description="Failed authentications one client address may make at once before it is slowed; 0: off"
    )
    inbound_rate_limit_per_second: float = Field(
        50, ge=0, description="Signed webhooks per second one channel may receive (EasyPost counts as one); 0: off"
    )
    inbound_rate_limit_burst: int = Field(
        500, ge=0, description="Signed webhooks one channel may receive at once above that rate; 0: off"
    )
    job_rate_limits_purge_seconds: int = Field(
        3600, ge=1, description="Interval of the job deleting idle rate-limit buckets (PostgreSQL)"
    )
    # --- payments (issue 10) ---
    stripe_api_key: SecretStr | None = Field(
        None, description="Stripe secret API key (sk_…) of the stripe gateway; unset: Stripe payments fail"
    )
    stripe_webhook_secret: SecretStr | None = Field(
        None,
        description="Signing secret (whsec_…) of the Stripe webhook endpoint; unset: its deliveries are refused (401)",
    )
    stripe_api_base: str = Field("https://api.stripe.com", description="Base URL of the Stripe API (tests: a stub)")
    # --- accounting (issue 11) ---
    quickbooks_verifier_token: SecretStr | None = Field(
        None,
        description="Verifier token of the QuickBooks webhook (intuit-signature); unset: notifications are refused",
    )
    quickbooks_api_base: str = Field(
        "https://quickbooks.api.intuit.com", description="Base URL of the QuickBooks Online API (sandbox or a stub)"
    )
    quickbooks_realm_id: str | None = Field(None, description="The QuickBooks company (realm) whose payments apply")
    quickbooks_access_token: SecretStr | None = Field(
        None, description="OAuth 2.0 access token the QuickBooks API is read with (payments and invoices)"
    )
    payments_gateway_timeout_seconds: float = Field(
        20.0, gt=0, le=120, description="Time limit of one payment gateway call; past it the operation is pending"
    )
    job_payments_reconcile_seconds: int = Field(
        60, ge=1, description="Interval of the job settling payment operations whose gateway call timed out"
    )
    job_invoice_overdue_seconds: int = Field(
        3600, ge=1, description="Interval of the job marking invoices past their due date overdue"
    )

    @field_validator("base_currency")
    @classmethod
    def _base_currency(cls, value: str) -> str:
        # ISO 4217's own table, as kit.money reads it (settings import nothing of the kit): a code of money has
        # a number of minor units; the non-currencies (XXX, XAU…) have "N.A.".
        entry = iso4217.raw_table.get(value)
        if entry is None or not str(entry["CcyMnrUnts"]).isdigit():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, USD)")
        return value

    @field_validator("webhooks_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)  # raises ValueError with a readable message
        return value

    @property
    def retry_schedule(self) -> tuple[float, ...]:
        """``webhooks_retry_schedule`` in seconds."""
        return parse_schedule(self.webhooks_retry_schedule)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests build their own ``Settings``)."""
    return Settings()
