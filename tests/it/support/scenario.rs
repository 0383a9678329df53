//! A registry and the objects it monitors, set up for a pass: [`Scenario`] in a moto bucket
//! with every state present (for the binary as a Lambda, or `run`), [`LocalScenario`] in a
//! local store dir that a test fills itself (for `check --store`, where a file's mtime is the
//! object's LastModified).

#![allow(dead_code)]

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::aws::{create_bucket, put};
use super::events::at;
use super::moto;
use super::results::REGISTRY_KEY;
use super::{run_in, stderr, stdout};

/// A realistic registry in a moto bucket with every state present at `now`:
/// fresh (templated `{date}` key), fresh through its recovery key (`{cycle_label}` keys),
/// stale (a pointer key older than its tick), missing, grace period (created today), and
/// probe_failed (an entry with a typo'd field).
pub struct Scenario {
    pub bucket: String,
    pub now: DateTime<Utc>,
    pub fresh_key: String,
    pub recovery_key: String,
    pub canonical_parity_key: String,
    pub fresh_label: String,
    pub frequent_label: String,
}

impl Scenario {
    pub async fn build(s3: &aws_sdk_s3::Client, extra_artifacts: &str) -> Scenario {
        let bucket = moto::unique_bucket("lambda");
        create_bucket(s3, &bucket).await;

        // Times are chosen from the clock around the uploads so every state is certain:
        // objects written before `t0` are older than any tick after `t0`.
        let before_uploads = Utc::now().timestamp() - 2;
        let t0 = before_uploads + 120; // upper bound for the uploads below, checked after them
        // `now`: 90s past an even minute at least two minutes after t0, so the 2-minute
        // cadence ticks after every upload and is 1 minute past its SLA.
        let even_minute = (t0 + 120).div_euclid(120) * 120 + 120;
        let now = even_minute + 90;
        // The fresh cadence: the shortest interval whose current tick is before the uploads.
        let fresh_interval = (60i64..)
            .find(|i| (now / (60 * i)) * 60 * i <= before_uploads)
            .unwrap();
        let fresh_tick = (now / (60 * fresh_interval)) * 60 * fresh_interval;
        let fresh_date = at(fresh_tick).format("%Y-%m-%d").to_string();
        let fresh_label = format!(
            "continuous_{fresh_interval}m_{}",
            now / (60 * fresh_interval)
        );
        let frequent_label = format!("continuous_2m_{}", now / 120);

        let fresh_key = format!("signals/{fresh_date}/fresh_signal.json");
        let canonical_parity_key = format!("backtest/{fresh_label}/pit_parity.json");
        let recovery_key = format!("backtest/{fresh_label}/recovery/pit_parity.json");
        put(s3, &bucket, &fresh_key, "{}").await;
        put(s3, &bucket, &recovery_key, "{}").await;
        put(s3, &bucket, "manifests/latest.json", "{}").await;
        assert!(
            Utc::now().timestamp() < t0,
            "uploads took over two minutes; the scenario's times no longer hold"
        );

        let today = at(now).format("%Y-%m-%d");
        let registry = format!(
            r#"schema_version: 1
defaults:
  s3_bucket: {bucket}
  severity: warning
  grace_period_cycles: 2
artifacts:
  - artifact_id: fresh_signal
    s3_key_template: "signals/{{date}}/fresh_signal.json"
    cadence: continuous
    interval_minutes: {fresh_interval}
    sla_minutes_after_cron: 0
    severity: critical
    owner_repo: signals
    created_at: 2025-01-01
  - artifact_id: pit_parity
    s3_key_template: "backtest/{{cycle_label}}/pit_parity.json"
    recovery_key_template: "backtest/{{cycle_label}}/recovery/pit_parity.json"
    cadence: continuous
    interval_minutes: {fresh_interval}
    sla_minutes_after_cron: 0
    severity: critical
    owner_repo: backtester
    created_at: 2025-01-01
  - artifact_id: stale_manifest
    s3_key_template: manifests/latest.json
    cadence: continuous
    interval_minutes: 2
    sla_minutes_after_cron: 0
    severity: critical
    owner_repo: manifests
    created_at: 2025-01-01
  - artifact_id: missing_report
    s3_key_template: "reports/{{date}}/report.json"
    cadence: continuous
    interval_minutes: 2
    sla_minutes_after_cron: 0
    severity: critical
    owner_repo: reports
    created_at: 2025-01-01
  - artifact_id: new_artifact
    s3_key_template: "new/{{date}}/artifact.json"
    cadence: continuous
    interval_minutes: 1440
    sla_minutes_after_cron: 0
    owner_repo: newcomer
    created_at: {today}
  - artifact_id: typo_artifact
    s3_key_template: typo.json
    cadence: continuous
    interval_minutes: 60
    sla_minute_after_cron: 30
    owner_repo: typos
    created_at: 2025-01-01
{extra_artifacts}"#
        );
        put(s3, &bucket, REGISTRY_KEY, &registry).await;
        Scenario {
            bucket,
            now: at(now),
            fresh_key,
            recovery_key,
            canonical_parity_key,
            fresh_label,
            frequent_label,
        }
    }
}

/// A registry (`registry.yaml`) and a local store (`store/BUCKET/...`) in a temp dir, judged by
/// `check --store`.
pub struct LocalScenario {
    pub dir: tempfile::TempDir,
    bucket: String,
}

impl LocalScenario {
    /// `registry` is the whole registry text; `bucket` is the one bucket of the store.
    pub fn new(registry: &str, bucket: &str) -> LocalScenario {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("registry.yaml"), registry).unwrap();
        fs::create_dir_all(dir.path().join("store").join(bucket)).unwrap();
        LocalScenario {
            dir,
            bucket: bucket.to_string(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> PathBuf {
        self.dir.path().join("store")
    }

    /// Writes an object with the given LastModified.
    pub fn put(&self, key: &str, last_modified: &str) -> &Self {
        let path = self.store().join(&self.bucket).join(key);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"{}").unwrap();
        set_mtime(&path, last_modified);
        self
    }

    /// `check` on this registry and store at `now`, with `extra` arguments.
    pub fn run(&self, now: &str, extra: &[&str]) -> Output {
        self.run_with(&["check"], now, extra)
    }

    /// `leading` (a subcommand and its operands), then this registry, store and `now`, then
    /// `extra`.
    pub fn run_with(&self, leading: &[&str], now: &str, extra: &[&str]) -> Output {
        let store = self.store();
        let mut args = leading.to_vec();
        args.extend([
            "--registry",
            "registry.yaml",
            "--store",
            store.to_str().unwrap(),
            "--now",
            now,
        ]);
        args.extend_from_slice(extra);
        run_in(self.dir.path(), &args)
    }

    /// Rows by artifact id, from `check --json`.
    pub fn rows(&self, now: &str) -> HashMap<String, Value> {
        let out = self.run(now, &["--json"]);
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(2),
            "exit {code:?}: {}",
            stderr(&out)
        );
        let json: Value = serde_json::from_str(&stdout(&out)).expect("check --json prints JSON");
        json["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r["artifact_id"].as_str().unwrap().to_string(), r.clone()))
            .collect()
    }

    pub fn row(&self, now: &str, id: &str) -> Value {
        self.rows(now).remove(id).expect("row for artifact")
    }
}

/// Sets a file's mtime, which the local store reports as LastModified.
pub fn set_mtime(path: &Path, at: &str) {
    let t: DateTime<Utc> = at.parse().unwrap();
    let file = fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::from(t)).unwrap();
}
