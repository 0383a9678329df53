//! Settling a complete set: a set (`partitions:`) whose listing found every key written since
//! the tick is not listed again until its next tick, as a present artifact is not probed
//! again ([`super::settled`]).
//!
//! A key written since the tick stays so within the cycle unless it is deleted (a rewrite
//! only moves its LastModified later), so a listing of a complete set cannot change the
//! answer. The row is judged as that listing judged it (`fresh`, the same reason and counts,
//! the newest LastModified it saw) from the ledger: the entry left fresh in this cycle, its
//! `sets` counts with the listing's pages and the fingerprint of the keys it looked for. The
//! same re-verify interval applies (`reverify_minutes`, else `REVERIFY_MINUTES`), for
//! producers that delete partitions. Not settled: a set fresh by `min_complete` with keys
//! still missing (a later listing can count more, and the counts are what the history
//! reports), a set whose keys changed since (a registry edit: another fingerprint), and a
//! `partitions_from:` set (its values are read from S3 every pass).

use chrono::{DateTime, Utc};

use super::rows::{RowStringPool, row};
use super::settled::SettledRule;
use crate::cadence::Cycle;
use crate::classify::{ResolvedKeys, judge_settled_set, set_keys};
use crate::guard::guarded;
use crate::registry::ArtifactSpec;
use crate::report::ResultRow;

/// The row of a set whose cycle the ledger settled, or `None` when it needs a listing. The
/// set's keys are rendered (no request) only for a set the ledger left complete in this cycle.
pub(super) fn settled_set_row<'a>(
    rule: &SettledRule<'_>,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> Option<Result<ResultRow, String>> {
    spec.partitions()?;
    let listed = (rule.ledger.sets)
        .get(spec.id.as_str(), &cycle.label)?
        .complete_listing()?;
    let confirmed = rule.confirmed_fresh(spec, cycle, now)?;
    let judged = guarded(|| {
        let set = set_keys(spec, cycle)?;
        let verdict = judge_settled_set(spec, cycle, &set, listed, confirmed.last_modified)?;
        let keys = ResolvedKeys::resolve(spec, cycle);
        let context = shared.context(spec, cycle);
        let mut finished = row(spec, keys, context, verdict);
        finished.set_last_probed_at(Some(confirmed.last_probed_at));
        Some(finished)
    });
    judged.transpose()
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, Utc};

    use crate::classify::State;
    use crate::ledger::Ledger;
    use crate::object::ObjectMeta;
    use crate::pass::{PassSettings, classify_registry};
    use crate::registry::{Registry, parse_registry};
    use crate::report::ResultRow;
    use crate::store::ObjectStore;
    use crate::store::counting::{CountingStore, RequestCounts};
    use crate::store::memory::MemoryStore;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Two `saturday_sf` sets of 1,200 keys (2 listing pages each): `whole` with every key
    /// written at 10:00, `gaps` without keys 7 and 1200. `extra` lines go under both entries.
    fn registry(extra: &str) -> Registry {
        registry_with(1200, extra)
    }

    /// [`registry`] with `whole`'s range ending at `whole_to`.
    fn registry_with(whole_to: u32, extra: &str) -> Registry {
        let entry = |id: &str, to: u32| {
            format!(
                "  - artifact_id: {id}\n    s3_bucket: bkt\n    s3_key_template: \
                 \"{id}/{{date}}/{{partition}}.json\"\n    partitions: {{from: 1, to: {to}, \
                 width: 4}}\n    cadence: saturday_sf\n    sla_minutes_after_cron: 180\n    \
                 severity: critical\n    owner_repo: o\n    created_at: 2025-01-01\n{extra}"
            )
        };
        let yaml = format!(
            "schema_version: 1\nartifacts:\n{}{}",
            entry("whole", whole_to),
            entry("gaps", 1200)
        );
        parse_registry("r.yaml", yaml.as_bytes()).unwrap()
    }

    fn store(date: &str) -> MemoryStore {
        let meta = ObjectMeta {
            last_modified: at(&format!("{date}T10:00:00Z")),
            size: Some(2),
            etag: None,
        };
        let keys = (1..=1200).flat_map(|n| {
            let whole = format!("whole/{date}/{n:04}.json");
            let gaps = (n != 7 && n != 1200).then(|| format!("gaps/{date}/{n:04}.json"));
            [Some(whole), gaps].into_iter().flatten().map(|k| (k, meta))
        });
        MemoryStore::with_objects("bkt", keys)
    }

    /// One pass at `now` with the ledger, which it then advances: the rows and the requests.
    async fn pass(
        store: &MemoryStore,
        registry: &Registry,
        ledger: &mut Ledger,
        now: &str,
        reverify_after: Option<Duration>,
    ) -> (Vec<ResultRow>, RequestCounts) {
        let counting = CountingStore::new(store);
        let settings = PassSettings {
            reverify_after,
            ..PassSettings::default()
        };
        let rows = classify_registry(&counting, registry, &settings, at(now), Some(ledger)).await;
        ledger.advance(&rows, &[], at(now), |_| true);
        (rows, counting.counts())
    }

    fn row<'r>(rows: &'r [ResultRow], id: &str) -> &'r ResultRow {
        rows.iter().find(|r| &*r.artifact_id == id).unwrap()
    }

    #[tokio::test]
    async fn a_complete_set_is_not_listed_again_until_its_next_tick() {
        let store = store("2026-06-06");
        let registry = registry("");
        let mut ledger = Ledger::new();
        let (first, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T12:30:00Z", None).await;
        assert_eq!((counts.list, counts.head), (4, 0), "2 pages for each set");
        assert_eq!(row(&first, "whole").state, State::Fresh);
        assert_eq!(row(&first, "gaps").state, State::Missing);

        let (second, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T12:45:00Z", None).await;
        assert_eq!(
            (counts.list, counts.head, counts.get),
            (2, 0, 0),
            "only the incomplete set is listed again"
        );
        let (settled, listed) = (row(&second, "whole"), row(&first, "whole"));
        assert_eq!(settled.state, State::Fresh);
        assert_eq!(
            settled.reason(),
            listed.reason(),
            "the reason the listing gave"
        );
        assert!(
            settled
                .reason()
                .contains("1200 of 1200 keys written since the tick (2 pages)")
        );
        assert_eq!(settled.last_modified, listed.last_modified);
        assert_eq!(settled.set_summary(), listed.set_summary());
        assert_eq!(
            serde_json::to_value(settled).unwrap()["set"],
            serde_json::to_value(listed).unwrap()["set"],
        );
        assert_eq!(settled.last_probed_at(), Some(at("2026-06-06T12:30:00Z")));
        assert_eq!(row(&second, "gaps").state, State::Missing);

        // The next Saturday's tick: a new cycle, listed again.
        let store = self::store("2026-06-13");
        let (third, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-13T12:30:00Z", None).await;
        assert_eq!(counts.list, 4, "a new cycle lists both sets");
        assert_eq!(row(&third, "whole").state, State::Fresh);
    }

    #[tokio::test]
    async fn a_set_missing_keys_is_listed_every_pass_until_it_completes() {
        let store = store("2026-06-06");
        let registry = registry("");
        let mut ledger = Ledger::new();
        pass(&store, &registry, &mut ledger, "2026-06-06T12:30:00Z", None).await;
        let late = at("2026-06-06T12:40:00Z");
        store.insert("bkt", "gaps/2026-06-06/0007.json", "{}", late);
        store.insert("bkt", "gaps/2026-06-06/1200.json", "{}", late);
        let (rows, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T12:45:00Z", None).await;
        assert_eq!(counts.list, 2, "the set that was missing keys is listed");
        assert_eq!(row(&rows, "gaps").state, State::Fresh, "and completes");
        let (rows, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T13:00:00Z", None).await;
        assert_eq!(counts.list, 0, "now both are settled");
        assert_eq!(row(&rows, "gaps").state, State::Fresh);
    }

    #[tokio::test]
    async fn a_set_fresh_by_min_complete_with_keys_missing_is_listed_again() {
        let store = store("2026-06-06");
        let registry = registry("    min_complete: 0.99\n");
        let mut ledger = Ledger::new();
        let (rows, _) = pass(&store, &registry, &mut ledger, "2026-06-06T12:30:00Z", None).await;
        assert_eq!(
            row(&rows, "gaps").state,
            State::Fresh,
            "1198 of 1200 is enough"
        );
        let (_, counts) = pass(&store, &registry, &mut ledger, "2026-06-06T12:45:00Z", None).await;
        assert_eq!(counts.list, 2, "gaps is listed again, whole is settled");
    }

    #[tokio::test]
    async fn a_re_verify_finds_a_deleted_partition_and_an_edit_unsettles_the_set() {
        let store = store("2026-06-06");
        let registry = registry("    reverify_minutes: 60\n");
        let mut ledger = Ledger::new();
        pass(&store, &registry, &mut ledger, "2026-06-06T12:30:00Z", None).await;
        store
            .delete("bkt", "whole/2026-06-06/0500.json")
            .await
            .unwrap();
        let (rows, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T13:00:00Z", None).await;
        assert_eq!(counts.list, 2, "within the hour, whole is settled");
        assert_eq!(row(&rows, "whole").state, State::Fresh);
        let (rows, counts) =
            pass(&store, &registry, &mut ledger, "2026-06-06T13:30:00Z", None).await;
        assert_eq!(
            counts.list, 4,
            "an hour after its listing, whole is listed again"
        );
        assert_eq!(
            row(&rows, "whole").state,
            State::Missing,
            "the listing wins"
        );
        assert!(row(&rows, "whole").reason().contains("1 missing: 0500"));

        // A registry edit that adds a partition: the keys' fingerprint no longer matches.
        let store = self::store("2026-06-06");
        let mut ledger = Ledger::new();
        pass(&store, &registry, &mut ledger, "2026-06-06T12:30:00Z", None).await;
        let edited = registry_with(1201, "");
        let (rows, counts) = pass(&store, &edited, &mut ledger, "2026-06-06T12:45:00Z", None).await;
        assert_eq!(counts.list, 4, "the edited set is listed");
        assert_eq!(
            row(&rows, "whole").state,
            State::Missing,
            "1201 is not there"
        );
    }
}
