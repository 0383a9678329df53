//! Building result rows: one per artifact, the strings rows repeat (owner, cadence, cycle
//! label, bucket) shared between them, and the dedup keys the rows carry.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::cadence::Cycle;
use crate::classify::{self, Classification, ResolvedKeys};
use crate::registry::{ArtifactSpec, InvalidArtifact};
use crate::report::ResultRow;

/// One shared copy of each string the rows repeat.
#[derive(Default)]
struct SharedStrings<'a> {
    by_text: HashMap<&'a str, Arc<str>>,
    /// The last string asked for: neighbouring entries mostly share owner and bucket, and a
    /// comparison is cheaper than hashing.
    last: Option<Arc<str>>,
}

impl<'a> SharedStrings<'a> {
    fn get(&mut self, text: &'a str) -> Arc<str> {
        if let Some(last) = self.last.as_ref().filter(|last| ***last == *text) {
            return last.clone();
        }
        let shared = self
            .by_text
            .entry(text)
            .or_insert_with(|| Arc::from(text))
            .clone();
        self.last = Some(shared.clone());
        shared
    }
}

/// One pool per row field, so each pool's last-string check mostly hits.
#[derive(Default)]
pub(super) struct RowStringPool<'a> {
    owners: SharedStrings<'a>,
    cadences: SharedStrings<'a>,
    labels: SharedStrings<'a>,
    buckets: SharedStrings<'a>,
}

/// The shared strings of one artifact's row.
pub(super) struct RowStrings {
    owner_repo: Arc<str>,
    cadence: Arc<str>,
    cycle_label: Arc<str>,
    s3_bucket: Arc<str>,
}

impl RowStrings {
    pub(super) fn of<'a>(
        spec: &'a ArtifactSpec,
        cycle: &'a Cycle,
        pool: &mut RowStringPool<'a>,
    ) -> Self {
        RowStrings {
            owner_repo: pool.owners.get(&spec.owner_repo),
            cadence: pool.cadences.get(spec.cadence.name()),
            cycle_label: pool.labels.get(&cycle.label),
            s3_bucket: pool.buckets.get(&spec.s3_bucket),
        }
    }
}

pub(super) fn dedup_key(id: &str, cycle_label: &str) -> String {
    let mut key = String::with_capacity("freshness_".len() + id.len() + 1 + cycle_label.len());
    key.push_str("freshness_");
    key.push_str(id);
    key.push('_');
    key.push_str(cycle_label);
    key
}

/// A broken entry has no cycle of its own: it alerts once per UTC day until it is fixed.
pub(super) fn broken_entry_dedup_key(label: &str, now: DateTime<Utc>) -> String {
    format!("freshness_{label}_invalid_{}", now.format("%Y-%m-%d"))
}

pub(super) fn row(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    keys: ResolvedKeys,
    strings: RowStrings,
    verdict: Classification,
) -> ResultRow {
    ResultRow {
        artifact_id: spec.id.to_string(),
        owner_repo: Some(strings.owner_repo),
        severity: Some(spec.severity),
        cadence: Some(strings.cadence),
        canonical_key: Some(keys.canonical_key),
        alerting: verdict.is_alerting(),
        state: verdict.state,
        reason: verdict.reason,
        last_modified: verdict.last_modified,
        sla_violated_by_minutes: verdict.sla_violated_by_minutes,
        recovery_substituted: verdict.recovery_substituted,
        cycle_label: Some(strings.cycle_label),
        cycle_tick: Some(cycle.tick),
        due_at: Some(keys.due_at),
        dedup_key: Some(dedup_key(spec.id.as_str(), &cycle.label)),
        s3_bucket: Some(strings.s3_bucket),
        last_probed_at: None,
        off_cycle_key: verdict.off_cycle_key,
        extensions: spec.extensions().cloned(),
        policy: None,
    }
}

pub(super) fn invalid_row<'a>(
    bad: &'a InvalidArtifact,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    ResultRow {
        owner_repo: bad.owner_repo.as_deref().map(|s| shared.owners.get(s)),
        severity: bad.severity,
        cadence: bad.cadence.as_deref().map(|s| shared.cadences.get(s)),
        canonical_key: bad.s3_key_template.clone(),
        s3_bucket: bad.s3_bucket.as_deref().map(|s| shared.buckets.get(s)),
        extensions: bad.extensions.clone(),
        ..no_verdict_row(&bad.label, bad.reason(), now)
    }
}

/// A `probe_failed` row with no cycle (an invalid entry, a cadence without a fire time, a
/// bug): it alerts once per UTC day until fixed. Callers fill in what they know.
fn no_verdict_row(label: &str, reason: String, now: DateTime<Utc>) -> ResultRow {
    ResultRow {
        artifact_id: label.to_string(),
        owner_repo: None,
        severity: None,
        cadence: None,
        canonical_key: None,
        state: classify::State::ProbeFailed,
        reason,
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        cycle_label: None,
        cycle_tick: None,
        due_at: None,
        dedup_key: Some(broken_entry_dedup_key(label, now)),
        alerting: true,
        s3_bucket: None,
        last_probed_at: None,
        off_cycle_key: None,
        extensions: None,
        policy: None,
    }
}

pub(super) fn no_cycle_row<'a>(
    spec: &'a ArtifactSpec,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    let reason = format!(
        "cadence {} has no fire time in the last 30 years; check its cron expression",
        spec.cadence.name()
    );
    ResultRow {
        owner_repo: Some(shared.owners.get(&spec.owner_repo)),
        cadence: Some(shared.cadences.get(spec.cadence.name())),
        s3_bucket: Some(shared.buckets.get(&spec.s3_bucket)),
        ..unjudged_row(spec, reason, now)
    }
}

/// The row of an artifact whose judging hit a bug (a panic): `probe_failed`, so it alerts
/// (the monitor cannot see it), while the rest of the pass goes on.
pub(super) fn internal_error_row(
    spec: &ArtifactSpec,
    message: &str,
    now: DateTime<Utc>,
) -> ResultRow {
    let reason = format!(
        "internal error while judging this artifact (a bug in freshness-monitor; please report \
         it): {message}"
    );
    unjudged_row(spec, reason, now)
}

/// A row for a valid artifact that got no verdict: no cycle, `probe_failed`, the template
/// instead of a rendered key, alerting once per UTC day.
fn unjudged_row(spec: &ArtifactSpec, reason: String, now: DateTime<Utc>) -> ResultRow {
    ResultRow {
        owner_repo: Some(Arc::clone(&spec.owner_repo)),
        severity: Some(spec.severity),
        cadence: Some(Arc::from(spec.cadence.name())),
        canonical_key: Some(spec.s3_key_template.source().to_string()),
        s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
        extensions: spec.extensions().cloned(),
        ..no_verdict_row(spec.id.as_str(), reason, now)
    }
}
