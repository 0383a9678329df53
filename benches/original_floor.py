#!/usr/bin/env python3
"""A floor under the original Python monitor's wall time (issue 25 item 5; BENCHMARKS.md,
"A small pass").

Why it exists: the original monitor is not on this machine, yet issue 25 states its cost as a
fresh Python process (~0.3 s of start: the interpreter, boto3's import and its client) plus its
requests made one after another. This script is that cost and nothing more: a fresh process
that imports boto3, builds an S3 client and makes the original's requests sequentially
against the same S3 stand-in, behind the same latency proxy, as the Rust pass:

1. the registry's GET (`REGISTRY_KEY` in the bucket);
2. one HEAD per key the generated registry's pass probes, in its order: the canonical keys,
   then a recovery key after each missing or stale canonical key that has one (the `pass`
   helper's `generate` writes them to `probes.txt`: the HEADs of a pass without a ledger,
   which is what the original makes every pass);
3. its three outputs' PUTs: `check_results.json` (a row per probe: key and what the HEAD
   saw), `cycle_verdict.json` and `heartbeat.json`, under OUT_PREFIX (not the Rust pass's
   results prefix, so the two never read each other's files).

It parses no YAML, judges nothing, renders no reason and sends no alert, so its wall time is
a LOWER BOUND of the original's, and a ratio of it to the Rust pass's wall time is a lower
bound of the ratio against the original. Run it under `/usr/bin/time` for the process's wall.

    original_floor.py ENDPOINT BUCKET PROBES_TXT [OUT_PREFIX]

Prints one line: the requests it made, all of them one after another.
"""

import json
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGISTRY_KEY = "_freshness_monitor/ARTIFACT_REGISTRY.yaml"


def head(s3, bucket, key):
    """What a HEAD saw: the LastModified (RFC 3339), or None for a missing key."""
    try:
        answer = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return None
        raise
    return answer["LastModified"].isoformat()


def put_json(s3, bucket, key, value):
    body = json.dumps(value, indent=2).encode()
    s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")


def main():
    endpoint, bucket, probes_txt = sys.argv[1:4]
    prefix = sys.argv[4] if len(sys.argv) > 4 else "_original_floor/"
    with open(probes_txt) as f:
        keys = [line.strip() for line in f if line.strip()]
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    requests = 0
    s3.get_object(Bucket=bucket, Key=REGISTRY_KEY)["Body"].read()
    requests += 1
    rows = []
    for key in keys:
        rows.append({"canonical_key": key, "last_modified": head(s3, bucket, key)})
        requests += 1
    run_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    present = sum(1 for r in rows if r["last_modified"])
    put_json(s3, bucket, prefix + "check_results.json", {"run_at": run_at, "results": rows})
    put_json(s3, bucket, prefix + "cycle_verdict.json", {"run_at": run_at, "verdicts": []})
    heartbeat = {"last_run": run_at, "n_entries_checked": len(rows), "present": present}
    put_json(s3, bucket, prefix + "heartbeat.json", heartbeat)
    requests += 3
    print(
        f"original's floor: {requests} requests one after another "
        f"(1 registry GET, {len(keys)} HEADs, 3 PUTs); no judging: a LOWER BOUND of the "
        "original's wall time"
    )


if __name__ == "__main__":
    main()
