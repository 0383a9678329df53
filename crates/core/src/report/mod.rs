//! What a pass writes (docs/outputs.md): `check_results.json`, `heartbeat.json` and
//! `cycle_verdict.json`, built from the pass's rows.
//!
//! The field names are a contract: the original monitor's dashboard reads the first ten
//! columns of a result row exactly as named here.

use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

use crate::classify::State;
use crate::registry::Severity;
use crate::text::Rfc3339;

pub mod files;
mod figures;
mod policy;
mod read_back;
mod row;
mod stamp;

pub use figures::{
    DeadlinePassFigures, LedgerFigures, ListingFigures, PASSES_PER_DAY, RequestCounts,
    RequestFigures,
};
pub use policy::{AckNote, PolicyAction, RowPolicy};
pub use read_back::{Replaced, ResultsDoc};
pub use row::{
    InvalidEntryRow, Reason, ResultRow, RowContext, RowExtras, broken_entry_dedup_key,
    cycle_dedup_key,
};
pub use stamp::Stamp;

fn time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    match Rfc3339(*t).ascii() {
        Some(ascii) => s.serialize_str(std::str::from_utf8(&ascii).expect("ASCII")),
        None => s.serialize_str(&Rfc3339(*t).to_string()),
    }
}

/// `check_results.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckResults<'a> {
    #[serde(serialize_with = "time")]
    pub run_at: DateTime<Utc>,
    pub alerts_enabled: bool,
    pub n_entries: usize,
    pub results: &'a [ResultRow],
}

/// Rows per state; every state is always present (dashboards read zeros).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StateCounts {
    pub fresh: usize,
    pub stale: usize,
    pub missing: usize,
    pub probe_failed: usize,
    pub grace_period: usize,
    /// Written since the tick but failing a content check (docs/classification.md).
    pub suspect: usize,
}

impl StateCounts {
    pub fn of(rows: &[ResultRow]) -> StateCounts {
        let mut counts = StateCounts::default();
        for row in rows {
            *match row.state {
                State::Fresh => &mut counts.fresh,
                State::Stale => &mut counts.stale,
                State::Missing => &mut counts.missing,
                State::ProbeFailed => &mut counts.probe_failed,
                State::GracePeriod => &mut counts.grace_period,
                State::Suspect => &mut counts.suspect,
            } += 1;
        }
        counts
    }
}

/// What happened to the pass's alerts (all zero in observe mode, where `would_alert` counts
/// what would have gone out).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AlertFigures {
    pub would_alert: usize,
    pub sent: usize,
    pub deduplicated: usize,
    pub failed: usize,
    pub resolved: usize,
    /// Reminders sent about alerts still alerting (`alert_policy.remind_every_minutes`).
    pub reminded: usize,
    /// Why the dedup markers could not be used in this pass (null when they could): alerts
    /// then go out without dedup and may repeat, so the degradation is told here.
    pub dedup_error: Option<String>,
    /// How each channel fared in this pass (empty when nothing was sent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelReport>,
    /// The artifacts whose alert went out in this pass (for the ledger; not written).
    #[serde(skip)]
    pub alerted_artifacts: Vec<String>,
    /// The artifacts whose alert for this cycle a published marker already holds (for the
    /// ledger's `alert_out`; not written).
    #[serde(skip)]
    pub held_artifacts: Vec<String>,
    /// The artifacts whose RESOLVED notice for this cycle went out in this pass (for the
    /// ledger's `resolved_out`; not written).
    #[serde(skip)]
    pub resolved_artifacts: Vec<String>,
    /// The artifacts whose RESOLVED notice a published marker already holds (for the
    /// ledger's `resolved_out`; not written).
    #[serde(skip)]
    pub resolved_held_artifacts: Vec<String>,
    /// The artifacts whose RESOLVED notice reached no channel in this pass, its claim
    /// released (for the ledger: a never-written one's notice stays due; not written).
    #[serde(skip)]
    pub resolved_failed_artifacts: Vec<String>,
}

/// One alert channel's part in a pass: messages delivered, and the error if any.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChannelReport {
    pub channel: String,
    pub messages_sent: usize,
    pub error: Option<String>,
}

/// `heartbeat.json`.
#[derive(Debug, Clone, Serialize)]
pub struct Heartbeat {
    #[serde(serialize_with = "time")]
    pub last_run: DateTime<Utc>,
    pub alerts_enabled: bool,
    pub duration_seconds: f64,
    pub n_entries_checked: usize,
    pub counts: StateCounts,
    pub version: &'static str,
    pub registry_etag: Option<String>,
    pub alerts: AlertFigures,
    pub registry_error: Option<String>,
    /// A bug stopped the pass (null normally); the invocation failed with
    /// `FreshnessMonitor.InternalError`.
    pub internal_error: Option<String>,
    /// What the pass did with the ledger (null when it did not touch it: a registry error).
    pub ledger: Option<LedgerFigures>,
    /// Acknowledgement objects the pass could not use (ignored; absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ack_problems: Vec<String>,
    /// The S3 requests the pass made, by class (its own output PUTs included), and the
    /// projection at 96 passes a day. Absent when the pass was not counted (a panic).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requests: Option<RequestFigures>,
    /// What the pass's listings did; absent when nothing was worth listing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listing: Option<ListingFigures>,
    /// Whether a schedule runs a pass at the next deadline, or why not; absent when the pass
    /// did not get that far (a registry error, a panic, a shell's `run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_passes: Option<DeadlinePassFigures>,
}

/// Ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleVerdictKind {
    Complete,
    Indeterminate,
    Incomplete,
}

/// One verdict per (cadence, cycle label), in the original monitor's shape (its dashboards
/// read it): the required set is the cycle's critical artifacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleVerdict {
    pub cadence: String,
    pub cycle_label: String,
    pub state: CycleVerdictKind,
    /// `state == complete`.
    pub complete: bool,
    /// The critical artifacts of the cycle.
    pub n_required: usize,
    /// Those fresh or in their grace period.
    pub n_satisfied: usize,
    pub missing: Vec<String>,
    pub stale: Vec<String>,
    /// Critical artifacts that could not be probed.
    pub probe_failed: Vec<String>,
    /// Critical artifacts in their grace period (they count as satisfied).
    pub grace_period: Vec<String>,
    /// Critical artifacts written since the tick whose content failed a check.
    pub suspect: Vec<String>,
    pub reason: String,
}

/// `cycle_verdict.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CycleVerdicts {
    #[serde(serialize_with = "time")]
    pub run_at: DateTime<Utc>,
    pub verdicts: Vec<CycleVerdict>,
}

impl CycleVerdicts {
    /// One verdict per (cadence, cycle label) among the rows, also for cycles without critical
    /// artifacts (vacuously complete): incomplete when a critical artifact is missing or
    /// stale, else indeterminate when one could not be probed, else complete.
    ///
    /// A critical row of a known cadence that has no cycle (an invalid registry entry, an
    /// artifact a bug kept from being judged) is `probe_failed` in every cycle of its cadence
    /// in the pass: a cycle with a required artifact nobody could judge is not complete.
    pub fn of(run_at: DateTime<Utc>, rows: &[ResultRow]) -> CycleVerdicts {
        let mut groups: BTreeMap<(&str, &str), Vec<&ResultRow>> = BTreeMap::new();
        let mut unjudged: Vec<(&str, &ResultRow)> = Vec::new();
        for row in rows {
            let critical = row.severity == Some(Severity::Critical);
            match (row.cadence(), row.cycle_label()) {
                (Some(cadence), Some(label)) => {
                    let group = groups.entry((cadence, label)).or_default();
                    if critical {
                        group.push(row);
                    }
                }
                (Some(cadence), None) if critical && row.state == State::ProbeFailed => {
                    unjudged.push((cadence, row));
                }
                _ => {}
            }
        }
        for ((cadence, _), group) in groups.iter_mut() {
            // Listed after the cycle's judged artifacts.
            group.extend(
                unjudged
                    .iter()
                    .filter(|(c, _)| c == cadence)
                    .map(|(_, r)| *r),
            );
        }
        let verdicts = groups
            .into_iter()
            .map(|((cadence, cycle_label), required)| {
                CycleVerdict::of(cadence, cycle_label, &required)
            })
            .collect();
        CycleVerdicts { run_at, verdicts }
    }

    /// `{cadence: state}`, as the original's Lambda response carried them. A cadence name
    /// with several cycles in one pass (`continuous` at two intervals) gets the worst state.
    pub fn states_by_cadence(&self) -> BTreeMap<&str, CycleVerdictKind> {
        let mut states: BTreeMap<&str, CycleVerdictKind> = BTreeMap::new();
        for v in &self.verdicts {
            let state = states.entry(&v.cadence).or_insert(v.state);
            *state = (*state).max(v.state);
        }
        states
    }
}

impl CycleVerdict {
    fn of(cadence: &str, cycle_label: &str, required: &[&ResultRow]) -> CycleVerdict {
        let named = |state: State| -> Vec<String> {
            required
                .iter()
                .filter(|r| r.state == state)
                .map(|r| r.artifact_id.to_string())
                .collect()
        };
        let (missing, stale) = (named(State::Missing), named(State::Stale));
        let (probe_failed, grace_period) = (named(State::ProbeFailed), named(State::GracePeriod));
        let suspect = named(State::Suspect);
        let n_satisfied = required
            .iter()
            .filter(|r| matches!(r.state, State::Fresh | State::GracePeriod))
            .count();
        let state = if !missing.is_empty() || !stale.is_empty() || !suspect.is_empty() {
            CycleVerdictKind::Incomplete
        } else if !probe_failed.is_empty() {
            CycleVerdictKind::Indeterminate
        } else {
            CycleVerdictKind::Complete
        };
        let mut reason = format!(
            "{n_satisfied} of {} required (critical) artifacts satisfied",
            required.len()
        );
        for (what, ids) in [
            ("missing", &missing),
            ("stale", &stale),
            ("suspect", &suspect),
            ("probe_failed", &probe_failed),
            ("in grace", &grace_period),
        ] {
            if !ids.is_empty() {
                reason.push_str(&format!("; {what}: {}", ids.join(", ")));
            }
        }
        CycleVerdict {
            cadence: cadence.to_string(),
            cycle_label: cycle_label.to_string(),
            state,
            complete: state == CycleVerdictKind::Complete,
            n_required: required.len(),
            n_satisfied,
            missing,
            stale,
            probe_failed,
            grace_period,
            suspect,
            reason,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, cadence: &str, label: &str, severity: Severity, state: State) -> ResultRow {
        ResultRow {
            severity: Some(severity),
            context: std::sync::Arc::new(RowContext {
                cadence: Some(cadence.into()),
                cycle_label: Some(label.into()),
                ..RowContext::default()
            }),
            ..ResultRow::blank(id.into(), state, "".into())
        }
    }

    #[test]
    fn verdicts_in_the_original_shape_one_per_cycle_even_without_critical_artifacts() {
        use Severity::{Critical, Warning};
        let rows = [
            row("a", "saturday_sf", "2026-W23", Critical, State::Fresh),
            row("b", "saturday_sf", "2026-W23", Critical, State::GracePeriod),
            row("c", "saturday_sf", "2026-W23", Critical, State::Missing),
            row("d", "saturday_sf", "2026-W23", Warning, State::Stale),
            row("e", "weekday_sf", "2026-06-05", Warning, State::Missing),
            row("f", "eod_sf", "2026-06-05", Critical, State::ProbeFailed),
            row("g", "eod_sf", "2026-06-05", Critical, State::Fresh),
            row("h", "continuous", "continuous_5m_1", Critical, State::Fresh),
            row(
                "i",
                "continuous",
                "continuous_60m_2",
                Critical,
                State::Stale,
            ),
        ];
        let run_at = "2026-06-07T12:00:00Z".parse().unwrap();
        let verdicts = CycleVerdicts::of(run_at, &rows);
        let json = serde_json::to_value(&verdicts.verdicts[2..]).unwrap();
        assert_eq!(
            json,
            serde_json::json!([
                {"cadence": "eod_sf", "cycle_label": "2026-06-05", "state": "indeterminate",
                 "complete": false, "n_required": 2, "n_satisfied": 1, "missing": [], "stale": [],
                 "probe_failed": ["f"], "grace_period": [], "suspect": [],
                 "reason": "1 of 2 required (critical) artifacts satisfied; probe_failed: f"},
                {"cadence": "saturday_sf", "cycle_label": "2026-W23", "state": "incomplete",
                 "complete": false, "n_required": 3, "n_satisfied": 2, "missing": ["c"],
                 "stale": [], "probe_failed": [], "grace_period": ["b"], "suspect": [],
                 "reason": "2 of 3 required (critical) artifacts satisfied; missing: c; in grace: b"},
                {"cadence": "weekday_sf", "cycle_label": "2026-06-05", "state": "complete",
                 "complete": true, "n_required": 0, "n_satisfied": 0, "missing": [], "stale": [],
                 "probe_failed": [], "grace_period": [], "suspect": [],
                 "reason": "0 of 0 required (critical) artifacts satisfied"},
            ])
        );
        assert_eq!(
            serde_json::to_value(verdicts.states_by_cadence()).unwrap(),
            serde_json::json!({"continuous": "incomplete", "eod_sf": "indeterminate",
                               "saturday_sf": "incomplete", "weekday_sf": "complete"})
        );
    }

    #[test]
    fn a_critical_entry_nobody_could_judge_keeps_its_cadences_cycles_from_complete() {
        use Severity::{Critical, Warning};
        let unjudged = |id: &str, cadence: &str, severity: Severity| {
            let mut row = row(id, cadence, "", severity, State::ProbeFailed);
            row.context_mut().cycle_label = None;
            row
        };
        let rows = [
            row("a", "weekday_sf", "2026-06-05", Critical, State::Fresh),
            unjudged("typo", "weekday_sf", Critical),
            unjudged("minor", "weekday_sf", Warning),
            row("b", "eod_sf", "2026-06-05", Critical, State::Missing),
            unjudged("broken", "eod_sf", Critical),
            unjudged("orphan", "saturday_sf", Critical),
        ];
        let run_at = "2026-06-07T12:00:00Z".parse().unwrap();
        let verdicts = CycleVerdicts::of(run_at, &rows).verdicts;
        let weekday = verdicts.iter().find(|v| v.cadence == "weekday_sf").unwrap();
        assert_eq!(weekday.state, CycleVerdictKind::Indeterminate);
        assert_eq!((weekday.n_required, weekday.n_satisfied), (2, 1));
        assert_eq!(weekday.probe_failed, ["typo"], "a warning is not required");
        let eod = verdicts.iter().find(|v| v.cadence == "eod_sf").unwrap();
        assert_eq!(eod.state, CycleVerdictKind::Incomplete, "missing wins");
        assert_eq!(eod.probe_failed, ["broken"]);
        assert!(
            verdicts.iter().all(|v| v.cadence != "saturday_sf"),
            "no cycle of its cadence was judged: no verdict is made up for it"
        );
    }

    #[test]
    fn a_suspect_critical_artifact_leaves_its_cycle_incomplete_and_is_named() {
        let rows = [
            row(
                "a",
                "eod_sf",
                "2026-06-05",
                Severity::Critical,
                State::Fresh,
            ),
            row(
                "b",
                "eod_sf",
                "2026-06-05",
                Severity::Critical,
                State::Suspect,
            ),
        ];
        let verdicts = CycleVerdicts::of("2026-06-05T23:00:00Z".parse().unwrap(), &rows);
        let verdict = &verdicts.verdicts[0];
        assert_eq!(verdict.state, CycleVerdictKind::Incomplete);
        assert_eq!(verdict.suspect, ["b"]);
        assert_eq!(
            verdict.reason,
            "1 of 2 required (critical) artifacts satisfied; suspect: b"
        );
        assert_eq!(StateCounts::of(&rows).suspect, 1);
    }
}
