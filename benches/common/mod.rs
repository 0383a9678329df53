//! What the benchmarks share: the generated registry (a realistic mix of cadences,
//! placeholders, recovery keys and states) and the in-memory object store holding its objects
//! (`freshness_monitor::store::memory`).

#![allow(dead_code)]

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use freshness_monitor::pass::{PassSettings, classify_registry};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::store::ObjectMeta;
use freshness_monitor::store::memory::MemoryStore;

/// The bucket every generated artifact lives in.
pub const BUCKET: &str = "bench-bucket";

/// The generated objects in the in-memory store (empty bodies), in [`BUCKET`]. It answers
/// LIST as a store that cannot list, so a pass HEADs every key: what the core's figures
/// measure. Its lookups are the benchmark's own cost, not the core's.
pub fn memory_store(objects: HashMap<String, ObjectMeta>) -> MemoryStore {
    MemoryStore::with_objects(BUCKET, objects).without_listing()
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A registry of `n` artifacts and the objects that make about 70% fresh, 10% stale,
/// 15% missing, the rest in grace or on a gated cadence. One artifact in six is a
/// `continuous` feed with `interval_minutes` (a long interval keeps the keys stable while a
/// big store is being seeded).
pub fn generate(
    n: usize,
    now: DateTime<Utc>,
    interval_minutes: u32,
) -> (String, HashMap<String, ObjectMeta>) {
    let mut yaml = String::with_capacity(n * 220);
    yaml.push_str(
        "schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  severity: warning\n  \
         owner_repo: producer\n  created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         cadences:\n  ny_open: {cron: \"30 9 * * 1-5\", timezone: America/New_York, calendar: nyse}\n\
         artifacts:\n",
    );
    let mut objects = HashMap::new();
    let fresh = ObjectMeta {
        last_modified: now,
        size: Some(0),
        etag: None,
    };
    let old = ObjectMeta {
        last_modified: now - chrono::Duration::days(30),
        size: Some(0),
        etag: None,
    };
    let continuous_extra = format!("    interval_minutes: {interval_minutes}\n");
    for i in 0..n {
        let (cadence, template, extra) = match i % 6 {
            0 => ("saturday_sf", "weekly/{date}/a{i}.json", ""),
            1 => ("weekday_sf", "daily/{date:%Y/%m/%d}/a{i}.json", ""),
            2 => ("eod_sf", "eod/{trading_day}/a{i}.json", ""),
            3 => (
                "continuous",
                "feed/{cycle_label}/a{i}.json",
                continuous_extra.as_str(),
            ),
            4 => ("ny_open", "open/{date}/a{i}.json", ""),
            _ => (
                "weekday_sf",
                "pointers/a{i}.json",
                "    severity: critical\n",
            ),
        };
        let template = template.replace("{i}", &i.to_string());
        yaml.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: \"{template}\"\n    cadence: {cadence}\n{extra}"
        ));
        if i % 20 == 7 {
            yaml.push_str("    created_at: 2099-01-01\n");
        }
        // A fifth have a recovery key; the missing ones among them cost a second HEAD.
        if i % 5 == 1 {
            yaml.push_str(&format!(
                "    recovery_key_template: \"recovery/a{i}/{{date}}.json\"\n"
            ));
        }
    }
    // Which keys exist is decided after rendering, by a check pass against an empty store.
    let registry = parse_registry("bench.yaml", yaml.as_bytes()).expect("generated registry");
    let rt = runtime();
    let rows = rt.block_on(classify_registry(
        &memory_store(HashMap::new()),
        &registry,
        &PassSettings::default(),
        now,
        None,
    ));
    for (i, row) in rows.iter().enumerate() {
        if let Some(key) = &row.canonical_key {
            match i % 20 {
                0..=13 => {
                    objects.insert(key.to_string(), fresh);
                }
                14 | 15 => {
                    objects.insert(key.to_string(), old);
                }
                _ => {}
            }
        }
    }
    (yaml, objects)
}
