//! What a pass writes (docs/outputs.md): `check_results.json`, `heartbeat.json` and
//! `cycle_verdict.json`, built from the pass's rows.
//!
//! The field names are a contract: the original monitor's dashboard reads the first ten
//! columns of a result row exactly as named here.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::classify::State;
use crate::registry::Severity;
use crate::text::Rfc3339;

/// One row of `check_results.json`: one artifact in registry order.
///
/// The strings many rows repeat (owner, cadence, cycle label, bucket) are shared, not copied:
/// a 100,000-artifact pass holds a handful of each instead of 100,000.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultRow {
    pub artifact_id: String,
    pub owner_repo: Option<Arc<str>>,
    pub severity: Option<Severity>,
    pub cadence: Option<Arc<str>>,
    pub canonical_key: Option<String>,
    pub state: State,
    pub reason: String,
    #[serde(serialize_with = "opt_time")]
    pub last_modified: Option<DateTime<Utc>>,
    pub sla_violated_by_minutes: i64,
    pub recovery_substituted: bool,
    pub cycle_label: Option<Arc<str>>,
    #[serde(serialize_with = "opt_time")]
    pub cycle_tick: Option<DateTime<Utc>>,
    #[serde(serialize_with = "opt_time")]
    pub due_at: Option<DateTime<Utc>>,
    pub dedup_key: Option<String>,
    pub alerting: bool,
    /// The bucket the key lives in (not in the original monitor's rows, useful to operators).
    pub s3_bucket: Option<Arc<str>>,
}

impl ResultRow {
    /// The severity an alert for this row goes out with: probe failures are always critical
    /// (the monitor itself cannot see), otherwise the artifact's own.
    pub fn alert_severity(&self) -> Severity {
        if self.state == State::ProbeFailed {
            Severity::Critical
        } else {
            self.severity.unwrap_or(Severity::Critical)
        }
    }
}

fn opt_time<S: serde::Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => time(t, s),
        None => s.serialize_none(),
    }
}

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
    /// Why the dedup markers could not be used in this pass (null when they could): alerts
    /// then go out without dedup and may repeat, so the degradation is told here.
    pub dedup_error: Option<String>,
    /// How each channel fared in this pass (empty when nothing was sent).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ChannelReport>,
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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CycleVerdictKind {
    Complete,
    Incomplete,
    Indeterminate,
}

/// One verdict per (cadence, cycle label) over the critical artifacts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CycleVerdict {
    pub cadence: String,
    pub cycle_label: String,
    pub verdict: CycleVerdictKind,
    pub n_critical: usize,
    /// Missing or stale critical artifacts (for `incomplete`).
    pub incomplete: Vec<String>,
    /// Critical artifacts that could not be probed.
    pub probe_failed: Vec<String>,
}

/// `cycle_verdict.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CycleVerdicts {
    #[serde(serialize_with = "time")]
    pub run_at: DateTime<Utc>,
    pub verdicts: Vec<CycleVerdict>,
}

impl CycleVerdicts {
    /// complete: all fresh or in grace; incomplete: any missing or stale (listed);
    /// indeterminate: no missing or stale but some probe failures.
    pub fn of(run_at: DateTime<Utc>, rows: &[ResultRow]) -> CycleVerdicts {
        let mut groups: BTreeMap<(&str, &str), Vec<&ResultRow>> = BTreeMap::new();
        for row in rows {
            if row.severity != Some(Severity::Critical) {
                continue;
            }
            if let (Some(cadence), Some(label)) = (&row.cadence, &row.cycle_label) {
                groups.entry((cadence, label)).or_default().push(row);
            }
        }
        let verdicts = groups
            .into_iter()
            .map(|((cadence, cycle_label), rows)| {
                let named = |states: &[State]| -> Vec<String> {
                    rows.iter()
                        .filter(|r| states.contains(&r.state))
                        .map(|r| r.artifact_id.clone())
                        .collect()
                };
                let incomplete = named(&[State::Missing, State::Stale]);
                let probe_failed = named(&[State::ProbeFailed]);
                let verdict = if !incomplete.is_empty() {
                    CycleVerdictKind::Incomplete
                } else if !probe_failed.is_empty() {
                    CycleVerdictKind::Indeterminate
                } else {
                    CycleVerdictKind::Complete
                };
                CycleVerdict {
                    cadence: cadence.to_string(),
                    cycle_label: cycle_label.to_string(),
                    verdict,
                    n_critical: rows.len(),
                    incomplete,
                    probe_failed,
                }
            })
            .collect();
        CycleVerdicts { run_at, verdicts }
    }
}
