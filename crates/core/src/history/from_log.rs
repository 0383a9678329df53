//! Which past cycles the outcome log answers, and which the history still probes, and why.
//!
//! A cycle the passes (or an earlier scan) saw land (on time or late, its LastModified known)
//! is answered by its record: no probe. A cycle recorded missing is looked at again only when
//! its recheck is due ([`recheck_due`]); until then the record answers it (a gap). Everything
//! else is probed, each for a reason `history.json` counts (`probes_by_reason`): the log has
//! no record of it (before the log began, while the monitor was down, in an object that could
//! not be read), it was recorded missing and its recheck is due (a backfill may have filled
//! it since) or unknown, or the key its record names is not the key the registry renders for
//! it now (the template or bucket changed since).

use chrono::{DateTime, Utc};

use super::cell::{CellOutcome, Landed};
use crate::cadence::Cycle;
use crate::classify::State;
use crate::classify::minutes_past;
use crate::ledger::current::CurrentCycle;
use crate::ledger::probe_fingerprint;
use crate::object::ObjectMeta;
use crate::outcome_log::{LogIndex, Outcome};
use crate::registry::ArtifactSpec;

/// Why a past cycle is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProbeReason {
    /// No record of it in the log.
    NotInLog,
    /// Recorded missing: a backfill may have filled it since.
    RecordedMissing,
    /// Recorded unknown (the passes' probes failed), or not expected when it is now.
    RecordedUnknown,
    /// Its record names another bucket or key than the registry renders now.
    TemplateChanged,
}

impl ProbeReason {
    pub const ALL: [ProbeReason; 4] = [
        ProbeReason::NotInLog,
        ProbeReason::RecordedMissing,
        ProbeReason::RecordedUnknown,
        ProbeReason::TemplateChanged,
    ];

    /// Its key in `history.json`'s `probes_by_reason`.
    pub fn name(self) -> &'static str {
        match self {
            ProbeReason::NotInLog => "not_in_log",
            ProbeReason::RecordedMissing => "recorded_missing",
            ProbeReason::RecordedUnknown => "recorded_unknown",
            ProbeReason::TemplateChanged => "template_changed",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// What the history does with one expected past cycle.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// The log answers it.
    Logged(CellOutcome),
    /// It is probed.
    Probe(ProbeReason),
}

/// The answer for `spec`'s expected `cycle`, due at `due`, whose canonical key is
/// `canonical_key`, at `now`.
pub fn answer(
    log: Option<&LogIndex>,
    spec: &ArtifactSpec,
    cycle: &Cycle,
    canonical_key: &str,
    due: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Answer {
    let Some(record) = log.and_then(|log| log.get(spec.id.as_str(), cycle.tick)) else {
        return Answer::Probe(ProbeReason::NotInLog);
    };
    if record.key_fingerprint != probe_fingerprint(&spec.s3_bucket, canonical_key) {
        return Answer::Probe(ProbeReason::TemplateChanged);
    }
    match (record.outcome, record.landed_at) {
        (Outcome::OnTime | Outcome::Late, Some(landed)) => {
            let landed = landed.to_utc();
            Answer::Logged(CellOutcome::Landed(Landed {
                meta: ObjectMeta {
                    last_modified: landed,
                    size: None,
                    etag: None,
                },
                on_time: landed <= due,
                minutes_late: minutes_past(landed, due),
                recovery_substituted: false,
            }))
        }
        (Outcome::Missing, _) if recheck_due(record.checked_at.to_utc(), due, now) => {
            Answer::Probe(ProbeReason::RecordedMissing)
        }
        (Outcome::Missing, _) => Answer::Logged(CellOutcome::Absent { seen: None }),
        _ => Answer::Probe(ProbeReason::RecordedUnknown),
    }
}

/// A cycle past its due time that no pass has closed yet (the artifact's current cycle in
/// `ledger.json`): what the passes saw of it so far. It landed (their LastModified), or the
/// last pass saw it missing or stale (a look minutes or hours ago, so no probe: a gap until
/// it closes); `None` when the entry is about another cycle or tells neither.
pub fn answer_from_ledger(
    entry: Option<&CurrentCycle>,
    cycle: &Cycle,
    due: DateTime<Utc>,
) -> Option<CellOutcome> {
    let entry = entry.filter(|e| *e.cycle == *cycle.label)?;
    match (entry.fresh_at, entry.last_modified) {
        (Some(_), Some(landed)) => {
            let landed = landed.to_utc();
            Some(CellOutcome::Landed(Landed {
                meta: ObjectMeta {
                    last_modified: landed,
                    size: None,
                    etag: None,
                },
                on_time: landed <= due,
                minutes_late: minutes_past(landed, due),
                recovery_substituted: false,
            }))
        }
        _ if matches!(entry.state, State::Missing | State::Stale) => {
            Some(CellOutcome::Absent { seen: None })
        }
        _ => None,
    }
}

/// A cycle recorded missing is looked at again once as much time has passed since its last
/// look as had passed from its due time to that look (at least a day): at ages of about 1,
/// 2, 4, 8… days, so a backfill is noticed within its cycle's age again, and a cycle that
/// stays missing costs a few HEADs over the lookback, not one a day.
pub fn recheck_due(checked_at: DateTime<Utc>, due: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    let waited = (checked_at - due).max(chrono::Duration::days(1));
    now - checked_at >= waited
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::LedgerTime;
    use crate::outcome_log::{KnownBy, OutcomeRecord, SCHEMA_VERSION};
    use crate::registry::{Registry, RegistryEntry, parse_registry};

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn registry() -> Registry {
        let text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: critical\n  \
                    created_at: 2020-01-01\n  sla_minutes_after_cron: 60\n  owner_repo: o\n\
                    artifacts:\n  - artifact_id: a\n    s3_key_template: a/{date}.json\n    \
                    cadence: weekday_sf\n";
        parse_registry("r.yaml", text.as_bytes()).unwrap()
    }

    fn record(outcome: Outcome, landed: Option<&str>, key: &str, checked: &str) -> OutcomeRecord {
        let t = |s: &str| LedgerTime::from_utc(at(s)).unwrap();
        OutcomeRecord {
            schema_version: SCHEMA_VERSION,
            artifact_id: "a".into(),
            cadence: "weekday_sf".into(),
            cycle_label: "2026-12-01".into(),
            tick: t("2026-12-01T13:00:00Z"),
            due_at: t("2026-12-01T14:00:00Z"),
            expected: true,
            outcome,
            landed_at: landed.map(t),
            on_time: None,
            minutes_late: None,
            alerted: false,
            known_by: KnownBy::Pass,
            s3_bucket: "bkt".into(),
            s3_key: key.into(),
            recorded_at: t(checked),
            set_total: None,
            set_written: None,
        }
    }

    #[test]
    fn the_log_answers_what_landed_and_a_gap_until_its_recheck_and_probes_the_rest() {
        let registry = registry();
        let RegistryEntry::Valid(spec) = &registry.entries[0] else {
            panic!()
        };
        let cycle = spec
            .cadence
            .cycle_at(at("2026-12-01T15:00:00Z"), &registry.calendar)
            .unwrap();
        let due = at("2026-12-01T14:00:00Z");
        let key = "a/2026-12-01.json";
        let next_day = "2026-12-02T13:00:00Z";
        let landed = |late: bool| {
            Answer::Logged(CellOutcome::Landed(Landed {
                meta: ObjectMeta {
                    last_modified: at(if late {
                        "2026-12-01T15:31:00Z"
                    } else {
                        "2026-12-01T13:40:00Z"
                    }),
                    size: None,
                    etag: None,
                },
                on_time: !late,
                minutes_late: if late { 91 } else { 0 },
                recovery_substituted: false,
            }))
        };
        // (what the log holds, the scan's now, the answer)
        let cases: Vec<(Option<OutcomeRecord>, &str, Answer)> = vec![
            (None, next_day, Answer::Probe(ProbeReason::NotInLog)),
            (
                Some(record(
                    Outcome::OnTime,
                    Some("2026-12-01T13:40:00Z"),
                    key,
                    next_day,
                )),
                "2026-12-30T04:00:00Z",
                landed(false),
            ),
            (
                Some(record(
                    Outcome::Late,
                    Some("2026-12-01T15:31:00Z"),
                    key,
                    next_day,
                )),
                "2026-12-30T04:00:00Z",
                landed(true),
            ),
            (
                Some(record(
                    Outcome::OnTime,
                    Some("2026-12-01T13:40:00Z"),
                    "moved/x.json",
                    next_day,
                )),
                "2026-12-03T04:00:00Z",
                Answer::Probe(ProbeReason::TemplateChanged),
            ),
            (
                Some(record(Outcome::Missing, None, key, next_day)),
                "2026-12-03T04:00:00Z",
                Answer::Logged(CellOutcome::Absent { seen: None }),
            ),
            (
                Some(record(Outcome::Missing, None, key, next_day)),
                "2026-12-04T04:00:00Z",
                Answer::Probe(ProbeReason::RecordedMissing),
            ),
            (
                Some(record(Outcome::Unknown, None, key, next_day)),
                "2026-12-03T04:00:00Z",
                Answer::Probe(ProbeReason::RecordedUnknown),
            ),
        ];
        for (held, now, expected) in cases {
            let mut index = LogIndex::default();
            index.add(held.clone().into_iter().collect());
            let got = answer(Some(&index), spec, &cycle, key, due, at(now));
            assert_eq!(got, expected, "{held:?} at {now}");
        }
    }

    #[test]
    fn a_miss_is_rechecked_at_doubling_ages() {
        let due = at("2026-12-01T14:00:00Z");
        let checks = |first_look: &str| {
            let mut looked = at(first_look);
            let mut ages = Vec::new();
            // A scan each day at 04:00 for 64 days.
            for day in 1..=64 {
                let now = at("2026-12-01T04:00:00Z") + chrono::Duration::days(day);
                if recheck_due(looked, due, now) {
                    looked = now;
                    ages.push(day);
                }
            }
            ages
        };
        // Each look waits as long as the miss was old at the last one: its age doubles.
        assert_eq!(checks("2026-12-02T13:00:00Z"), [3, 6, 12, 24, 48]);
    }
}
