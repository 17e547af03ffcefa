# Helpers shared by the scripts that run the taskboard binary (sourced, not run).

# Reads a field of a JSON document on stdin: `json "['data']['id']"`.
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# Waits up to 30 s for BASE/health/ready to answer 200.
wait_ready() {
  local base=$1
  for _ in $(seq 1 60); do
    curl -fsS "$base/health/ready" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "the taskboard at $base did not become ready" >&2
  return 1
}

# Drops and creates DB on the PostgreSQL server at PG (a URL without a database).
fresh_database() {
  local pg=$1 db=$2
  psql "$pg/postgres" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" 2>/dev/null
  psql "$pg/postgres" -qc "CREATE DATABASE $db"
}

# Registers EMAIL with PASSWORD on BASE, logs in, and prints the access token.
register_and_login() {
  local base=$1 email=$2 password=$3
  curl -fsS -X POST "$base/api/v1/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\",\"display_name\":\"${email%%@*}\"}" >/dev/null
  curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$email\",\"password\":\"$password\"}" | json "['data']['access_token']"
}

# Creates a project named NAME with TOKEN on BASE and prints its id.
create_project() {
  local base=$1 token=$2 name=$3
  curl -fsS -X POST "$base/api/v1/projects" -H 'content-type: application/json' \
    -H "authorization: Bearer $token" -d "{\"name\":\"$name\"}" | json "['data']['id']"
}

# Installs wrk from Debian's packages when it is missing.
ensure_wrk() {
  command -v wrk >/dev/null 2>&1 && return 0
  echo "==> installing wrk"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y wrk; }
}

# Starts the taskboard binary BIN in the background with the given VAR=value settings, logging
# to LOG, and sets SERVER to its pid.
start_taskboard() {
  local bin=$1 log=$2
  shift 2
  env "$@" "$bin" > "$log" 2>&1 &
  SERVER=$!
}

# An EXIT trap: stops the server started by start_taskboard and drops database DB on PG.
stop_taskboard_and_drop_database() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
}
