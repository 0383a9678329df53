//! Skipping what is settled: an artifact whose current cycle the ledger already confirmed
//! fresh is not probed again until its next tick.
//!
//! A fresh verdict cannot change within a cycle unless the object is deleted or rewritten
//! with an older LastModified (S3's LastModified never moves backwards on a rewrite), so a
//! HEAD of a settled key cannot change the answer. The row is judged exactly as the probe
//! would have judged it, from the LastModified the ledger recorded. Settled means all of:
//! the ledger's entry is about this cycle, its last pass left it fresh through the canonical
//! key, the bucket and rendered key are the ones that probe saw (the fingerprint: a registry
//! edit unsettles it), and the re-verify interval, when set, has not passed since that probe
//! (the artifact's `reverify_minutes`, else `REVERIFY_MINUTES`: [`ReverifyInterval`]).
//! An artifact a re-verifying probe finds gone is judged from the probe (missing at once):
//! the ledger is never trusted over an observation. A set (`partitions:`) settles by the same
//! rule, from the counts the ledger kept of its complete listing (`settled_set.rs`).

use chrono::{DateTime, Duration, Utc};

use crate::cadence::Cycle;
use crate::classify::{Classification, NoLog, ProbeOutcome, Probes, ResolvedKeys, State, judge};
use crate::ledger::{Ledger, LedgerEntry, LedgerTime, probe_fingerprint};
use crate::registry::ArtifactSpec;
use crate::store::ObjectMeta;

/// What the pass knows from earlier passes, and how long a confirmation holds.
#[derive(Debug, Clone, Copy)]
pub struct SettledRule<'a> {
    pub ledger: &'a Ledger,
    /// Probe a settled artifact again once this long has passed since its last probe (for
    /// producers that delete and rewrite), unless its own `reverify_minutes` says otherwise;
    /// `None`: not before the next tick.
    pub reverify_after: Option<Duration>,
}

/// How long a settled artifact goes unprobed, and which setting said so: its registry entry's
/// `reverify_minutes` (its own or from `defaults:`) wins over the env's `REVERIFY_MINUTES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReverifyInterval {
    /// The registry's `reverify_minutes`.
    Registry(Duration),
    /// `REVERIFY_MINUTES`.
    Env(Duration),
    /// Neither is set: not before the next tick.
    NextTick,
}

impl ReverifyInterval {
    /// The interval of `spec`, given the env's default.
    pub fn of(spec: &ArtifactSpec, env_default: Option<Duration>) -> ReverifyInterval {
        match (spec.reverify_minutes().copied(), env_default) {
            (Some(minutes), _) => ReverifyInterval::Registry(Duration::minutes(minutes.into())),
            (None, Some(interval)) => ReverifyInterval::Env(interval),
            (None, None) => ReverifyInterval::NextTick,
        }
    }

    /// How long after its last probe a settled artifact is probed again.
    pub fn duration(self) -> Option<Duration> {
        match self {
            ReverifyInterval::Registry(d) | ReverifyInterval::Env(d) => Some(d),
            ReverifyInterval::NextTick => None,
        }
    }
}

impl std::fmt::Display for ReverifyInterval {
    /// What `explain` prints.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let every = |d: &Duration| {
            format!(
                "once confirmed fresh, probed again {} min after its last probe",
                d.num_minutes()
            )
        };
        match self {
            ReverifyInterval::Registry(d) => {
                write!(f, "{} (the registry's reverify_minutes)", every(d))
            }
            ReverifyInterval::Env(d) => write!(f, "{} (REVERIFY_MINUTES)", every(d)),
            ReverifyInterval::NextTick => f.write_str(
                "once confirmed fresh, not probed again before the next tick (neither \
                 reverify_minutes nor REVERIFY_MINUTES is set)",
            ),
        }
    }
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
        let confirmed = self.confirmed_fresh(spec, cycle, now)?;
        let (last_modified, last_probed_at) = (confirmed.last_modified, confirmed.last_probed_at);
        let same_key = confirmed.entry.probe_fingerprint()
            == Some(probe_fingerprint(&spec.s3_bucket, &keys.canonical_key));
        if !same_key {
            return None;
        }
        let seen: ProbeOutcome = Ok(Some(ObjectMeta {
            last_modified,
            size: None,
            etag: None,
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

/// What the ledger says of an artifact an earlier probe of this cycle left fresh.
pub(super) struct ConfirmedFresh<'l> {
    pub entry: &'l LedgerEntry,
    /// The LastModified that probe saw (at or after the tick).
    pub last_modified: DateTime<Utc>,
    pub last_probed_at: DateTime<Utc>,
}

impl SettledRule<'_> {
    /// The ledger's entry of `spec` when its last pass left it fresh in `cycle`, written since
    /// the tick, and no re-verify is due at `now`; `None` otherwise (it needs a probe). What
    /// was probed is checked by the caller (the key's or the set's fingerprint).
    pub(super) fn confirmed_fresh(
        &self,
        spec: &ArtifactSpec,
        cycle: &Cycle,
        now: DateTime<Utc>,
    ) -> Option<ConfirmedFresh<'_>> {
        let entry = self.ledger.in_cycle(spec.id.as_str(), &cycle.label)?;
        let last_modified = entry
            .last_modified
            .map(LedgerTime::to_utc)
            .filter(|lm| *lm >= cycle.tick)?;
        let last_probed_at = entry.last_probe_at?.to_utc();
        let due = ReverifyInterval::of(spec, self.reverify_after)
            .duration()
            .is_some_and(|interval| now - last_probed_at >= interval);
        if entry.state != State::Fresh || due || last_probed_at > now {
            return None;
        }
        Some(ConfirmedFresh {
            entry,
            last_modified,
            last_probed_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pass::{PassSettings, classify_registry};
    use crate::registry::{Registry, parse_registry};
    use crate::report::ResultRow;
    use crate::store::ObjectStore;
    use crate::store::counting::CountingStore;
    use crate::store::memory::MemoryStore;

    /// The in-memory store with the bucket `bkt`, answering LIST as a store that cannot list,
    /// so every probe is a HEAD the tests count.
    fn memory_store() -> MemoryStore {
        let store = MemoryStore::new().without_listing();
        store.create_bucket("bkt");
        store
    }

    /// An object at `key` in `bkt`, written `at`.
    fn set(store: &MemoryStore, key: &str, at: &str) {
        store.insert("bkt", key, "", t(at));
    }

    fn t(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    /// Daily at 06:00 UTC, due 07:00: `a` and `b` dated, `p` a pointer.
    fn registry(a_template: &str) -> Registry {
        registry_with(a_template, "", "")
    }

    /// [`registry`] with lines added to `defaults:` and to `a`'s entry.
    fn registry_with(a_template: &str, defaults: &str, a_extra: &str) -> Registry {
        let yaml = format!(
            "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: warning\n  \
             owner_repo: team\n  created_at: 2025-01-01\n  grace_period_cycles: 0\n  \
             sla_minutes_after_cron: 60\n  cadence: daily\n{defaults}\
             cadences:\n  daily: {{cron: \"0 6 * * *\", timezone: UTC}}\nartifacts:\n\
             - artifact_id: a\n  s3_key_template: \"{a_template}\"\n{a_extra}\
             - artifact_id: b\n  s3_key_template: \"b/{{date}}.csv\"\n\
             - artifact_id: p\n  s3_key_template: \"p/latest.json\"\n"
        );
        parse_registry("test.yaml", yaml.as_bytes()).unwrap()
    }

    /// One pass at `now` with the ledger, which it then advances: the rows and the HEADs made.
    async fn pass(
        store: &MemoryStore,
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
        let rows = classify_registry(&counting, registry, &settings, t(now), Some(ledger)).await;
        ledger.advance(&rows, &[], t(now), |_| true);
        (rows, counting.counts().head)
    }

    fn state(rows: &[ResultRow], id: &str) -> State {
        rows.iter().find(|r| &*r.artifact_id == id).unwrap().state
    }

    #[tokio::test]
    async fn a_cycle_confirmed_fresh_is_not_probed_again_until_the_next_tick() {
        let store = memory_store();
        set(&store, "a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        set(&store, "p/latest.json", "2026-06-01T06:40:00Z");
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
        assert_eq!(a.last_probed_at(), Some(t("2026-06-01T08:00:00Z")));
        assert_eq!(state(&rows, "p"), State::Fresh, "a pointer is settled too");

        // The next tick: every artifact is probed again.
        let (_, heads) = pass(&store, &registry, &mut ledger, "2026-06-02T08:00:00Z", None).await;
        assert_eq!(heads, 3);
    }

    #[tokio::test]
    async fn a_registry_edit_that_moves_the_key_unsettles_the_cycle() {
        let store = memory_store();
        set(&store, "a/2026-06-01.csv", "2026-06-01T06:30:00Z");
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
        let store = memory_store();
        set(&store, "a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        let registry = registry("a/{date}.csv");
        let mut ledger = Ledger::new();
        let hour = Some(Duration::hours(1));
        pass(&store, &registry, &mut ledger, "2026-06-01T08:00:00Z", hour).await;
        store.delete("bkt", "a/2026-06-01.csv").await.unwrap();
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

    #[tokio::test]
    async fn an_artifact_s_own_reverify_minutes_wins_over_the_env_default() {
        let store = memory_store();
        set(&store, "a/2026-06-01.csv", "2026-06-01T06:30:00Z");
        set(&store, "b/2026-06-01.csv", "2026-06-01T06:31:00Z");
        set(&store, "p/latest.json", "2026-06-01T06:40:00Z");
        let registry = registry_with("a/{date}.csv", "", "  reverify_minutes: 30\n");
        let a = registry
            .valid_artifacts()
            .find(|s| s.id.as_str() == "a")
            .unwrap();
        let b = registry
            .valid_artifacts()
            .find(|s| s.id.as_str() == "b")
            .unwrap();
        let hour = Some(Duration::hours(1));
        assert_eq!(
            ReverifyInterval::of(a, hour),
            ReverifyInterval::Registry(Duration::minutes(30))
        );
        assert_eq!(
            ReverifyInterval::of(b, hour),
            ReverifyInterval::Env(Duration::hours(1))
        );
        assert_eq!(ReverifyInterval::of(b, None), ReverifyInterval::NextTick);
        let mut ledger = Ledger::new();
        for (at, expected) in [
            ("2026-06-01T08:00:00Z", 3),
            ("2026-06-01T08:15:00Z", 0),
            // a, 30 min after its last probe; b and p wait for the env's hour.
            ("2026-06-01T08:30:00Z", 1),
            ("2026-06-01T08:45:00Z", 0),
            ("2026-06-01T09:00:00Z", 3),
        ] {
            let (_, heads) = pass(&store, &registry, &mut ledger, at, hour).await;
            assert_eq!(heads, expected, "at {at}");
        }

        // Set under `defaults:`, it applies to every artifact, with no env default at all.
        let registry = registry_with("a/{date}.csv", "  reverify_minutes: 45\n", "");
        let mut ledger = Ledger::new();
        for (at, expected) in [("2026-06-01T08:00:00Z", 3), ("2026-06-01T08:30:00Z", 0)] {
            let (_, heads) = pass(&store, &registry, &mut ledger, at, None).await;
            assert_eq!(heads, expected, "at {at}");
        }
        let (_, heads) = pass(&store, &registry, &mut ledger, "2026-06-01T08:45:00Z", None).await;
        assert_eq!(heads, 3, "45 min after the first probe");
    }
}
