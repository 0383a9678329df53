#!/usr/bin/env bash
# Benchmark: `freshness-monitor coverage` on a generated 20,000-file git repository.
#
# The guard runs in every producer repo's CI, so it must stay fast on a large monorepo: the
# budget is 2 seconds for 20,000 tracked files. This script builds the release binary once
# (or uses $FRESHNESS_MONITOR_BIN), generates the repo in a temp dir (15,000 Python files, one
# in ten with S3 writes, 1,000 exempt test files, 4,000 other files), pins it with
# `coverage --update`, then times the check itself and prints the median.
#
#   benches/coverage_scan.sh                 # release build, 10 runs
#   RUNS=20 FILES=50000 benches/coverage_scan.sh
#   FRESHNESS_MONITOR_BIN=target/debug/freshness-monitor benches/coverage_scan.sh
#   KEEP=1 benches/coverage_scan.sh           # keep the generated repo for profiling
#
# Uses hyperfine when it is installed, otherwise `date` arithmetic. It reports; it does not
# fail on a slow run (a benchmark, not a timed test).
set -euo pipefail
cd "$(dirname "$0")/.."

FILES="${FILES:-20000}"
RUNS="${RUNS:-10}"
BUDGET_MS=2000

if [[ -n "${FRESHNESS_MONITOR_BIN:-}" ]]; then
  bin="$(realpath "$FRESHNESS_MONITOR_BIN")"
else
  echo "building the release binary..."
  cargo build --release --quiet
  bin="$(realpath target/release/freshness-monitor)"
fi

work="$(mktemp -d)"
if [[ -n "${KEEP:-}" ]]; then
  echo "keeping $work"
else
  trap 'rm -rf "$work"' EXIT
fi
repo="$work/repo"
pins="$work/coverage-pins.yaml"
mkdir -p "$repo"

echo "generating $FILES tracked files in $repo..."
git -C "$repo" init -q
python_files=$((FILES * 3 / 4))
test_files=$((FILES / 20))
other_files=$((FILES - python_files - test_files))
(
  cd "$repo"
  mkdir -p tests docs data
  for i in $(seq -w 0 199); do mkdir -p "pipelines/pkg$i"; done
  # awk writes thousands of files far faster than a shell loop.
  awk -v py="$python_files" -v tests="$test_files" -v other="$other_files" 'BEGIN {
    body = ""
    for (l = 0; l < 40; l++) body = body sprintf("    value_%d = compute(frame, window=%d)  # plain code\n", l, l)
    for (i = 0; i < py; i++) {
      f = sprintf("pipelines/pkg%03d/module_%05d.py", i % 200, i)
      printf "\"\"\"Module %d: builds frames; see put_object docs.\"\"\"\nimport boto3\n\ndef run(frame):\n%s", i, body > f
      if (i % 10 == 0) {
        printf "    s3.put_object(Bucket=BUCKET, Key=f\"signals/%d.json\", Body=b)\n", i > f
        printf "    s3.upload_file(path, BUCKET, \"signals/%d.parquet\")\n", i > f
      }
      close(f)
    }
    for (i = 0; i < tests; i++) {
      f = sprintf("tests/test_module_%05d.py", i)
      printf "def test_%d(s3):\n    s3.put_object(Bucket=\"b\", Key=\"k\", Body=b\"\")\n", i > f
      close(f)
    }
    for (i = 0; i < other; i++) {
      f = (i % 2 == 0) ? sprintf("docs/page_%05d.md", i) : sprintf("data/row_%05d.json", i)
      printf "Call put_object(...) to write; %d\n", i > f
      close(f)
    }
  }'
  git add -A
)
echo "tracked: $(git -C "$repo" ls-files | wc -l) files"
printf 'include: ["*.py"]\nexempt: ["tests/"]\n' > "$pins"
"$bin" coverage --repo "$repo" --pins "$pins" --update | tail -n 1
"$bin" coverage --repo "$repo" --pins "$pins"   # must pass before it is timed

cmd=("$bin" coverage --repo "$repo" --pins "$pins")
if command -v hyperfine >/dev/null 2>&1; then
  hyperfine --warmup 2 --runs "$RUNS" --export-json "$work/hyperfine.json" "${cmd[*]}"
  median_ms="$(python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000))' "$work/hyperfine.json")"
else
  "${cmd[@]}" >/dev/null  # warm the page cache
  times=()
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    "${cmd[@]}" >/dev/null
    end=$(date +%s%N)
    times+=($(((end - start) / 1000000)))
  done
  mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -n)
  median_ms=${sorted[$((RUNS / 2))]}
  echo "runs (ms): ${times[*]}"
fi

verdict="within"
((median_ms <= BUDGET_MS)) || verdict="OVER"
echo "median: ${median_ms} ms for ${FILES} tracked files (${verdict} the ${BUDGET_MS} ms budget)"
