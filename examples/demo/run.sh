#!/usr/bin/env bash
# A real pass on a local store, no AWS account needed: builds a store under a temp dir whose
# files and mtimes put every artifact of ARTIFACT_REGISTRY.yaml in a different state, then
# runs `freshness-monitor check` at a fixed moment. Exit status 2 means "something would alert".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
store="$(mktemp -d)"
trap 'rm -rf "$store"' EXIT
put() { # put KEY MTIME
  mkdir -p "$(dirname "$store/research-bucket/$1")"
  echo '{}' >"$store/research-bucket/$1"
  touch -d "$2" "$store/research-bucket/$1"
}
put backtest/2026-06-27/pit_parity.json                "2026-06-27T10:12:00Z"
put pointers/latest.json                               "2026-07-02T13:40:00Z"
put backtest/2026-06-27/recovery/parity_report.json    "2026-06-27T11:30:00Z"
put ticks/2026-07-03/continuous_60m_495303.json        "2026-07-03T15:00:00Z"
put rebalance/20260701/weights.parquet                 "2026-07-01T18:20:00Z"
cd "$here/../.."
bin="${FRESHNESS_MONITOR_BIN:-}"
if [ -z "$bin" ]; then
  # Built where cargo puts its target (CARGO_TARGET_DIR or .cargo/config may move it), with
  # cargo's own progress lines: the first build compiles the AWS SDK and takes minutes.
  echo "demo: building freshness-monitor (first build: about 10 minutes on 2 cores; later: seconds)" >&2
  cargo build --bin freshness-monitor
  target_dir="$(cargo metadata --format-version 1 --no-deps |
    sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
  bin="$target_dir/debug/freshness-monitor"
fi
[ -x "$bin" ] || { echo "demo: no binary at $bin" >&2; exit 1; }
echo "demo: $bin check at 2026-07-03T15:00:00Z (exit status 2 means something would alert)" >&2
"$bin" check --registry "$here/ARTIFACT_REGISTRY.yaml" --store "$store" \
  --now 2026-07-03T15:00:00Z "$@"
