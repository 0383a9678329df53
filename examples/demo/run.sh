#!/usr/bin/env bash
# A real pass on a local store, no AWS account needed: builds a store under a temp dir whose
# files and mtimes put every artifact of ARTIFACT_REGISTRY.yaml in a different state (store.sh), then
# runs `freshness-monitor check` at a fixed moment. Exit status 2 means "something would alert".
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
store="$(mktemp -d)"
trap 'rm -rf "$store"' EXIT
bash "$here/store.sh" "$store"
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
