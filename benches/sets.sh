#!/usr/bin/env bash
# Issue 26's second target: SETS expected sets (default 1,000) of PARTITIONS partitions each
# (default 5,000), every set under a prefix of its own, against the S3 stand-in behind the
# +DELAY_MS (default 20) latency proxy: a first pass (no ledger) and a steady pass (the ledger
# the first one wrote), each `run` (the Lambda's pass with its writes) timed with GNU time.
# Prints per pass: wall, CPU (user + system), peak RSS, the rows' states and the S3 requests
# by class (from the pass log line), and the bytes of check_results.json. BENCHMARKS.md has the method and
# figures ("Sets and content checks").
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/sets.sh
#   SETS=100 PARTITIONS=500 benches/sets.sh
#
# The stand-in makes the objects up in memory (`pass serve-sets`): no 5 million files.
set -euo pipefail
cd "$(dirname "$0")/.."
SETS="${SETS:-1000}"
PARTITIONS="${PARTITIONS:-5000}"
DELAY_MS="${DELAY_MS:-20}"
bin="$(realpath "${FRESHNESS_MONITOR_BIN:-target/release/freshness-monitor}")"
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"
bucket="bench-sets"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
STANDIN_QUIET=1 serve_behind_proxy 6000 serve-sets "$bucket" "$SETS" "$PARTITIONS"
cat "$work/standin.log"

standin_env
for pass in first steady; do
  /usr/bin/time -f '%e %M %U %S' -o "$work/time" env AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" \
    REGISTRY_BUCKET="$bucket" nice "$bin" run >"$work/out" 2>"$work/err" || [[ $? == 2 ]] \
    || { tail -n 20 "$work/err" >&2; exit 1; }
  read -r wall rss user sys < <(tail -n1 "$work/time")
  # The stand-in checks no signature: the results straight from it, not through the proxy.
  results_bytes=$(curl -sf "http://127.0.0.1:$standin_port/$bucket/_freshness_monitor/check_results.json" | wc -c)
  python3 - "$work/err" "$SETS" "$pass" "$wall" "$rss" "$results_bytes" "$user" "$sys" <<'PY'
import json, sys
path, n, name, wall, rss, results = sys.argv[1], int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
cpu = float(sys.argv[7]) + float(sys.argv[8])
line = next(json.loads(l) for l in reversed(open(path).read().splitlines())
            if l.startswith("{") and json.loads(l).get("message") == "pass complete")
r = {k: line.get("requests_" + k, 0) for k in ("head", "list", "get", "put", "delete", "total")}
states = " ".join(f"{k} {line.get(k, 0)}" for k in ("fresh", "missing", "stale", "probe_failed"))
print(f"{name:6} pass: {n} sets  wall {wall:.1f} s  pass {line['duration_seconds']:.1f} s  CPU {cpu:.1f} s  "
      f"peak RSS {rss / 1024:.0f} MB  rows: {states}  "
      f"HEAD {r['head']} LIST {r['list']} GET {r['get']} PUT {r['put']} DELETE {r['delete']}  "
      f"({r['list'] / n:.2f} LIST per set)  check_results.json {results} B "
      f"({results / n:.0f} B/set)  ledger {line.get('ledger')} {line.get('ledger_bytes')} B")
PY
  grep '"level":"WARN"' "$work/err" | head -n 3 || true
done
# One row as a user reads it: a set with missing partitions.
curl -sf "http://127.0.0.1:$standin_port/$bucket/_freshness_monitor/check_results.json" \
  | python3 -c 'import json,sys
rows = json.load(sys.stdin)
rows = rows["results"]
row = next(r for r in rows if r.get("state") == "missing")
print("a missing set:", row["artifact_id"], "-", row["reason"])' || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
