"""Prometheus metrics. With several processes set PROMETHEUS_MULTIPROC_DIR (README)."""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

HTTP_REQUESTS = Counter("oms_http_requests_total", "HTTP requests", ["method", "route", "status"])
HTTP_LATENCY = Histogram(
    "oms_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
ORDERS_PLACED = Counter("oms_orders_placed_total", "Orders placed", ["channel"])
PLACEMENTS_REFUSED = Counter("oms_order_placements_refused_total", "Order placements refused", ["reason"])


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all of them in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST


# --- the worker: outbox fan-out, webhook deliveries, scheduled jobs ---------------------------------------------
WORKER_BACKLOG = Gauge(
    "oms_worker_backlog",
    "Work waiting: events not yet fanned out (outbox), deliveries pending (deliveries), due now (due), pending for "
    "disabled endpoints (disabled) and dead letters not yet redelivered or skipped (dead_letters)",
    ["queue"],
    multiprocess_mode="livemostrecent",
)
WORKER_OLDEST_PENDING = Gauge(
    "oms_worker_oldest_pending_seconds",
    "Age of the oldest event not yet fanned out (outbox) and of the oldest pending delivery (deliveries)",
    ["queue"],
    multiprocess_mode="livemostrecent",
)
EVENTS_FANNED_OUT = Counter("oms_outbox_events_fanned_out_total", "Outbox events turned into deliveries")
WEBHOOK_ATTEMPTS = Counter(
    "oms_webhook_attempts_total",
    "Delivery attempts by outcome (succeeded, http_error, timeout, network_error, refused)",
    ["outcome"],
)
WEBHOOK_DELIVERIES = Counter(
    "oms_webhook_deliveries_total", "Deliveries that ended, by outcome (succeeded, failed)", ["outcome"]
)
WEBHOOK_ATTEMPT_SECONDS = Histogram(
    "oms_webhook_attempt_duration_seconds",
    "Duration of one delivery attempt",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
WEBHOOK_DELIVERY_LAG = Histogram(
    "oms_webhook_delivery_lag_seconds",
    "From the event's commit to its successful delivery",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86_400),
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "oms_webhook_endpoints_disabled_total", "Endpoints the worker disabled", ["reason"]
)
WEBHOOK_CIRCUITS_OPENED = Counter(
    "oms_webhook_circuits_opened_total", "Times an endpoint's circuit opened (attempts in a row got no answer)"
)
JOB_RUNS = Counter("oms_worker_job_runs_total", "Scheduled job runs by job and outcome (ok, error)", ["job", "outcome"])
JOB_SECONDS = Histogram(
    "oms_worker_job_duration_seconds",
    "Duration of scheduled job runs",
    ["job"],
    buckets=(0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 60, 300),
)
