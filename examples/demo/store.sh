#!/usr/bin/env bash
# Builds the demo's local store in DIR (created if needed): the files, with their mtimes, that
# put every artifact of ARTIFACT_REGISTRY.yaml in a different state at 2026-07-03T15:00:00Z.
# `run.sh` judges it; the examples in README.md and docs/ use it as /tmp/demo-store:
#   bash examples/demo/store.sh /tmp/demo-store
set -euo pipefail
store="${1:?usage: store.sh DIR}"
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
