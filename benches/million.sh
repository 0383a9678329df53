#!/usr/bin/env bash
# One pass over N generated artifacts (default 1,000,000) against the S3 stand-in behind the
# +DELAY_MS (default 20) latency proxy: a first pass (no ledger) and a steady pass (the ledger
# the first one wrote), each `run` (the Lambda's pass with its writes) timed with GNU time.
# Prints per pass: wall, peak RSS, the S3 requests by class (from the pass log line) and per
# artifact, and the ledger's bytes per artifact. BENCHMARKS.md has the method and figures.
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/million.sh
#   N=100000 benches/million.sh
#
# The stand-in makes the objects up in memory (`pass serve-generated`): no million files.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-1000000}"
DELAY_MS="${DELAY_MS:-20}"
bin="$(realpath "${FRESHNESS_MONITOR_BIN:-target/release/freshness-monitor}")"
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
STANDIN_QUIET=1 serve_behind_proxy 3000 serve-generated "bench-$N" "$N"

standin_env
for pass in first steady; do
  /usr/bin/time -f '%e %M' -o "$work/time" env AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" \
    REGISTRY_BUCKET="bench-$N" nice "$bin" run >"$work/out" 2>"$work/err" || [[ $? == 2 ]] \
    || { tail -n 20 "$work/err" >&2; exit 1; }
  read -r wall rss < <(tail -n1 "$work/time")
  python3 - "$work/err" "$N" "$pass" "$wall" "$rss" <<'PY'
import json, sys
path, n, name, wall, rss = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
line = next(json.loads(l) for l in reversed(open(path).read().splitlines())
            if l.startswith("{") and json.loads(l).get("message") == "pass complete")
r = {k: line.get("requests_" + k, 0) for k in ("head", "list", "get", "put", "delete", "total")}
print(f"{name:6} pass: {n} artifacts  wall {wall:.1f} s  pass {line['duration_seconds']:.1f} s  "
      f"peak RSS {rss / 1024:.0f} MB ({rss * 1024 / n:.0f} B/artifact)  "
      f"HEAD {r['head']} LIST {r['list']} GET {r['get']} PUT {r['put']} DELETE {r['delete']}  "
      f"{r['total'] / n:.4f} requests/artifact  ledger {line.get('ledger')} "
      f"{line.get('ledger_bytes')} B ({(line.get('ledger_bytes') or 0) / n:.0f} B/artifact)")
PY
  # What went wrong without failing the pass (a ledger rebuilt, a listing that fell back).
  grep '"level":"WARN"' "$work/err" | head -n 3 || true
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
