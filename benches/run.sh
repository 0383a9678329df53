#!/usr/bin/env bash
# The end-to-end benchmark (BENCHMARKS.md has the method and the figures).
#
# Builds the release binary once, generates registries of 48, 1,000, 10,000 and 100,000
# artifacts (benches/common/mod.rs: a mix of six cadences, placeholders, recovery keys;
# ~70% fresh, 10% stale, 15% missing, 5% in grace), and reports for each size:
#   local  `check --store` on a local directory store: wall time, peak RSS, probes/s
#   moto   `run` (the Lambda's pass with its writes) against moto on loopback: wall time of
#          the process, the pass's own duration, peak RSS, probes/s; and the bare-SDK loop
#          (the same HeadObject requests through aws-sdk-s3 at the same concurrency)
#   +20ms  `run` through a loopback proxy that delays every request by 20 ms, in front of moto
#          (moto's ~200 requests/s is then the limit) and in front of a fast in-memory S3
#          stand-in (benches/common/s3_standin.rs), where latency over concurrency is the limit,
#          as against S3 in region; with the bare-SDK loop through the same proxy
# plus the packaged zip's size, exec to the first Runtime API request, and the pure core's CPU
# per artifact (`cargo bench --bench core`). Every figure is the median of $RUNS timed runs
# after one warm-up. It reports; it never fails on a slow figure (a benchmark, not a test).
#
#   benches/run.sh                                    # everything: over an hour, moto (~200 HEAD/s) dominates
#   SIZES="48 1000" RUNS=3 benches/run.sh             # a quick look
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/run.sh   # skip the build
#   MOTO_SIZES="48 1000 10000" LATENCY_SIZES=1000 BASELINE_SIZES=1000 benches/run.sh
#   SIZES=100000 MOTO_SIZES= STANDIN_SIZES=100000 CORE=0 benches/run.sh   # 100k at +20 ms only
#   PROBE_CONCURRENCY=64 benches/run.sh               # another concurrency (default 64, the monitor's)
#   SIZES= MOTO_SIZES= STANDIN_SIZES= CORE=0 HISTORY_SIZES=100000 benches/run.sh
#                                                     # the history scan (`run --historical`) only
#
# Needs moto_server (scripts/test.sh installs it), zip, python3 and GNU time (/usr/bin/time).
set -euo pipefail
cd "$(dirname "$0")/.."

# A size list set empty (MOTO_SIZES=) means none; only an unset one takes its default.
SIZES="${SIZES-48 1000 10000 100000}"
MOTO_SIZES="${MOTO_SIZES-$SIZES}"
BASELINE_SIZES="${BASELINE_SIZES-48 1000 10000}"
LATENCY_SIZES="${LATENCY_SIZES-1000}"
STANDIN_SIZES="${STANDIN_SIZES-1000 10000 100000}"
RUNS="${RUNS:-5}"
# The 100k passes against moto take minutes each: fewer runs there unless told otherwise.
BIG_RUNS="${BIG_RUNS:-3}"
CONCURRENCY="${PROBE_CONCURRENCY:-64}"
DELAY_MS="${DELAY_MS:-20}"
CORE="${CORE:-1}"
# The history scan (`run --historical`) against the stand-in, direct and +DELAY_MS: off unless
# sizes are given. HISTORY_RUNS timed runs, no warm-up (one 100k scan at +20 ms is ~13 min).
HISTORY_SIZES="${HISTORY_SIZES:-}"
HISTORY_RUNS="${HISTORY_RUNS:-1}"

for tool in moto_server zip python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing: $tool (run scripts/test.sh first)" >&2; exit 1; }
done

echo "== machine"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"
echo "memory: $(free -h | awk '/^Mem:/ {print $2 " total, " $7 " available"}')"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "date: $(date -u +%FT%TZ), probe concurrency $CONCURRENCY, $RUNS runs after a warm-up"

if [[ -n "${FRESHNESS_MONITOR_BIN:-}" ]]; then
  bin="$(realpath "$FRESHNESS_MONITOR_BIN")"
else
  echo "building the release binary (fat LTO: minutes on 2 cores)..."
  nice cargo build --release --quiet
  bin="$(realpath target/release/freshness-monitor)"
fi
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"

# per_second COUNT SECONDS: "nan" below GNU time's 10 ms resolution instead of dividing by 0.
per_second() { awk -v n="$1" -v s="$2" 'BEGIN { if (s > 0) print n / s; else print "nan" }'; }
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# times CMD...: one warm-up, then $runs timed runs; leaves "wall_s rss_kb" lines in $work/t.
times() {
  : >"$work/t"
  for i in $(seq 0 "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/one" "$@" >"$work/out" 2>"$work/err" || [[ $? == 2 ]] \
      || { cat "$work/err" >&2; exit 1; }
    [[ $i == 0 ]] || tail -n1 "$work/one" >>"$work/t"
    [[ -z "${on_out:-}" || $i == 0 ]] || "$on_out"
  done
}
record_duration() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_seconds"])' "$work/out" >>"$work/d"; }

echo
echo "== package"
cp "$bin" "$work/bootstrap"
(cd "$work" && zip -q -9 bootstrap.zip bootstrap)
echo "binary $(stat -c %s "$bin") bytes, bootstrap.zip $(stat -c %s "$work/bootstrap.zip") bytes"
echo "exec to first Runtime API request (ms, median of 20): $("$helper" bootstrap "$bin" 20)"

echo
echo "== local store: check --store (wall s, peak RSS MB, probes/s)"
for n in $SIZES; do
  "$helper" generate "$n" "$work/$n" >/dev/null
  probes=$(wc -l <"$work/$n/probes.txt")
  runs=$RUNS
  times nice "$bin" check --registry "$work/$n/registry.yaml" --store "$work/$n/store" --json
  wall=$(cut -d' ' -f1 "$work/t" | median); rss=$(cut -d' ' -f2 "$work/t" | median)
  printf '%8s artifacts %7s probes  wall %7.3f s  rss %6.1f MB  %8.0f probes/s  %6.2f us/artifact\n' \
    "$n" "$probes" "$wall" "$(echo "$rss/1024" | bc -l)" "$(per_second "$probes" "$wall")" \
    "$(echo "$wall*1000000/$n" | bc -l)"
done

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true RUST_LOG=warn
unset FRESHNESS_MONITOR_ENABLED MNEMON_FRESHNESS_MONITOR_ENABLED
if [[ -n "$MOTO_SIZES" ]]; then
  echo
  echo "== moto on loopback: run (process wall s, pass s, peak RSS MB, probes/s), bare SDK loop"
  moto_port=$(free_port)
  moto_server -H 127.0.0.1 -p "$moto_port" >"$work/moto.log" 2>&1 &
  pids+=($!)
  wait_port "$moto_port"
  proxy_port=$(free_port)
  "$helper" proxy "$proxy_port" "$moto_port" "$DELAY_MS" &
  pids+=($!)
  wait_port "$proxy_port"
fi

pass_against() { # endpoint size label
  local endpoint=$1 n=$2 label=$3
  local probes; probes=$(wc -l <"$work/$n/probes.txt")
  runs=$RUNS; [[ $n -lt 100000 ]] || runs=$BIG_RUNS
  : >"$work/d"
  on_out=record_duration times env AWS_ENDPOINT_URL="$endpoint" REGISTRY_BUCKET="bench-$n" \
    PROBE_CONCURRENCY="$CONCURRENCY" nice "$bin" run
  local wall rss pass
  wall=$(cut -d' ' -f1 "$work/t" | median); rss=$(cut -d' ' -f2 "$work/t" | median)
  pass=$(median <"$work/d")
  printf '%8s artifacts %7s probes %-6s wall %7.3f s  pass %7.3f s  rss %6.1f MB  %8.0f probes/s  %7.2f us/artifact\n' \
    "$n" "$probes" "$label" "$wall" "$pass" "$(echo "$rss/1024" | bc -l)" \
    "$(per_second "$probes" "$pass")" "$(echo "$wall*1000000/$n" | bc -l)"
}

for n in $MOTO_SIZES; do
  [[ -d "$work/$n" ]] || "$helper" generate "$n" "$work/$n" >/dev/null
  "$helper" seed "http://127.0.0.1:$moto_port" "bench-$n" "$work/$n" >&2
  pass_against "http://127.0.0.1:$moto_port" "$n" moto
  if [[ " $BASELINE_SIZES " == *" $n "* ]]; then
    runs=$RUNS; [[ $n -lt 100000 ]] || runs=$BIG_RUNS
    base=$("$helper" baseline "http://127.0.0.1:$moto_port" "bench-$n" "$work/$n/probes.txt" "$CONCURRENCY" "$runs")
    printf '%8s artifacts bare aws-sdk-s3 HeadObject loop: %7.3f s\n' "$n" "$base"
  fi
  if [[ " $LATENCY_SIZES " == *" $n "* ]]; then
    pass_against "http://127.0.0.1:$proxy_port" "$n" "+${DELAY_MS}ms"
    if [[ " $BASELINE_SIZES " == *" $n "* ]]; then
      base=$("$helper" baseline "http://127.0.0.1:$proxy_port" "bench-$n" "$work/$n/probes.txt" "$CONCURRENCY" "$runs")
      printf '%8s artifacts bare aws-sdk-s3 HeadObject loop +%sms: %7.3f s\n' "$n" "$DELAY_MS" "$base"
    fi
  fi
done

# Serves the generated registry of $1 artifacts from the S3 stand-in, directly and behind the
# +DELAY_MS proxy: sets standin_port, standin_pid, slow_port and slow_pid.
start_standin() {
  local n="$1"
  [[ -d "$work/$n" ]] || "$helper" generate "$n" "$work/$n" >/dev/null
  standin_port=$(free_port)
  "$helper" serve-s3 "$standin_port" "bench-$n" "$work/$n" 2>"$work/standin.log" &
  standin_pid=$!
  pids+=("$standin_pid")
  wait_port "$standin_port"
  slow_port=$(free_port)
  "$helper" proxy "$slow_port" "$standin_port" "$DELAY_MS" &
  slow_pid=$!
  pids+=("$slow_pid")
  wait_port "$slow_port"
}

echo
echo "== fast S3 stand-in on loopback: run, direct and +${DELAY_MS}ms (process wall s, pass s, peak RSS MB, probes/s), bare SDK loop +${DELAY_MS}ms"
for n in $STANDIN_SIZES; do
  start_standin "$n"
  pass_against "http://127.0.0.1:$standin_port" "$n" stand-in
  pass_against "http://127.0.0.1:$slow_port" "$n" "+${DELAY_MS}ms"
  runs=$RUNS; [[ $n -lt 100000 ]] || runs=$BIG_RUNS
  base=$("$helper" baseline "http://127.0.0.1:$slow_port" "bench-$n" "$work/$n/probes.txt" "$CONCURRENCY" "$runs")
  printf '%8s artifacts bare aws-sdk-s3 HeadObject loop +%sms: %7.3f s\n' "$n" "$DELAY_MS" "$base"
  kill "$slow_pid" "$standin_pid" 2>/dev/null || true
done

# history_against ENDPOINT SIZE LABEL: `run --historical` (the Lambda's history scan, writing
# history.json to the stand-in) timed $HISTORY_RUNS times without a warm-up.
history_against() {
  local endpoint=$1 n=$2 label=$3
  : >"$work/t"; : >"$work/d"
  for _ in $(seq "$HISTORY_RUNS"); do
    /usr/bin/time -f '%e %M' -o "$work/one" env AWS_ENDPOINT_URL="$endpoint" REGISTRY_BUCKET="bench-$n" \
      PROBE_CONCURRENCY="$CONCURRENCY" nice "$bin" run --historical >"$work/out" 2>"$work/err" \
      || { cat "$work/err" >&2; exit 1; }
    tail -n1 "$work/one" >>"$work/t"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["duration_seconds"], r["n_head_requests"], r["n_cycles_probed"], r["truncated"])' "$work/out" >>"$work/d"
  done
  local wall rss scan heads cycles bytes
  wall=$(cut -d' ' -f1 "$work/t" | median); rss=$(cut -d' ' -f2 "$work/t" | median)
  scan=$(cut -d' ' -f1 "$work/d" | median)
  read -r _ heads cycles _ < <(tail -n1 "$work/d")
  bytes=$(grep -o 'PUT bench-[0-9]*/_freshness_monitor/history.json [0-9]*' "$work/standin.log" | tail -n1 | awk '{print $3}')
  printf '%8s artifacts %-6s wall %8.2f s  scan %8.2f s  rss %6.1f MB  %8s HEADs  %8s cycles probed  history.json %s bytes  %8.0f HEADs/s\n' \
    "$n" "$label" "$wall" "$scan" "$(echo "$rss/1024" | bc -l)" "$heads" "$cycles" "${bytes:-?}" \
    "$(per_second "$heads" "$scan")"
}

if [[ -n "$HISTORY_SIZES" ]]; then
  echo
  echo "== history scan against the fast S3 stand-in: run --historical, direct and +${DELAY_MS}ms"
  for n in $HISTORY_SIZES; do
    start_standin "$n"
    history_against "http://127.0.0.1:$standin_port" "$n" stand-in
    history_against "http://127.0.0.1:$slow_port" "$n" "+${DELAY_MS}ms"
    kill "$slow_pid" "$standin_pid" 2>/dev/null || true
  done
fi

if [[ "$CORE" == 1 ]]; then
  echo
  echo "== pure core (cargo bench --bench core: parse, classification + report, µs per artifact)"
  read -ra core_sizes <<<"$SIZES"
  nice cargo bench --quiet --bench core -- "${core_sizes[@]}" 2>/dev/null
fi
