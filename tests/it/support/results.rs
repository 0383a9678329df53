//! What the monitor reads and writes, as the contract names it: the default keys of the
//! registry and of the three output files, the fields every result row has, and reading the
//! outputs back from moto.

#![allow(dead_code)]

use serde_json::Value;

use super::aws::get_json;

/// Where the monitor reads its registry unless `REGISTRY_KEY` says otherwise.
pub const REGISTRY_KEY: &str = "_freshness_monitor/ARTIFACT_REGISTRY.yaml";
/// The outputs under the default `RESULTS_PREFIX`.
pub const CHECK_RESULTS: &str = "_freshness_monitor/check_results.json";
pub const HEARTBEAT: &str = "_freshness_monitor/heartbeat.json";
pub const CYCLE_VERDICT: &str = "_freshness_monitor/cycle_verdict.json";
/// Where the dedup markers live unless `DEDUP_PREFIX` says otherwise.
pub const DEDUP_PREFIX: &str = "_alerts/_dedup/";

/// The fields of every row of `check_results.json` (and of `check --json`).
pub const ROW_FIELDS: [&str; 17] = [
    "artifact_id",
    "owner_repo",
    "severity",
    "cadence",
    "canonical_key",
    "state",
    "reason",
    "last_modified",
    "sla_violated_by_minutes",
    "recovery_substituted",
    "cycle_label",
    "cycle_tick",
    "due_at",
    "dedup_key",
    "alerting",
    "s3_bucket",
    "off_cycle_key",
];

/// Panics unless `row` is an object with every one of [`ROW_FIELDS`].
pub fn assert_row_fields(row: &Value) {
    let object = row
        .as_object()
        .unwrap_or_else(|| panic!("a result row is an object: {row}"));
    for field in ROW_FIELDS {
        assert!(
            object.contains_key(field),
            "row {} lacks {field}",
            row["artifact_id"]
        );
    }
}

/// The row for artifact `id` in a results document (`{"results": [...]}`).
pub fn row<'a>(results: &'a Value, id: &str) -> &'a Value {
    results["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["artifact_id"] == id)
        .unwrap_or_else(|| panic!("no row for {id} in {results:#}"))
}

/// `check_results.json` under the default prefix, None when it was not written.
pub async fn check_results(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    get_json(s3, bucket, CHECK_RESULTS).await
}

/// `heartbeat.json` under the default prefix, None when it was not written.
pub async fn heartbeat(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    get_json(s3, bucket, HEARTBEAT).await
}

/// `cycle_verdict.json` under the default prefix, None when it was not written.
pub async fn cycle_verdict(s3: &aws_sdk_s3::Client, bucket: &str) -> Option<Value> {
    get_json(s3, bucket, CYCLE_VERDICT).await
}
