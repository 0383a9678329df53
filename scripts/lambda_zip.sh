#!/usr/bin/env bash
# The Lambda zip of a bootstrap binary: deploy.sh's package step, and what benches/small_pass.sh
# measures, so the figure is the size deploy.sh ships (docs/deploy.md, BENCHMARKS.md).
#
#   scripts/lambda_zip.sh BINARY ZIP
#
# One entry, `bootstrap`, mode 0755, a fixed timestamp and no extra attributes: the bytes
# depend only on the binary (and the tools' versions), so an unchanged binary keeps its
# CodeSha256 and a second deploy leaves the function's code alone.
#
# Compression: `zip -9`, then, when advancecomp's `advzip` is installed, the same zip
# recompressed in place by `advzip -z -4` (zopfli's deflate: still a standard zip, ~3% smaller
# than `zip -9`; slow: minutes for the release binary). Without advzip the `zip -9` file is
# the zip. FRESHNESS_MONITOR_ZIP=fast packs at zip's default level and nothing more (a
# development deploy; the tests' deploys of the debug binary).
set -euo pipefail

[[ $# == 2 ]] || { echo "usage: $0 BINARY ZIP" >&2; exit 2; }
binary="$1"
zip_path="$(realpath -m "$2")"
[[ -f "$binary" ]] || { echo "$0: no binary at $binary" >&2; exit 1; }
mode="${FRESHNESS_MONITOR_ZIP:-small}"
[[ "$mode" == small || "$mode" == fast ]] ||
  { echo "$0: FRESHNESS_MONITOR_ZIP must be small or fast, got '$mode'" >&2; exit 2; }

pkg="$(mktemp -d)"
trap 'rm -rf "$pkg"' EXIT
cp "$binary" "$pkg/bootstrap"
chmod 0755 "$pkg/bootstrap"
TZ=UTC touch -t 198001010000 "$pkg/bootstrap"
rm -f "$zip_path"
if [[ "$mode" == fast ]]; then
  (cd "$pkg" && TZ=UTC zip -q -X "$zip_path" bootstrap)
  exit 0
fi
(cd "$pkg" && TZ=UTC zip -q -X -9 "$zip_path" bootstrap)
if command -v advzip >/dev/null 2>&1; then
  advzip -z -4 -q "$zip_path"
fi
