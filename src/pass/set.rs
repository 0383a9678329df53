//! Probing an expected set (`partitions:`): one listing of the prefix its keys share, capped
//! at the pages the set needs, then the core's [`judge_set`]. A set of 5,000 keys under one
//! prefix costs 5 LIST requests, not 5,000 HEADs (docs/classification.md#sets).

use super::probe_input::Probe;
use crate::classify::{Classification, DecisionLog, ListingOutcome, SetKeys, judge_set};
use crate::store::listing::list_prefix;
use crate::store::{ObjectStore, StoreError};

/// Lists the set's prefix and judges it.
pub(super) async fn list_and_judge<S: ObjectStore, L: DecisionLog + Default>(
    store: &S,
    probe: Probe<'_>,
    set: SetKeys,
) -> (Classification, L) {
    let Probe {
        spec, cycle, keys, ..
    } = probe;
    let listing: ListingOutcome = if probe
        .deadline
        .is_some_and(|d| tokio::time::Instant::now() >= d)
    {
        Err(StoreError::Deadline)
    } else {
        let limits = probe.listing;
        let page_size = limits.page_size.max(1);
        // The pages the set's own keys fill, and the cap's slack for what else is there.
        let needed = set.keys.len().div_ceil(usize::from(page_size)) as u32;
        let max_pages = limits
            .max_pages
            .max(needed.saturating_add(limits.max_pages));
        list_prefix(store, &spec.s3_bucket, &set.prefix, page_size, max_pages).await
    };
    let mut log = L::default();
    let verdict = judge_set(spec, cycle, keys, probe.now, (&set, &listing), &mut log);
    (verdict, log)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use crate::object::ObjectMeta;
    use crate::pass::{PassSettings, run_pass};
    use crate::registry::parse_registry;
    use crate::registry_source::LoadedRegistry;
    use crate::store::counting::CountingStore;
    use crate::store::memory::MemoryStore;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// The target: a set of 5,000 partitions under one prefix costs at most 6 S3
    /// requests a pass (here 5 LIST pages of 1,000 keys, no HEAD), and its row names exactly
    /// the missing ones.
    #[tokio::test]
    async fn a_set_of_5000_under_one_prefix_costs_its_five_listing_pages() {
        let missing = [42, 4_200, 5_000];
        let meta = ObjectMeta {
            last_modified: at("2026-06-06T10:00:00Z"),
            size: Some(2),
            etag: None,
        };
        let keys = (1..=5_000)
            .filter(|n| !missing.contains(n))
            .map(|n| (format!("data/2026-06-06/{n:05}.json"), meta));
        let store = MemoryStore::with_objects("bkt", keys);
        let registry = parse_registry(
            "r.yaml",
            b"schema_version: 1\nartifacts:\n  - artifact_id: set\n    s3_bucket: bkt\n    \
              s3_key_template: \"data/{date}/{partition}.json\"\n    partitions: {from: 1, \
              to: 5000, width: 5}\n    cadence: saturday_sf\n    sla_minutes_after_cron: 180\n    \
              severity: critical\n    owner_repo: o\n    created_at: 2025-01-01\n",
        )
        .unwrap();
        let loaded = LoadedRegistry {
            registry,
            name: "r.yaml".into(),
            etag: None,
        };
        let counting = CountingStore::new(&store);
        let now = at("2026-06-06T12:30:00Z");
        let outcome = run_pass(&counting, &loaded, &PassSettings::default(), now, None).await;
        let counts = counting.counts();
        assert_eq!(
            (counts.list, counts.head, counts.get),
            (5, 0, 0),
            "{:?}",
            outcome.rows[0]
        );
        let row = &outcome.rows[0];
        assert_eq!(row.state, crate::classify::State::Missing);
        assert!(
            row.reason()
                .contains("4997 of 5000 keys written since the tick (5 pages); 3 missing: 00042, 04200, 05000;"),
            "{}",
            row.reason()
        );
    }
}
