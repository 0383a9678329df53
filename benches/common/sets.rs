//! The expected-sets benchmark's inputs (issue 26's second target): a registry of N sets of P
//! partitions each (`partitions: {from: 1, to: P}`), every set under a prefix of its own, and
//! the objects a pass finds there, made up in memory for the S3 stand-in (`pass serve-sets`):
//! 1,000 sets of 5,000 are 5 million objects, never files on disk.
//!
//! Which keys exist: every set's keys written at `now` (after its tick, so fresh), except that
//! one set in ten misses three partitions (the first, one in the middle, the last: its row
//! names them) and one in twenty (not among those) has two keys written 30 days ago (stale).

use chrono::{DateTime, Utc};
use freshness_monitor::classify::set_keys;
use freshness_monitor::registry::parse_registry;

/// A set whose index modulo this is [`MISSING_AT`] misses three partitions.
pub const MISSING_EVERY: usize = 10;
const MISSING_AT: usize = 3;
/// A set whose index modulo this is [`STALE_AT`] has two keys written before its tick.
const STALE_EVERY: usize = 20;
const STALE_AT: usize = 7;

/// The registry (in `bucket`) and the objects `(key, LastModified)` of `sets` sets of
/// `partitions` partitions, at `now`.
pub fn generate_sets(
    sets: usize,
    partitions: usize,
    bucket: &str,
    now: DateTime<Utc>,
) -> (String, Vec<(String, DateTime<Utc>)>) {
    let yaml = registry_yaml(sets, partitions, bucket);
    let registry = parse_registry("sets.yaml", yaml.as_bytes()).expect("generated sets");
    let old = now - chrono::Duration::days(30);
    let mut objects = Vec::with_capacity(sets * partitions);
    for (i, spec) in registry.valid_artifacts().enumerate() {
        let cycle = (spec.cycle_at(now, &registry.calendar)).expect("a set's cycle");
        let keys = set_keys(spec, &cycle).expect("a set").keys;
        let last = keys.len() - 1;
        for (n, (_, key)) in keys.into_iter().enumerate() {
            let missing = i % MISSING_EVERY == MISSING_AT && [0, last / 2, last].contains(&n);
            let stale = i % STALE_EVERY == STALE_AT && [1, last - 1].contains(&n);
            if !missing {
                objects.push((key, if stale { old } else { now }));
            }
        }
    }
    (yaml, objects)
}

/// `sets` artifacts `set0000`…, each `sets/s0000/{date}/{partition}.json` on `weekday_sf`.
fn registry_yaml(sets: usize, partitions: usize, bucket: &str) -> String {
    let width = partitions.to_string().len();
    let mut yaml = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: warning\n  \
         owner_repo: producer\n  created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         artifacts:\n"
    );
    for i in 0..sets {
        yaml.push_str(&format!(
            "  - artifact_id: set{i:04}\n    s3_key_template: \"sets/s{i:04}/{{date}}/{{partition}}.json\"\n    \
             partitions: {{from: 1, to: {partitions}, width: {width}}}\n    cadence: weekday_sf\n"
        ));
    }
    yaml
}
