#!/usr/bin/env bash
# A small invocation's cost (issue 25 item 5; BENCHMARKS.md, "A small pass"): `run` (the
# Lambda's pass from a shell, a fresh process each time) over the generated registry of
# SIZES artifacts, against the fast S3 stand-in behind the +DELAY_MS proxy. For each size:
# the process's wall time and peak RSS (GNU time, median of RUNS after one warm-up, so the
# timed runs read the ledger the run before wrote: a steady pass), and one more run traced by
# the stand-in (`STANDIN_TRACE`): its sequential round trips and the chain of requests that
# makes them (`pass round-trips`). First, the zip deploy.sh would ship of that binary
# (scripts/lambda_zip.sh: `zip -9`, then `advzip -z -4` when advzip is installed; minutes;
# ZIP=0 skips it).
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/small_pass.sh
#   SIZES="48 1000" RUNS=9 DELAY_MS=20 benches/small_pass.sh
#
# Needs python3 and GNU time (/usr/bin/time). A benchmark: it reports, it never fails on a
# slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES-48 1000}"
RUNS="${RUNS:-9}"
DELAY_MS="${DELAY_MS:-20}"

for tool in python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
if [[ -n "${FRESHNESS_MONITOR_BIN:-}" ]]; then
  bin="$(realpath "$FRESHNESS_MONITOR_BIN")"
else
  # The bootstrap as deploy.sh builds it.
  nice cargo build --release --locked --no-default-features --bin freshness-monitor --quiet
  bin="$(realpath target/release/freshness-monitor)"
fi
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"

echo "date: $(date -u +%FT%TZ), load: $(cut -d' ' -f1-3 /proc/loadavg), $RUNS runs after a warm-up, +${DELAY_MS} ms"
if [[ "${ZIP:-1}" != 0 ]]; then
  scripts/lambda_zip.sh "$bin" "$work/function.zip"
  echo "binary $(stat -c %s "$bin") bytes, its zip as deploy.sh ships it $(stat -c %s "$work/function.zip") bytes ($(command -v advzip >/dev/null && echo 'zip -9, advzip -z -4' || echo 'zip -9, no advzip'))"
fi
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true RUST_LOG=warn
unset FRESHNESS_MONITOR_ENABLED MNEMON_FRESHNESS_MONITOR_ENABLED
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for n in $SIZES; do
  "$helper" generate "$n" "$work/$n" >/dev/null
  trace="$work/trace-$n"
  standin_port=$(free_port)
  STANDIN_TRACE="$trace" "$helper" serve-s3 "$standin_port" "bench-$n" "$work/$n" 2>/dev/null &
  standin_pid=$!
  pids+=("$standin_pid")
  wait_port "$standin_port"
  slow_port=$(free_port)
  "$helper" proxy "$slow_port" "$standin_port" "$DELAY_MS" &
  slow_pid=$!
  pids+=("$slow_pid")
  wait_port "$slow_port"
  : >"$work/t"
  for i in $(seq 0 "$((RUNS + 1))"); do
    : >"$trace"
    /usr/bin/time -f '%e %M' -o "$work/one" env AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" \
      REGISTRY_BUCKET="bench-$n" "$bin" run >"$work/out" 2>"$work/err" || [[ $? == 2 ]] \
      || { cat "$work/err" >&2; exit 1; }
    # Run 0 is the warm-up; the last one is traced, not timed.
    [[ $i == 0 || $i == $((RUNS + 1)) ]] || tail -n1 "$work/one" >>"$work/t"
  done
  wall=$(cut -d' ' -f1 "$work/t" | median)
  rss=$(cut -d' ' -f2 "$work/t" | median)
  walls=$(cut -d' ' -f1 "$work/t" | sort -g | tr '\n' ' ')
  printf '%6s artifacts: wall median %.3f s (%s), peak RSS median %.1f MiB\n' \
    "$n" "$wall" "$walls" "$(echo "$rss/1024" | bc -l)"
  "$helper" round-trips "$trace" "$DELAY_MS" | sed 's/^/  /'
  kill "$slow_pid" "$standin_pid" 2>/dev/null || true
done
