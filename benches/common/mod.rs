//! What the benchmarks share: the generated registry (a realistic mix of cadences,
//! placeholders, recovery keys and states) and an in-memory object store.

#![allow(dead_code)]

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use freshness_monitor::pass::{PassSettings, classify_registry};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::store::{FetchedObject, ObjectMeta, ObjectStore, StoreError};

/// The bucket every generated artifact lives in.
pub const BUCKET: &str = "bench-bucket";

/// Objects held in memory: the core's cost without any I/O. Records the keys it was asked
/// about when `heads` is set (the bare-SDK baseline replays exactly the pass's probes).
pub struct MemoryStore {
    pub objects: HashMap<String, ObjectMeta, BuildHasherDefault<FxHasher>>,
    pub heads: Option<Mutex<Vec<String>>>,
}

impl MemoryStore {
    pub fn new(objects: HashMap<String, ObjectMeta>) -> Self {
        MemoryStore {
            objects: objects.into_iter().collect(),
            heads: None,
        }
    }
}

/// rustc's FxHash: the store's lookups are the benchmark's own cost, not the core's, so they
/// are made as cheap as a map allows (std's SipHash was ~4% of the measured time).
#[derive(Default)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl ObjectStore for MemoryStore {
    async fn head(&self, _bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        if let Some(heads) = &self.heads {
            heads.lock().unwrap().push(key.to_string());
        }
        Ok(self.objects.get(key).copied())
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        Err(StoreError::NotFound {
            bucket: bucket.into(),
            key: key.into(),
        })
    }

    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
        Ok(())
    }
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
    };
    let old = ObjectMeta {
        last_modified: now - chrono::Duration::days(30),
        size: Some(0),
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
        &MemoryStore::new(HashMap::new()),
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
