#!/usr/bin/env bash
# Builds a small producer repository in DIR (a git work tree) whose S3 write sites disagree
# with its pins file in each of the three ways `freshness-monitor coverage` reports: a new
# producer file nobody pinned (under the demo registry's grandfathered path), a pin whose file
# no longer writes, and a count that drifted. docs/coverage.md runs its examples on it:
#   bash examples/coverage/producer.sh /tmp/producer
set -euo pipefail
repo="${1:?usage: producer.sh DIR}"
mkdir -p "$repo/pipelines" "$repo/rag/pipelines"
cd "$repo"
git init -q .
cat >pipelines/signals.py <<'PY'
def publish(s3, body):
    s3.put_object(Bucket="research-bucket", Key="signals/latest.parquet", Body=body)
    s3.put_object(Bucket="research-bucket", Key="signals/archive.parquet", Body=body)
PY
cat >pipelines/old.py <<'PY'
def retired():
    return None  # its S3 write was removed with the artifact
PY
cat >rag/pipelines/corpus.py <<'PY'
def upload(s3, path):
    s3.upload_file(path, "rag-corpus", "corpus/latest.jsonl")
PY
cat >pins.yaml <<'YAML'
include: ["*.py"]
files:
  pipelines/signals.py: 1
  pipelines/old.py: 1
YAML
git add pipelines rag pins.yaml
