# What the benchmark scripts share (sourced, not run): the `pass` helper's path, a work dir
# removed on exit with the background processes started into `pids`, loopback ports, and the
# stand-in behind the latency proxy with the settings that point a pass at it.
# shellcheck shell=bash

# pass_helper: $PASS_HELPER, or the `pass` bench binary built (bench profile) and found.
pass_helper() {
  if [[ -n "${PASS_HELPER:-}" ]]; then
    echo "$PASS_HELPER"
    return
  fi
  nice cargo bench --no-run --bench pass --message-format=json 2>/dev/null | python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "pass":
        print(m["executable"])'
}

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# wait_port PORT [TENTHS]: until something listens on PORT (default 60 s).
wait_port() {
  for _ in $(seq "${2:-600}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "nothing listens on port $1" >&2; exit 1
}

# serve_behind_proxy TENTHS MODE ARGS...: the `pass` helper ($helper) serving `MODE PORT ARGS...`
# (its stderr in $work/standin.log; up to TENTHS tenths of a second to listen) behind the
# +$DELAY_MS latency proxy. Sets standin_port and slow_port (the pass's endpoint).
serve_behind_proxy() {
  local tenths="$1" mode="$2"
  shift 2
  standin_port=$(free_port)
  "${helper:?set helper from pass_helper first}" "$mode" "$standin_port" "$@" 2>"$work/standin.log" &
  pids+=($!)
  wait_port "$standin_port" "$tenths"
  slow_port=$(free_port)
  "$helper" proxy "$slow_port" "$standin_port" "${DELAY_MS:?}" &
  pids+=($!)
  wait_port "$slow_port"
}

# standin_env: test credentials and region for the stand-in (it checks no signature), the
# pass's log at info (the scripts read its "pass complete" line), alerts as the defaults say.
standin_env() {
  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_REGION=us-east-1 \
    AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true RUST_LOG=info
  unset FRESHNESS_MONITOR_ENABLED MNEMON_FRESHNESS_MONITOR_ENABLED
}
