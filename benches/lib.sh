# What benches/run.sh and benches/million.sh share (sourced, not run): the `pass` helper's
# path, a work dir removed on exit with the background processes started into `pids`, and
# loopback ports.
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
