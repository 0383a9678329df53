#!/usr/bin/env bash
# Remakes link/symbol-order.txt, the functions a small invocation runs, which build.rs hands
# to lld so they sit together at the start of `.text` (BENCHMARKS.md, "A small pass's memory,
# fifth round"). Builds the bootstrap as deploy.sh does (release, --no-default-features) with
# a linker map, runs it under callgrind the ways a small invocation runs it (`run` at 48
# artifacts against the stand-in, `run` at 1,000 behind the +20 ms proxy, and as the Lambda
# through benches/runtime_api.py: a scheduled pass, an object event, a second pass), and
# keeps every function that executed (benches/code_order.py). Then rebuild: the names in the
# file are the build's mangled symbols, so remake it after a toolchain, Cargo.lock or
# profile change (a name the build no longer has is skipped, the layout only less good).
#
#   benches/code_order.sh            # ~20-40 min: one release build, three traced runs
#
# Needs valgrind, python3 and the `pass` bench helper (PASS_HELPER, or built here).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null || { echo "missing: valgrind (apt-get install valgrind)" >&2; exit 1; }
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"

# The map at a fixed path: run again on the same tree, cargo has nothing to rebuild.
map="$PWD/target/release/freshness-monitor.map"
nice cargo rustc --release --locked --no-default-features --bin freshness-monitor --quiet \
  -- -C link-arg=-Wl,-Map="$map"
bin="$work/freshness-monitor"
cp target/release/freshness-monitor "$bin"
# trace NAME COMMAND...: COMMAND under callgrind (the binary itself: callgrind does not follow
# an exec, so no `env` in between), its trace in $work/NAME.cg.
trace() { valgrind --tool=callgrind --dump-instr=yes --compress-pos=no --compress-strings=no \
  --callgrind-out-file="$work/$1.cg" "${@:2}"; }

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
  AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true RUST_LOG=warn
unset FRESHNESS_MONITOR_ENABLED MNEMON_FRESHNESS_MONITOR_ENABLED
for n in 48 1000; do
  "$helper" generate "$n" "$work/$n" >/dev/null
  DELAY_MS=$([[ $n == 48 ]] && echo 0 || echo 20)
  serve_behind_proxy 600 serve-s3 "bench-$n" "$work/$n"
  # A first run writes the ledger, so the traced one is a steady pass as the benchmark's.
  export AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" REGISTRY_BUCKET="bench-$n"
  for cmd in "$bin" "trace run-$n $bin"; do
    $cmd run >/dev/null 2>"$work/err" || [[ $? == 2 ]] || { cat "$work/err" >&2; exit 1; }
  done
done

# The Lambda: a scheduled pass, an object event for one of the registry's keys, another pass.
now=$(date -u +%FT%TZ)
key=$(head -n1 "$work/48/objects.txt")
scheduled="{\"source\":\"aws.events\",\"detail-type\":\"Scheduled Event\",\"time\":\"$now\"}"
created="{\"version\":\"0\",\"source\":\"aws.s3\",\"detail-type\":\"Object Created\",\"time\":\"$now\",\
\"detail\":{\"bucket\":{\"name\":\"bench-48\"},\"object\":{\"key\":\"$key\",\"size\":10}}}"
api_port=$(free_port)
python3 benches/runtime_api.py "$api_port" "$scheduled" "$created" "$scheduled" 2>"$work/api.log" &
api_pid=$!
pids+=("$api_pid")
wait_port "$api_port"
DELAY_MS=0
serve_behind_proxy 600 serve-s3 bench-48 "$work/48"
AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" REGISTRY_BUCKET=bench-48 \
  AWS_LAMBDA_RUNTIME_API="127.0.0.1:$api_port" AWS_LAMBDA_FUNCTION_NAME=freshness-monitor \
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION=1 \
  AWS_LAMBDA_LOG_STREAM_NAME=bench AWS_LAMBDA_LOG_GROUP_NAME=bench \
  trace lambda "$bin" >/dev/null 2>"$work/err" &
lambda_pid=$!
# runtime_api.py exits once the bootstrap asks for a fourth invocation; callgrind writes its
# trace when the bootstrap is then stopped.
wait "$api_pid" || { cat "$work/err" >&2; exit 1; }
kill -TERM "$lambda_pid"
wait "$lambda_pid" || true
[[ $(grep -c /response "$work/api.log") == 3 ]] || { cat "$work/api.log" "$work/err" >&2; exit 1; }

python3 benches/code_order.py "$map" "$bin" link/symbol-order.txt \
  "$work/run-48.cg" "$work/lambda.cg" "$work/run-1000.cg"
echo "link/symbol-order.txt: $(wc -l <link/symbol-order.txt) functions; rebuild to use it"
