#!/usr/bin/env bash
# schemathesis against the running taskboard, as a user would deploy it: the release binary
# (TASKBOARD_BIN to override), PostgreSQL, Redis, a real access token. Rate limits stay on,
# raised by configuration for the run. Exits non-zero on any failure.
#
#   scripts/schemathesis.sh            # needs .venv/bin/schemathesis (see .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

BIN=${TASKBOARD_BIN:-target/release/examples/taskboard}
PORT=${SCHEMATHESIS_PORT:-3917}
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=taskboard_schemathesis
ST=${SCHEMATHESIS:-.venv/bin/schemathesis}
BASE="http://127.0.0.1:$PORT"

fresh_database "$PG" "$DB"
start_taskboard "$BIN" target/schemathesis-server.log \
  DATABASE_URL="$PG/$DB" \
  REDIS_URL=redis://127.0.0.1:6379 \
  RAMPART_REDIS_PREFIX="schemathesis-$$" \
  JWT_SECRET=schemathesis-run-secret-of-at-least-32-bytes \
  RAMPART_RATE_LIMIT_MULTIPLIER=1000 \
  RAMPART_LOGIN_RATE_LIMIT=100000/min \
  BIND="127.0.0.1:$PORT"
trap stop_taskboard_and_drop_database EXIT

wait_ready "$BASE"
TOKEN=$(register_and_login "$BASE" schemathesis@example.com "correct horse battery staple")

"$ST" run "$BASE/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $TOKEN" \
  --max-examples "${SCHEMATHESIS_EXAMPLES:-40}" \
  --seed "${SCHEMATHESIS_SEED:-20261125}" \
  --generation-deterministic \
  --report junit --report-dir target/schemathesis \
  --max-failures 500
