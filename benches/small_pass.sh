#!/usr/bin/env bash
# A small invocation's cost (issue 25 item 5; BENCHMARKS.md, "A small pass"): `run` (the
# Lambda's pass from a shell, a fresh process each time) over the generated registry of
# SIZES artifacts, against the fast S3 stand-in behind the +DELAY_MS proxy. For each size:
# the process's wall time and peak RSS (GNU time, median of RUNS after one warm-up, so the
# timed runs read the ledger the run before wrote: a steady pass), and one more run traced by
# the stand-in (`STANDIN_TRACE`): its sequential round trips and the chain of requests that
# makes them (`pass round-trips`). Beside each timed run, against the same stand-in behind the
# same proxy, a run of benches/original_floor.py: a fresh Python process making the original
# Python monitor's requests one after another and nothing else, a LOWER BOUND of the
# original's wall time (the original is not on this machine); the ratio of the two medians is
# a lower bound of the ratio against the original (issue 25's target: >= 15x). First, the zip
# deploy.sh would ship of that binary (scripts/lambda_zip.sh: `zip -9`, then `advzip -z -4`
# when advzip is installed; minutes; ZIP=0 skips it).
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/small_pass.sh
#   SIZES="48 1000" RUNS=9 DELAY_MS=20 benches/small_pass.sh
#
# Needs python3 with boto3 (scripts/test.sh installs it with moto) and GNU time (/usr/bin/time). A benchmark: it reports, it never fails on a
# slow figure.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES="${SIZES-48 1000}"
RUNS="${RUNS:-9}"
DELAY_MS="${DELAY_MS:-20}"

for tool in python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 1; }
done
python3 -c 'import boto3' || { echo "missing: python3's boto3 (pip install boto3)" >&2; exit 1; }
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
# timed OUT CMD...: runs CMD, appending "WALL_S PEAK_RSS_KIB" to OUT (the wall from the shell's
# clock to the millisecond: /usr/bin/time's %e has only hundredths); CMD's status is its own.
timed() {
  local out="$1" started status=0
  shift
  started=$EPOCHREALTIME
  /usr/bin/time -f '%M' -o "$work/rss" "$@" || status=$?
  echo "$(echo "$EPOCHREALTIME - $started" | bc -l) $(tail -n1 "$work/rss")" >>"$out"
  return "$status"
}
# summary FILE LABEL: prints LABEL's wall median (every wall) and peak RSS median from FILE's
# lines to fd 3 (the script's stdout), and the wall median alone to stdout, for the caller.
summary() {
  local wall rss walls
  wall=$(cut -d' ' -f1 "$1" | median)
  rss=$(cut -d' ' -f2 "$1" | median)
  walls=$(cut -d' ' -f1 "$1" | sort -g | xargs printf '%.3f ')
  printf '%6s: wall median %.3f s (%s), peak RSS median %.1f MiB\n' \
    "$2" "$wall" "$walls" "$(echo "$rss/1024" | bc -l)" >&3
  echo "$wall"
}
exec 3>&1

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
  : >"$work/py"
  for i in $(seq 0 "$((RUNS + 1))"); do
    : >"$trace"
    # Run 0 is the warm-up; the last one is traced, not timed.
    out=/dev/null
    [[ $i == 0 || $i == $((RUNS + 1)) ]] || out="$work/t"
    timed "$out" env AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" REGISTRY_BUCKET="bench-$n" \
      "$bin" run >"$work/out" 2>"$work/err" || [[ $? == 2 ]] || { cat "$work/err" >&2; exit 1; }
    # The original's floor right after each Rust run (its warm-up too), at the same load.
    if [[ $i -le $RUNS ]]; then
      out="$work/py"
      [[ $i != 0 ]] || out=/dev/null
      timed "$out" python3 benches/original_floor.py "http://127.0.0.1:$slow_port" "bench-$n" \
        "$work/$n/probes.txt" >"$work/py-out"
    fi
  done
  wall=$(summary "$work/t" "$n artifacts")
  "$helper" round-trips "$trace" "$DELAY_MS" | sed 's/^/  /'
  echo "  $(cat "$work/py-out")"
  py_wall=$(summary "$work/py" "  its")
  printf '  the Rust pass is %.1fx faster than the original'"'"'s floor (median over median): a LOWER BOUND of the ratio against the original\n' \
    "$(echo "$py_wall/$wall" | bc -l)"
  kill "$slow_pid" "$standin_pid" 2>/dev/null || true
done
