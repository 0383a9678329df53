//! Skipping what is settled: an artifact whose current cycle the ledger already confirmed
//! fresh is not probed again until its next tick.
//!
//! A fresh verdict cannot change within a cycle unless the object is deleted or rewritten
//! with an older LastModified (S3's LastModified never moves backwards on a rewrite), so a
//! HEAD of a settled key cannot change the answer. The row is judged exactly as the probe
//! would have judged it, from the LastModified the ledger recorded. Settled means all of:
//! the ledger's entry is about this cycle, its last pass left it fresh through the canonical
//! key, the bucket and rendered key are the ones that probe saw (the fingerprint: a registry
//! edit unsettles it), and the re-verify interval, when set, has not passed since that probe.
//! An artifact a re-verifying probe finds gone is judged from the probe (missing at once):
//! the ledger is never trusted over an observation.

use chrono::{DateTime, Duration, Utc};

use crate::cadence::Cycle;
use crate::classify::{Classification, NoLog, ProbeOutcome, Probes, ResolvedKeys, State, judge};
use crate::ledger::{Ledger, LedgerTime, probe_fingerprint};
use crate::registry::ArtifactSpec;
use crate::store::ObjectMeta;

/// What the pass knows from earlier passes, and how long a confirmation holds.
#[derive(Debug, Clone, Copy)]
pub struct SettledRule<'a> {
    pub ledger: &'a Ledger,
    /// Probe a settled artifact again once this long has passed since its last probe (for
    /// producers that delete and rewrite); `None`: not before the next tick.
    pub reverify_after: Option<Duration>,
}

/// A settled artifact's verdict, and when it was last probed.
pub struct SettledVerdict {
    pub verdict: Classification,
    pub last_probed_at: DateTime<Utc>,
}

impl SettledRule<'_> {
    /// The verdict of `spec` in `cycle` without a probe, when its cycle is settled.
    pub fn verdict(
        &self,
        spec: &ArtifactSpec,
        cycle: &Cycle,
        keys: &ResolvedKeys,
        now: DateTime<Utc>,
    ) -> Option<SettledVerdict> {
        let entry = self.ledger.in_cycle(spec.id.as_str(), &cycle.label)?;
        let last_modified = entry
            .last_modified
            .map(LedgerTime::to_utc)
            .filter(|lm| *lm >= cycle.tick)?;
        let last_probed_at = entry.last_probe_at?.to_utc();
        let same_key = entry.probe_fingerprint()
            == Some(probe_fingerprint(&spec.s3_bucket, &keys.canonical_key));
        let due = self
            .reverify_after
            .is_some_and(|interval| now - last_probed_at >= interval);
        if entry.state != State::Fresh || !same_key || due || last_probed_at > now {
            return None;
        }
        let seen: ProbeOutcome = Ok(Some(ObjectMeta {
            last_modified,
            size: None,
        }));
        let probes = Probes {
            canonical: &seen,
            recovery: None,
        };
        let verdict = judge(spec, cycle, keys, now, probes, &mut NoLog);
        Some(SettledVerdict {
            verdict,
            last_probed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use super::*;
    use crate::pass::{PassSettings, classify_registry_with_ledger};
    use crate::registry::{Registry, parse_registry};
    use crate::report::ResultRow;
    use crate::store::counting::CountingStore;
    use crate::store::{FetchedObject, ObjectStore, StoreError};

    /// Keys with a LastModified; every other key is absent.
    #[derive(Default)]
    struct MapStore(Mutex<HashMap<String, DateTime<Utc>>>);

    impl MapStore {
        fn set(&self, key: &str, at: &str) {
            self.0.lock().unwrap().insert(key.to_string(), t(at));
        }
        fn remove(&self, key: &str) {
            self.0.lock().unwrap().remove(key);
        }
    }

    impl ObjectStore for MapStore {
        async fn head(&self, _: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
            Ok(self.0.lock().unwrap().get(key).map(|lm| ObjectMeta {
                last_modified: *lm,
                size: None,
            }))
        }
        async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
            Err(StoreError::NotFound {
                bucket: bucket.to_string(),
                key: key.to_string(),
            })
        }
        async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
            Ok(())
        }
    }

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Daily at 06:00 UTC, due 07:00: `a` and `b` dated, `p` a pointer.
    fn registry(a_template: &str) -> Registry {
        let yaml = format!(
            "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: warning\n  \
             owner_repo: team\n  created_at: 2025-01-01\n  grace_period_cycles: 0\n  \
             sla_minutes_after_cron: 60\n  cadence: daily\n\
             cadences:\n  daily: {{cron: \"0 6 * * *\", timezone: UTC}}\nartifacts:\n\
             - artifact_id: a\n  s3_key_template: \"{a_template}\"\n\
             - artifact_id: b\n  s3_key_template: \"b/{{date}}.csv\"\n\
             - artifact_id: p\n  s3_key_template: \"p/latest.json\"\n"
        );
        parse_registry("test.yaml", yaml.as_bytes()).unwrap()
    }

    /// One pass at `now` with the ledger, which it then advances: the rows and the HEADs made.
    async fn pass(
        store: &MapStore,
        registry: &Registry,
        ledger: &mut Ledger,
        now: &str,
        reverify_after: Option<Duration>,
    ) -> (Vec<ResultRow>, u64) {
        let counting = CountingStore::new(store);
        let settings = PassSettings {
            reverify_after,
            ..PassSettings::default()
        };
        let rows =
            classify_registry_with_ledger(&counting, registry, &settings, t(now), Some(ledger))
                .await;
        ledger.advance(&rows, &[], t(now), |_| true);
        (rows, counting.counts().head)
    }

    fn state(rows: &[ResultRow], id: &str) -> State {
        rows.iter().find(|r| &*r.artifact_id == id).unwrap().state
    }

    #[tokio::test]
    async fn a_cycle_confirmed_fresh_is_not_probed_again_until_the_next_tick() {
        let store = MapStore::default();
        store.set("a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        store.set("p/latest.json", "2026-06-01T06:40:00Z");
        let registry = registry("a/{date}.csv");
        let mut ledger = Ledger::new();
        let (rows, heads) =
            pass(&store, &registry, &mut ledger, "2026-06-01T08:00:00Z", None).await;
        assert_eq!(heads, 3, "a first pass probes everything: {rows:#?}");
        assert_eq!(state(&rows, "b"), State::Missing);
        let probed = rows.clone();

        let (rows, heads) =
            pass(&store, &registry, &mut ledger, "2026-06-01T08:15:00Z", None).await;
        assert_eq!(heads, 1, "only the missing one is probed");
        let a = rows.iter().find(|r| &*r.artifact_id == "a").unwrap();
        let before = probed.iter().find(|r| &*r.artifact_id == "a").unwrap();
        assert_eq!(a.state, State::Fresh);
        assert_eq!(a.last_modified, before.last_modified);
        assert_eq!(a.reason, before.reason, "the same verdict a probe gives");
        assert_eq!(a.last_probed_at, Some(t("2026-06-01T08:00:00Z")));
        assert_eq!(state(&rows, "p"), State::Fresh, "a pointer is settled too");

        // The next tick: every artifact is probed again.
        let (_, heads) = pass(&store, &registry, &mut ledger, "2026-06-02T08:00:00Z", None).await;
        assert_eq!(heads, 3);
    }

    #[tokio::test]
    async fn a_registry_edit_that_moves_the_key_unsettles_the_cycle() {
        let store = MapStore::default();
        store.set("a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        let mut ledger = Ledger::new();
        pass(
            &store,
            &registry("a/{date}.csv"),
            &mut ledger,
            "2026-06-01T08:00:00Z",
            None,
        )
        .await;
        let moved = registry("moved/{date}.csv");
        let (rows, heads) = pass(&store, &moved, &mut ledger, "2026-06-01T08:15:00Z", None).await;
        assert_eq!(heads, 3, "the moved key is probed");
        assert_eq!(state(&rows, "a"), State::Missing);
    }

    #[tokio::test]
    async fn a_re_verify_finds_a_deleted_object_missing_at_once() {
        let store = MapStore::default();
        store.set("a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        let registry = registry("a/{date}.csv");
        let mut ledger = Ledger::new();
        let hour = Some(Duration::hours(1));
        pass(&store, &registry, &mut ledger, "2026-06-01T08:00:00Z", hour).await;
        store.remove("a/2026-06-01.csv");
        let (rows, heads) =
            pass(&store, &registry, &mut ledger, "2026-06-01T08:45:00Z", hour).await;
        assert_eq!(
            (heads, state(&rows, "a")),
            (2, State::Fresh),
            "within the hour"
        );
        let (rows, heads) =
            pass(&store, &registry, &mut ledger, "2026-06-01T09:00:00Z", hour).await;
        assert_eq!(heads, 3, "an hour after its last probe, a is probed again");
        assert_eq!(state(&rows, "a"), State::Missing, "the observation wins");
        let (_, heads) = pass(&store, &registry, &mut ledger, "2026-06-01T09:15:00Z", hour).await;
        assert_eq!(heads, 3, "a missing artifact is never settled");
    }
}
