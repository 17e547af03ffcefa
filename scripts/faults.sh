#!/usr/bin/env bash
# Faults under load, one command (docs/benchmarks.md has the latest output). On a dedicated
# PostgreSQL cluster and a dedicated redis-server (the machine's shared services are never
# touched), with the release taskboard under a mixed wrk load:
#   A. PostgreSQL stopped: 503 envelopes with Retry-After and no internals; /health/ready stays
#      200 and reports "database":"down" (a shared dependency does not drain every instance);
#      after its restart the API answers again within 10 s, with no app restart.
#   B. Redis stopped: rate-limited writes keep working (limits fail open, as documented) and
#      /health/ready stays 200 with "redis":"down"; after its restart it reports "up" again.
#   C. SIGTERM under load: in-flight requests complete; every acknowledged write (201) is in
#      the database and there is no write that was not acknowledged.
# Exits non-zero at the first broken expectation.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

ensure_wrk
cargo build --release --example taskboard
BIN=target/release/examples/taskboard
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
PG_PORT=55432; REDIS_PORT=56379; PORT=3920
BASE="http://127.0.0.1:$PORT"
WORK=$(mktemp -d /tmp/rampart-faults.XXXXXX)
chown postgres "$WORK"
PASSWORD="correct horse battery staple"

fail() { echo "FAILED: $*" >&2; exit 1; }
pg() { runuser -u postgres -- "$PGBIN/$@"; }
psql_() { psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d taskboard -tAc "$1"; }

pg initdb -D "$WORK/data" -A trust -U postgres >/dev/null
pg_start() { pg pg_ctl -D "$WORK/data" -o "-p $PG_PORT -k $WORK -c listen_addresses=127.0.0.1" -l "$WORK/pg.log" -w start >/dev/null; }
pg_stop() { pg pg_ctl -D "$WORK/data" -m fast -w stop >/dev/null; }
redis_start() { redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no --daemonize yes --pidfile "$WORK/redis.pid" --logfile "$WORK/redis.log"; }
redis_stop() { redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true; }
pg_start
psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE taskboard"
redis_start

SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  redis_stop
  pg_stop 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

start_server() {
  DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/taskboard" \
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
  JWT_SECRET=faults-run-secret-of-at-least-32-bytes-long \
  RAMPART_RATE_LIMIT_MULTIPLIER=10000 RAMPART_LOGIN_RATE_LIMIT=1000000/min RAMPART_IP_RATE_LIMIT=off \
  RAMPART_SHUTDOWN_DRAIN=2s \
  BIND="127.0.0.1:$PORT" \
  "$BIN" >> target/faults-server.log 2>&1 &
  SERVER=$!
  wait_ready "$BASE" || fail "the server did not become ready"
}
: > target/faults-server.log
start_server

email="faults.$$@example.com"
TOKEN=$(register_and_login "$BASE" "$email" "$PASSWORD")
PROJECT=$(create_project "$BASE" "$TOKEN" faults)
export SOAK_TOKENS=$TOKEN SOAK_PROJECTS=$PROJECT SOAK_EMAILS=$email SOAK_PASSWORD=$PASSWORD
ITEM="$BASE/api/v1/projects/$PROJECT"
auth=(-H "authorization: Bearer $TOKEN")

echo "==> A. PostgreSQL stopped under load"
wrk -t2 -c32 -d20s -s scripts/load/mixed.lua "$BASE" > "$WORK/wrk-a.txt" &
LOAD=$!
sleep 4
pg_stop
sleep 2
body=$(curl -sS -D "$WORK/headers" "${auth[@]}" "$ITEM")
status=$(awk 'NR==1 {print $2}' "$WORK/headers")
[ "$status" = "503" ] || fail "a read during the outage was $status: $body"
grep -qi '^retry-after:' "$WORK/headers" || fail "503 without Retry-After"
echo "$body" | grep -q '"code":"UNAVAILABLE"' || fail "not the envelope: $body"
echo "$body" | grep -Eqi 'postgres|sqlx|refused|connection|5432' && fail "internals in the 503: $body"
ready=$(curl -s -D "$WORK/ready-headers" "$BASE/health/ready")
ready_status=$(awk 'NR==1 {print $2}' "$WORK/ready-headers")
[ "$ready_status" = "200" ] || fail "/health/ready was $ready_status during the outage: $ready"
echo "$ready" | grep -q '"database":"down"' || fail "/health/ready does not report the database down: $ready"
echo "    during the outage: 503 UNAVAILABLE with Retry-After, no internals; /health/ready 200 with database down"
sleep 3
pg_start
restarted=$(date +%s.%N)
until [ "$(curl -s -o /dev/null -w '%{http_code}' "${auth[@]}" "$ITEM")" = "200" ]; do
  sleep 0.1
  awk -v s="$restarted" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 10) }' && fail "not back within 10 s of the restart"
done
recovered=$(awk -v s="$restarted" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }')
wait "$LOAD"
tail -n 3 "$WORK/wrk-a.txt" | sed 's/^/    /'
other_5xx=$(grep '^statuses:' "$WORK/wrk-a.txt" | tr ' ' '\n' | awk -F= '$1 >= 500 && $1 != 503 {n += $2} END {print n + 0}')
[ "$other_5xx" = "0" ] || fail "5xx other than 503 during the outage: $other_5xx"
echo "    back ${recovered} s after PostgreSQL restarted, same process; only 503s among 5xx"

echo "==> B. Redis stopped under load"
redis_stop
sleep 1
created=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${auth[@]}" -H 'content-type: application/json' \
  -d '{"title":"while redis is down"}' "$ITEM/tasks")
[ "$created" = "201" ] || fail "a rate-limited write was $created with Redis down (limits fail open)"
ready=$(curl -s -D "$WORK/ready-headers" "$BASE/health/ready")
ready_status=$(awk 'NR==1 {print $2}' "$WORK/ready-headers")
[ "$ready_status" = "200" ] || fail "/health/ready was $ready_status with Redis down: $ready"
echo "$ready" | grep -q '"redis":"down"' || fail "/health/ready does not report Redis down: $ready"
redis_start
restarted=$(date +%s.%N)
until curl -s "$BASE/health/ready" | grep -q '"redis":"up"'; do
  sleep 0.1
  awk -v s="$restarted" -v n="$(date +%s.%N)" 'BEGIN { exit !(n - s > 10) }' && fail "readiness not back within 10 s of Redis"
done
limited=$(curl -s -D - -o /dev/null -X POST "${auth[@]}" -H 'content-type: application/json' \
  -d '{"title":"after redis"}' "$ITEM/tasks" | grep -ci '^ratelimit:' || true)
[ "$limited" = "1" ] || fail "no RateLimit header after Redis returned"
echo "    with Redis down: writes 201 (fail open), /health/ready 200 with redis down; back with RateLimit headers after $(awk -v s="$restarted" -v n="$(date +%s.%N)" 'BEGIN { printf "%.1f", n - s }') s"

echo "==> C. SIGTERM under load"
before=$(psql_ "SELECT COUNT(*) FROM tasks")
wrk -t2 -c32 -d8s -s scripts/load/mixed.lua "$BASE" > "$WORK/wrk-c.txt" 2>&1 &
LOAD=$!
sleep 3
kill -TERM "$SERVER"
wait "$SERVER"; code=$?
SERVER=""
wait "$LOAD" || true
after=$(psql_ "SELECT COUNT(*) FROM tasks")
acknowledged=$(grep '^statuses:' "$WORK/wrk-c.txt" | tr ' ' '\n' | awk -F= '$1 == 201 {print $2}')
acknowledged=${acknowledged:-0}
tail -n 3 "$WORK/wrk-c.txt" | sed 's/^/    /'
[ "$code" = "0" ] || fail "the server exited with $code"
[ $((after - before)) = "$acknowledged" ] || fail "$((after - before)) rows written, $acknowledged acknowledged"
other_5xx=$(grep '^statuses:' "$WORK/wrk-c.txt" | tr ' ' '\n' | awk -F= '$1 >= 500 {n += $2} END {print n + 0}')
[ "$other_5xx" = "0" ] || fail "5xx during shutdown: $other_5xx"
grep -q '"level":"ERROR"' target/faults-server.log && echo "    (error lines in the log, expected during the outages: $(grep -c '"level":"ERROR"' target/faults-server.log))"
echo "    exit code 0; $acknowledged writes acknowledged = $((after - before)) rows; no 5xx"
echo "==> faults: all expectations held"
