#!/usr/bin/env bash
# Instructions and heap allocations per request for each HTTP benchmark target, in process (no
# network, no client): valgrind's callgrind and DHAT count the bench's in-process loop
# (`BENCH_IN_PROCESS=1 BENCH_CASE=k`, benches/http.rs) at two iteration counts, and the
# difference divided by the difference in requests is the cost of one request, with set-up and
# teardown cancelled out. Counts, unlike wall time, do not move with a noisy machine.
# Usage: scripts/cost.sh   (needs valgrind; prints a Markdown table)
#   COST_CASES="1 3"      only those targets (0 bare axum, 1 public, 2 rate limited, 3 authenticated)
#   COST_FEATURES=otel    the bench built with those features of `rampart` (the `otel` cost:
#                         with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are made and exported)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 1; }

small=${COST_SMALL:-2000}
large=${COST_LARGE:-12000}
features=()
if [ -n "${COST_FEATURES:-}" ]; then features=(--features "$COST_FEATURES"); fi
cargo bench --bench http --no-run "${features[@]}" >/dev/null 2>&1 || cargo bench --bench http --no-run "${features[@]}"
bin=$(ls -t "${CARGO_TARGET_DIR:-target}"/release/deps/http-* | grep -v '\.d$' | head -n 1)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

instructions() { # case iterations -> total instructions (every thread)
  BENCH_IN_PROCESS=1 BENCH_CASE=$1 BENCH_ITERATIONS=$2 RAMPART_BENCH_PINNED=1 BENCH_LOG=info \
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1.$2.%p" "$bin" >/dev/null 2>&1
  # `summary:` only: each file repeats the same count as `totals:`, and counting both doubled
  # every figure (docs/benchmarks.md says which earlier figures were taken that way).
  cat "$out"/cg."$1"."$2".* | awk '/^summary:/ { sum += $2 } END { print sum }'
}
blocks() { # case iterations -> heap blocks allocated in total
  BENCH_IN_PROCESS=1 BENCH_CASE=$1 BENCH_ITERATIONS=$2 RAMPART_BENCH_PINNED=1 BENCH_LOG=info \
    valgrind --tool=dhat --dhat-out-file=/dev/null "$bin" 2>&1 >/dev/null \
    | awk '/Total:/ { gsub(",", "", $0); for (i = 1; i <= NF; i++) if ($(i+1) == "blocks") print $i }' | head -n 1
}

names=("bare axum" "rampart public" "rampart public + in-memory rate limit" "rampart authenticated + role")
echo "| target (in process) | instructions / request | heap allocations / request |"
echo "|---|---:|---:|"
for case in ${COST_CASES:-0 1 2 3}; do
  i_small=$(instructions "$case" "$small"); i_large=$(instructions "$case" "$large")
  b_small=$(blocks "$case" "$small"); b_large=$(blocks "$case" "$large")
  per_i=$(( (i_large - i_small) / (large - small) ))
  per_b=$(awk -v a="$b_small" -v b="$b_large" -v n=$((large - small)) 'BEGIN { printf "%.1f", (b - a) / n }')
  echo "| ${names[$case]} | $per_i | $per_b |"
done
