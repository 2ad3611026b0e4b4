#!/usr/bin/env sh
# The order benchmark end to end: API under load, then order_pgbench.sql with the same concurrency on the
# same database, then the comparison (orders/s, p50, p99, statements per order, pgbench tps, ratio).
#   scripts/bench/run_order_bench.sh --workers 2 --duration 20 --concurrency 64
# PYTHON selects the interpreter that has oms-api installed (default: python3 on PATH).
set -eu
# A benchmark measures the service, not its rate limit (orders_bench.py sets it for the servers it starts too).
export OMS_RATE_LIMIT_PER_SECOND=0
cd "$(dirname "$0")/../.."
exec "${PYTHON:-python3}" scripts/bench/orders_bench.py --pgbench "$@"
