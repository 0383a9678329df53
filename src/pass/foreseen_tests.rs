//! The recovery-key HEADs the ledger foresees go out beside the canonical key's probe instead
//! of after its answer (docs/lambda.md#round-trips). What a pass judges must not change with
//! that: these tests compare its rows with a pass that foresees nothing, over a store where
//! one canonical key has landed since the last pass, one artifact is there through its
//! recovery key and the rest are missing, with the canonical keys HEADed (4 artifacts) or
//! answered by a listing (16), and count what foreseeing costs.

use chrono::{DateTime, Utc};

use super::*;
use crate::classify::State;
use crate::ledger::Ledger;
use crate::registry::parse_registry;
use crate::store::counting::CountingStore;
use crate::store::memory::MemoryStore;

const BUCKET: &str = "data-bucket";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// `n` weekly artifacts, each with a recovery key.
fn registry(n: usize) -> Registry {
    let mut text = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {BUCKET}\n  severity: critical\n  \
         grace_period_cycles: 0\nartifacts:\n"
    );
    for i in 1..=n {
        text.push_str(&format!(
            "  - artifact_id: a{i:02}\n    s3_key_template: \"data/{{date}}/a{i:02}.json\"\n    \
             recovery_key_template: \"late/{{date}}/a{i:02}.json\"\n    cadence: saturday_sf\n    \
             sla_minutes_after_cron: 180\n    owner_repo: pipelines\n    created_at: 2025-01-01\n"
        ));
    }
    parse_registry("registry.yaml", text.as_bytes()).expect("a valid registry")
}

/// The rows of a pass at `now` over `store` with `ledger`, and the requests it sent.
async fn pass(
    store: &MemoryStore,
    registry: &Registry,
    now: DateTime<Utc>,
    ledger: Option<&Ledger>,
) -> (Vec<ResultRow>, crate::report::RequestCounts) {
    let counting = CountingStore::new(store);
    let settings = PassSettings::default();
    let rows = classify_registry(&counting, registry, &settings, now, ledger).await;
    (rows, counting.counts())
}

#[tokio::test]
async fn a_foreseen_recovery_head_changes_no_row_and_costs_one_head_where_the_canonical_key_landed()
{
    for n in [4, 16] {
        let registry = registry(n);
        let store = MemoryStore::new();
        store.create_bucket(BUCKET);
        // The last pass saw every artifact missing.
        let before = at("2026-06-06T12:30:00Z");
        let (rows, _) = pass(&store, &registry, before, None).await;
        assert!(rows.iter().all(|r| r.state == State::Missing), "{rows:?}");
        let mut ledger = Ledger::new();
        ledger.advance(&rows, &[], before, |_| true);
        // Since then a01's canonical key landed and a02's recovery key.
        let landed = at("2026-06-06T12:40:00Z");
        store.insert(BUCKET, "data/2026-06-06/a01.json", "{}", landed);
        store.insert(BUCKET, "late/2026-06-06/a02.json", "{}", landed);

        let now = at("2026-06-06T12:45:00Z");
        let (foreseeing, requests) = pass(&store, &registry, now, Some(&ledger)).await;
        let (after_answers, requests_after) = pass(&store, &registry, now, None).await;
        assert_eq!(requests.list, u64::from(n == 16), "one listing at 16");
        assert_eq!(foreseeing, after_answers, "{n} artifacts");
        let states: Vec<(State, bool)> = (foreseeing.iter().take(3))
            .map(|r| (r.state, r.recovery_substituted))
            .collect();
        assert_eq!(
            states,
            [
                (State::Fresh, false),
                (State::Fresh, true),
                (State::Missing, false)
            ]
        );
        // a01's recovery key was HEADed for nothing; every other foreseen HEAD was needed.
        assert_eq!(requests.head, requests_after.head + 1, "{n} artifacts");
    }
}
