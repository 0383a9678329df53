#!/usr/bin/env bash
# `depends_on` at scale: a registry whose artifacts form one long chain (each depends on the
# one before), one whose artifacts form one ring (the first depends on the last), and the
# plain baseline (the same artifacts, no `depends_on`: the cost of parsing and probing N
# artifacts, which the graph's own cost is measured against), each of N artifacts (default: 10000 100000 1000000; `max`: as many as fit in the registry's limit,
# MAX_REGISTRY_BYTES = 256 MiB), timed through `validate` and `check --store`
# (an empty local store: every artifact missing and alerting, so every one is folded under
# the chain's head) with GNU time (wall, user + system CPU, peak RSS) and the bytes each wrote. BENCHMARKS.md has
# the method and figures.
#
#   FRESHNESS_MONITOR_BIN=target/release/freshness-monitor benches/depends_on.sh
#   SIZES="5000 50000" SHAPES="plain ring" benches/depends_on.sh
#   FRESHNESS_MONITOR_BIN="/tmp/before/freshness-monitor target/release/freshness-monitor" \
#     SIZES=1000000 benches/depends_on.sh          # before and after, command by command
set -euo pipefail
cd "$(dirname "$0")/.."
SIZES="${SIZES:-10000 100000 1000000}"
SHAPES="${SHAPES:-plain chain ring}"
# One binary, or several separated by spaces (before and after): each command is then run by
# each binary in turn on the same registry, so a ratio is measured under the same load.
read -r -a bins <<<"${FRESHNESS_MONITOR_BIN:-target/release/freshness-monitor}"
for i in "${!bins[@]}"; do bins[i]="$(realpath "${bins[i]}")"; done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/store/bench-bucket"

# registry SHAPE N FILE: N artifacts, plain or in a chain or a ring, written in one go.
registry() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
shape, n, path = sys.argv[1], sys.argv[2], sys.argv[3]
head = ("schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  cadence: weekday_sf\n"
        "  severity: warning\n  owner_repo: bench/repo\n  created_at: 2026-01-05\n"
        "  sla_minutes_after_cron: 60\nartifacts:\n")
line = lambda i, dep: (f"  - {{artifact_id: a{i:07}, s3_key_template: \"a/{{date}}/a{i:07}.json\""
                       + (f", depends_on: [a{dep:07}]" if dep is not None else "") + "}\n")
if n == "max":  # every line is as long as the first one with a dependency
    n = (256 * 1024 * 1024 - len(head)) // len(line(1, 0))
n = int(n)
with open(path, "w") as f:
    f.write(head)
    for i in range(n):
        dep = i - 1 if i > 0 else (n - 1 if shape == "ring" else None)
        f.write(line(i, None if shape == "plain" else dep))
PY
}

# timed LABEL CMD...: one run, its wall time, user and system CPU (what "in seconds" rests on:
# other builds on the machine stretch the wall, not the CPU), peak RSS, exit code and output
# bytes.
timed() {
  local label="$1" code=0
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err" || code=$?
  read -r wall user sys rss < <(tail -n1 "$work/time")
  printf '%-26s wall %6.2f s  cpu %6.2f + %5.2f s  peak RSS %5d MB  exit %d  stdout %9d B  stderr %7d B\n' \
    "$label" "$wall" "$user" "$sys" "$((rss / 1024))" "$code" "$(wc -c <"$work/out")" \
    "$(wc -c <"$work/err")"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; $(date -u +%FT%TZ)"
for i in "${!bins[@]}"; do echo "binary $((i + 1)): ${bins[i]}"; done

# each LABEL ARGS...: the command run by every binary in turn (`[k]` names binary k when
# there are several).
each() {
  local label="$1" i
  shift
  for i in "${!bins[@]}"; do
    if ((${#bins[@]} > 1)); then
      timed "$label [$((i + 1))]" "${bins[i]}" "$@"
    else
      timed "$label" "${bins[i]}" "$@"
    fi
  done
}
for n in $SIZES; do
  for shape in $SHAPES; do
    registry "$shape" "$n" "$work/registry.yaml"
    echo "$shape of $(($(wc -l <"$work/registry.yaml") - 9)) artifacts: $(wc -c <"$work/registry.yaml") B of registry"
    each "  validate" validate "$work/registry.yaml"
    each "  check --store --json" check --registry "$work/registry.yaml" \
      --store "$work/store" --now 2026-06-03T12:00:00Z --json
    each "  check --store" check --registry "$work/registry.yaml" \
      --store "$work/store" --now 2026-06-03T12:00:00Z
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
