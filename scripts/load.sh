#!/usr/bin/env bash
# Load and soak, one command (README):
#   1. the HTTP benchmarks of docs/benchmarks.md (`cargo bench --bench http`: bare axum,
#      rampart public, rampart authenticated + role, in one run; req/s, p50, p99, ratios);
#   2. a mixed soak (reads, writes, logins) on the release taskboard over PostgreSQL and Redis:
#      SOAK_SECONDS (60) at SOAK_CONNECTIONS (64); it reports 5xx (must be 0), error log lines
#      (must be 0) and the server's memory before and after.
# Installs wrk from Debian's packages when it is missing. Exits non-zero if the soak saw a
# 5xx or an error line.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_wrk

echo "==> HTTP benchmarks (bare axum baseline in the same run)"
cargo bench --bench http

echo "==> soak: release taskboard on PostgreSQL + Redis"
cargo build --release --example taskboard
BIN=target/release/examples/taskboard
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=taskboard_soak
PORT=${SOAK_PORT:-3919}
BASE="http://127.0.0.1:$PORT"
SECONDS_=${SOAK_SECONDS:-60}
CONNECTIONS=${SOAK_CONNECTIONS:-64}
USERS=16
PASSWORD="correct horse battery staple"

fresh_database "$PG" "$DB"
start_taskboard "$BIN" target/soak-server.log \
  DATABASE_URL="$PG/$DB" \
  DATABASE_MAX_CONNECTIONS=32 \
  REDIS_URL=redis://127.0.0.1:6379 \
  RAMPART_REDIS_PREFIX="soak-$$" \
  JWT_SECRET=soak-run-secret-of-at-least-32-bytes-long \
  RAMPART_RATE_LIMIT_MULTIPLIER=10000 \
  RAMPART_LOGIN_RATE_LIMIT=1000000/min \
  RAMPART_IP_RATE_LIMIT=off \
  BIND="127.0.0.1:$PORT"
trap stop_taskboard_and_drop_database EXIT
wait_ready "$BASE"

tokens=(); projects=(); emails=()
for i in $(seq 1 $USERS); do
  email="soak$i.$$@example.com"
  token=$(register_and_login "$BASE" "$email" "$PASSWORD")
  tokens+=("$token"); projects+=("$(create_project "$BASE" "$token" "soak $i")"); emails+=("$email")
done
export SOAK_TOKENS=$(IFS=,; echo "${tokens[*]}")
export SOAK_PROJECTS=$(IFS=,; echo "${projects[*]}")
export SOAK_EMAILS=$(IFS=,; echo "${emails[*]}")
export SOAK_PASSWORD="$PASSWORD"

rss() { awk '/VmRSS/ {print $2}' "/proc/$SERVER/status"; }
# Warm up (pools, caches, allocator) before the first memory reading.
wrk -t2 -c"$CONNECTIONS" -d5s -s scripts/load/mixed.lua "$BASE" >/dev/null
before=$(rss)
result=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_}s" --latency -s scripts/load/mixed.lua "$BASE")
after=$(rss)
echo "$result" | tail -n 4
server_errors=$(echo "$result" | awk '/^server_errors:/ {print $2}')
error_lines=$(grep -c '"level":"ERROR"' target/soak-server.log || true)
echo "memory (VmRSS): ${before} KiB after warm-up, ${after} KiB after ${SECONDS_} s ($(( (after - before) / 1024 )) MiB growth)"
echo "5xx responses: ${server_errors}; error log lines: ${error_lines}"
[ "${server_errors}" = "0" ] && [ "${error_lines}" = "0" ]
