//! Whether a pass with object events on may leave an artifact unprobed until its deadline
//! (docs/lambda.md#passes-with-events-on): the "is it there yet?" polls between a cycle's tick
//! and its landing, which the object's event makes needless.
//!
//! Before its alerting moment (due + 1 minute) a probe can only learn a landing early; it can
//! never send an alert. With events on, the landing's event tells it within seconds. So an
//! artifact whose cycle no pass has probed yet is left unprobed, when the event would tell:
//! - the matcher maps its key ([`events_tell_landing`]): not off-cycle, not a set, no content
//!   checks;
//! - events are known to flow from its bucket since before the cycle's tick
//!   ([`Ledger::object_events_since`]: an earlier event marked an artifact there). A bucket
//!   whose events never reached the ledger (not wired, in another account, events just turned
//!   on, or a ledger rebuilt after a loss) keeps its cycles' first probes: an object written
//!   in the cycle before the events flowed has no event to tell it.
//!
//! From its alerting moment on the artifact is probed as in any pass (the deadline pass, or the
//! first pass after it), before any alert is decided: a lost event costs the row's latency
//! until then, never a false alert (the probe finds the object) nor a missed one (the probe
//! finds it absent).
//!
//! Pure: the ledger, the artifact, its cycle, its alerting moment and `now` in, a yes or no
//! out.

use chrono::{DateTime, Utc};

use super::Ledger;
use crate::cadence::Cycle;
use crate::classify::State;
use crate::matcher::events_tell_landing;
use crate::registry::ArtifactSpec;

/// Whether a pass at `now`, with object events on, may leave `spec` unprobed in `cycle`, whose
/// alerting moment is `alerts_from` (module docs): not yet alerting, no probe of this cycle
/// yet, and its landing told by an event.
pub fn awaits_event(
    ledger: &Ledger,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    alerts_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> bool {
    now < alerts_from
        && cycle.tick <= now
        && events_tell_landing(spec)
        && events_flow_since_before(ledger, &spec.s3_bucket, cycle.tick)
        && no_probe_in_cycle(ledger, spec.id.as_str(), cycle)
}

/// Whether an event marked an artifact of `bucket` for an object created at or before `tick`.
fn events_flow_since_before(ledger: &Ledger, bucket: &str, tick: DateTime<Utc>) -> bool {
    (ledger.object_events_since.get(bucket)).is_some_and(|since| since.to_utc() <= tick)
}

/// Whether the ledger knows nothing of `id` in `cycle` but an earlier pass's wait: no entry in
/// the cycle, or one not fresh that no probe of the cycle made (a probe's verdict, missing or
/// stale, is kept by `pass/not_due.rs`; a fresh one settles the cycle).
fn no_probe_in_cycle(ledger: &Ledger, id: &str, cycle: &Cycle) -> bool {
    let Some(entry) = ledger.in_cycle(id, &cycle.label) else {
        return true;
    };
    matches!(entry.state, State::Missing | State::GracePeriod)
        && (entry.last_probe_at).is_none_or(|at| at.to_utc() < cycle.tick)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{LedgerEntry, LedgerTime, Presence};
    use crate::registry::parse_registry;

    const REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: bkt
  cadence: continuous
  interval_minutes: 60
  sla_minutes_after_cron: 30
  severity: warning
  owner_repo: o
  created_at: 2026-01-01
artifacts:
  - artifact_id: feed
    s3_key_template: \"feeds/{cycle_label}.json\"
  - artifact_id: checked
    s3_key_template: \"checked/{cycle_label}.json\"
    min_size_bytes: 10
  - artifact_id: elsewhere
    s3_bucket: other
    s3_key_template: \"feeds/{cycle_label}.json\"
";

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    struct Case {
        registry: crate::registry::Registry,
        ledger: Ledger,
    }

    impl Case {
        /// The registry, with one event from `bkt` seen for an object created at 10:05.
        fn new() -> Case {
            let registry = parse_registry("r.yaml", REGISTRY.as_bytes()).unwrap();
            let mut ledger = Ledger::new();
            ledger.apply_presences(&[Presence {
                artifact_id: "feed".into(),
                cycle: "continuous_60m_10".into(),
                bucket: "bkt".into(),
                key: "feeds/x.json".into(),
                last_modified: t("2026-06-03T10:05:00Z"),
            }]);
            Case { registry, ledger }
        }

        fn spec(&self, id: &str) -> &ArtifactSpec {
            (self.registry.entries.iter())
                .find_map(|e| match e {
                    crate::registry::RegistryEntry::Valid(s) if s.id.as_str() == id => Some(s),
                    _ => None,
                })
                .unwrap()
        }

        /// Whether a pass at `now` leaves `id` unprobed (its cycle the hour of `now`, alerting
        /// 31 minutes after the tick).
        fn awaits(&self, id: &str, now: &str) -> bool {
            let spec = self.spec(id);
            let cycle = spec.cycle_at(t(now), &self.registry.calendar).unwrap();
            let alerts_from = cycle.tick + chrono::Duration::minutes(31);
            awaits_event(&self.ledger, spec, &cycle, alerts_from, t(now))
        }
    }

    #[test]
    fn a_cycle_that_ticked_after_the_buckets_first_event_waits_for_its_event_until_it_alerts() {
        let case = Case::new();
        assert!(case.awaits("feed", "2026-06-03T11:00:00Z"));
        assert!(case.awaits("feed", "2026-06-03T11:30:00Z"));
        // From its alerting moment on, it is probed.
        assert!(!case.awaits("feed", "2026-06-03T11:31:00Z"));
        assert!(!case.awaits("feed", "2026-06-03T11:45:00Z"));
    }

    #[test]
    fn the_first_probe_stays_where_no_event_would_tell() {
        let case = Case::new();
        // The cycle in which the first event came: objects before it had none.
        assert!(!case.awaits("feed", "2026-06-03T10:15:00Z"));
        // A bucket no event came from.
        assert!(!case.awaits("elsewhere", "2026-06-03T11:00:00Z"));
        // Content checks: the matcher does not map it (the probe compares size and ETag).
        assert!(!case.awaits("checked", "2026-06-03T11:00:00Z"));
        // A ledger rebuilt from scratch knows no bucket's events.
        let rebuilt = Case {
            ledger: Ledger::new(),
            ..Case::new()
        };
        assert!(!rebuilt.awaits("feed", "2026-06-03T11:00:00Z"));
    }

    #[test]
    fn a_cycle_a_probe_already_saw_keeps_that_verdict_rule_not_this_one() {
        let now = "2026-06-03T11:15:00Z";
        let with_entry = |state, probed_at: &str| {
            let mut case = Case::new();
            let spec = case.spec("feed");
            let cycle = spec.cycle_at(t(now), &case.registry.calendar).unwrap();
            let entry = LedgerEntry {
                last_probe_at: Some(LedgerTime::saturating_from(t(probed_at))),
                ..LedgerEntry::new_cycle(cycle.label.as_str().into(), state)
            };
            case.ledger.artifacts.insert("feed", entry);
            case
        };
        // Probed at this cycle's tick: `pass/not_due.rs` keeps what it saw.
        assert!(!with_entry(State::Missing, "2026-06-03T11:00:00Z").awaits("feed", now));
        // An earlier pass of this cycle waited too (its last probe is the last cycle's).
        assert!(with_entry(State::Missing, "2026-06-03T10:45:00Z").awaits("feed", now));
        // Anything else the ledger says of the cycle is not a wait.
        assert!(!with_entry(State::ProbeFailed, "2026-06-03T10:45:00Z").awaits("feed", now));
        assert!(!with_entry(State::Fresh, "2026-06-03T10:45:00Z").awaits("feed", now));
    }
}
