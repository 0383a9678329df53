#!/usr/bin/env bash
# The function's own history run (`run --historical`, the Lambda's `{"mode": "historical"}`)
# over N generated artifacts (default 100,000) once the outcome log covers the window, against
# the S3 stand-in behind the +DELAY_MS (default 20) latency proxy, timed with GNU time: the
# stand-in (`pass serve-history`) serves the registry and the compacted log `history N` scans,
# in another process, so the peak RSS is the function's alone. Prints the wall, the peak RSS,
# the requests and the phases from the scan's log line, and the bytes of history.json and of
# the page's digest as the stand-in received them (the stand-in counts history.json's and the
# compacted log's parts and drops their bodies). By default (HISTORY_PASSES=on) the stand-in
# also serves a day of passes' outcome objects since that compaction and the ledger the last
# pass left (HISTORY_PASSES=off: the compacted log covers the window, no ledger); the
# continuous feeds tick every HISTORY_FEED_MINUTES (default 60). The
# function's temp dir is its own: the most of it in use (its open files' sizes, sampled every
# 2 s from /proc) is printed. BENCHMARKS.md has the method and figures.
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor N=1000000 benches/history.sh
set -euo pipefail
cd "$(dirname "$0")/.."
N="${N:-100000}"
DELAY_MS="${DELAY_MS:-20}"
bin="$(realpath "${FRESHNESS_MONITOR_BIN:-target/release/freshness-monitor}")"
# shellcheck source=benches/lib.sh
source benches/lib.sh
helper="$(pass_helper)"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
serve_behind_proxy 36000 serve-history "$N"
head -n 3 "$work/standin.log"

standin_env
fn_tmp="$work/fn-tmp"
mkdir -p "$fn_tmp"
TMPDIR="$fn_tmp" /usr/bin/time -f '%e %M %U %S' -o "$work/time" env AWS_ENDPOINT_URL="http://127.0.0.1:$slow_port" \
  REGISTRY_BUCKET=bench-bucket nice "$bin" run --historical >"$work/out" 2>"$work/err" &
timed=$!
# The most bytes of files in the function's temp dir it holds open (unnamed ones included).
tmp_peak=0
while kill -0 "$timed" 2>/dev/null; do
  for p in $(pgrep -P "$timed" 2>/dev/null) $(pgrep -P "$(pgrep -P "$timed" 2>/dev/null | head -n1)" 2>/dev/null); do
    # Once per file (inode): a staged object is open twice, by its temp file and its reader.
    used=$(find "/proc/$p/fd" -lname "$fn_tmp/*" -printf '%p\n' 2>/dev/null \
      | xargs -r stat -L -c '%i %s' 2>/dev/null | sort -u | awk '{s += $2} END {print s + 0}')
    (( used > tmp_peak )) && tmp_peak=$used
  done
  sleep 2
done
wait "$timed" || { tail -n 20 "$work/err" >&2; exit 1; }
echo "temp dir: at most $((tmp_peak / 1000000)) MB open at once (sampled every 2 s)"
read -r wall rss user sys < <(tail -n1 "$work/time")
python3 - "$work/err" "$N" "$wall" "$rss" "$user" "$sys" <<'PY'
import json, sys
path, n, wall, rss, user, sys_ = sys.argv[1], int(sys.argv[2]), *map(float, sys.argv[3:])
line = next(json.loads(l) for l in reversed(open(path).read().splitlines())
            if l.startswith("{") and json.loads(l).get("message") == "history scan complete")
print(f"history run: {n} artifacts  wall {wall:.1f} s  CPU {user + sys_:.1f} s  "
      f"peak RSS {rss / 1024:.0f} MB  (after the scan {line.get('rss_after_scan_mb')} MB resident, "
      f"peak {line.get('peak_rss_scan_mb')} MB; end peak {line.get('peak_rss_mb')} MB)")
print(f"  phases: read log {line['read_log_seconds']:.1f} s, cycles {line['cycles_seconds']:.1f} s, "
      f"write log {line['write_log_seconds']:.1f} s, history.json + digest during the scan "
      f"{line.get('write_files_seconds', 0):.1f} s and after it {line['write_outputs_seconds']:.1f} s")
print(f"  requests: {line['n_head_requests']} HEAD, {line['n_list_requests']} LIST, "
      f"{line['n_log_requests']} log; {line['n_cycles_from_log']} cycles from the log, "
      f"{line['n_cycles_probed']} probed; warnings {line['warnings']}; truncated {line['truncated']}")
PY
grep -E '^PUT .*(history|digest)' "$work/standin.log" || true
url="http://127.0.0.1:$standin_port/bench-bucket/_freshness_monitor"
# history.json and the compacted log are counted by the stand-in, their bodies dropped (~8 GB
# and ~1 GB at a million): the PUT lines above give their bytes and parts.
echo "digest unzipped: $(curl -s "$url/history_digest.ndjson.gz" | gunzip | wc -c) bytes"
grep '"level":"WARN"' "$work/err" | head -n 3 || true
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
