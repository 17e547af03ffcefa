#!/usr/bin/env bash
# The HTTP benchmark (benches/http.rs: wrk on loopback against bare axum, a public and an
# authenticated endpoint) with the `otel` feature off, built but not configured, and exporting
# every span to a local OTLP receiver (scripts/otlp_sink.py), in one run: the three
# configurations alternate round by round, each process measures bare axum beside rampart, and
# the table gives each configuration's median round. Wall time: run on a quiet machine.
# Usage: scripts/bench_otel.sh   (needs wrk and taskset; prints a Markdown table)
#   OTEL_BENCH_ROUNDS=3  BENCH_SECONDS=8  OTEL_SINK_PORT=4319
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }

rounds=${OTEL_BENCH_ROUNDS:-3}
seconds=${BENCH_SECONDS:-8}
port=${OTEL_SINK_PORT:-4319}
executable() { # cargo bench arguments -> the bench binary it built
  cargo bench --bench http --no-run "$@" 2>&1 | sed -n 's/.*Executable .*(\(.*\))$/\1/p' | tail -n 1
}
off=$(executable)
on=$(executable --features otel)
[ -x "$off" ] && [ -x "$on" ] || { echo "the bench did not build" >&2; exit 1; }

out=$(mktemp -d)
# The collector runs beside wrk on core 1 (the servers have core 0): its work is not the
# service's, and it takes from the load generator, not from the server measured.
taskset -c 1 python3 scripts/otlp_sink.py "$port" &
sink=$!
trap 'kill $sink 2>/dev/null; rm -rf "$out"' EXIT
sleep 0.5

run() { # label binary [VAR=value ...]: one round, its table rows prefixed with the label
  local label=$1 bin=$2
  shift 2
  env BENCH_SECONDS="$seconds" BENCH_ROUNDS=1 BENCH_SKIP_CACHE=1 BENCH_SKIP_LOGINS=1 "$@" "$bin" \
    | tee -a "$out/raw" \
    | awk -v label="$label" -F'|' '/^\| (bare|rampart)/ { print label "|" $2 "|" $3 "|" $4 "|" $5 }' >> "$out/rows"
}
for _ in $(seq "$rounds"); do
  run "feature off" "$off"
  run "otel built, no endpoint" "$on"
  run "otel, exporting every span" "$on" OTEL_EXPORTER_OTLP_ENDPOINT="http://127.0.0.1:$port" \
    OTEL_BSP_SCHEDULE_DELAY=200
done

python3 - "$out/rows" "$rounds" "$seconds" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("|") for line in open(sys.argv[1])]
rounds, seconds = sys.argv[2], sys.argv[3]
configs, targets, runs = [], [], {}
for label, target, rps, p50, p99 in rows:
    target = target.strip()
    if label not in configs:
        configs.append(label)
    if target not in targets:
        targets.append(target)
    runs.setdefault((label, target), []).append((float(rps), float(p50), float(p99)))
print(f"wrk -t1 -c32 -d{seconds}s on core 1, servers on core 0; each cell the median of {rounds} rounds")
print()
print("| configuration | target | req/s | p50 (ms) | p99 (ms) | vs bare axum, same process |")
print("|---|---|---:|---:|---:|---:|")
for label in configs:
    bare = [r[0] for r in runs[(label, "bare axum")]]
    for target in targets:
        samples = runs[(label, target)]
        ratios = [s[0] / b for s, b in zip(samples, bare)]
        print(f"| {label} | {target} | {statistics.median(s[0] for s in samples):.0f} "
              f"| {statistics.median(s[1] for s in samples):.3f} | {statistics.median(s[2] for s in samples):.3f} "
              f"| {statistics.median(ratios):.2f}x |")
PY
echo
echo "what the exporting rounds sent (the last round's process):"
grep '^rampart_otel' "$out/raw" | tail -n 3
