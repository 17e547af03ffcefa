#!/usr/bin/env bash
# A client generated from the exported OpenAPI document (openapi-python-client) runs the
# reference scenario (tests/client/scenario.py) against the taskboard binary (TASKBOARD_BIN,
# default the release build) on a fresh PostgreSQL database, with the default rate limits.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

BIN=${TASKBOARD_BIN:-target/release/examples/taskboard}
PORT=${CLIENT_PORT:-3918}
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}
DB=taskboard_client
VENV=${VENV:-.venv}
BASE="http://127.0.0.1:$PORT"

"$BIN" openapi > target/taskboard.openapi.json
rm -rf target/client
mkdir -p target/client
"$VENV/bin/openapi-python-client" generate \
  --path target/taskboard.openapi.json \
  --output-path target/client/taskboard_client \
  --meta none \
  --config tests/client/openapi-python-client.yaml

fresh_database "$PG" "$DB"
start_taskboard "$BIN" target/client-server.log \
  DATABASE_URL="$PG/$DB" \
  JWT_SECRET=client-run-secret-of-at-least-32-bytes-long \
  BIND="127.0.0.1:$PORT"
trap stop_taskboard_and_drop_database EXIT
wait_ready "$BASE"

PYTHONPATH=target/client "$VENV/bin/python" tests/client/scenario.py "$BASE"
