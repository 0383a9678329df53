//! Building result rows: one per artifact, what rows repeat (owner, cadence, cycle label,
//! bucket: the row's context; reasons reached without a probe) shared between them.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroU32;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::cadence::Cycle;
use crate::classify::{self, Classification, ResolvedKeys};
use crate::registry::{ArtifactSpec, InvalidArtifact};
use crate::report::{InvalidEntryRow, Reason, ResultRow, RowContext, RowExtras, Stamp};

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

/// One pool per row field the specs do not already share (the owner and the bucket are the
/// specs' own `Arc<str>`s), so each pool's last-string check mostly hits; the contexts built
/// from them; and the reasons of verdicts reached without a probe (a closure's, a grace
/// period's), which whole cadences share word for word.
#[derive(Default)]
pub(super) struct RowStringPool<'a> {
    cadences: SharedStrings<'a>,
    labels: SharedStrings<'a>,
    contexts: HashSet<Arc<RowContext>>,
    last_context: Option<Arc<RowContext>>,
    reasons: HashSet<Arc<str>>,
}

impl<'a> RowStringPool<'a> {
    /// The shared context of `spec`'s row in `cycle`.
    pub(super) fn context(&mut self, spec: &'a ArtifactSpec, cycle: &'a Cycle) -> Arc<RowContext> {
        let context = RowContext {
            owner_repo: Some(Arc::clone(&spec.owner_repo)),
            cadence: Some(self.cadences.get(spec.cadence.name())),
            cycle_label: Some(self.labels.get(&cycle.label)),
            cycle_tick: Some(cycle.tick),
            s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
        };
        self.share(context)
    }

    /// One shared copy of each context.
    fn share(&mut self, context: RowContext) -> Arc<RowContext> {
        if let Some(last) = self.last_context.as_ref().filter(|l| ***l == context) {
            return Arc::clone(last);
        }
        let shared = match self.contexts.get(&context) {
            Some(known) => Arc::clone(known),
            None => {
                let new = Arc::new(context);
                self.contexts.insert(Arc::clone(&new));
                new
            }
        };
        self.last_context = Some(Arc::clone(&shared));
        shared
    }

    /// One shared copy of a reason that rows repeat.
    pub(super) fn reason(&mut self, text: String) -> Reason {
        if let Some(known) = self.reasons.get(text.as_str()) {
            return Reason::Said(Arc::clone(known));
        }
        let new: Arc<str> = Arc::from(text);
        self.reasons.insert(Arc::clone(&new));
        Reason::Said(new)
    }
}

/// A broken entry has no cycle of its own: it alerts once per UTC day until it is fixed.
pub(super) fn broken_entry_dedup_key(label: &str, now: DateTime<Utc>) -> String {
    crate::report::broken_entry_dedup_key(label, now.date_naive())
}

/// The row of a judged artifact, its reason held as [`ResultRow::set_reason`] finds best.
pub(super) fn row(
    spec: &ArtifactSpec,
    keys: ResolvedKeys,
    context: Arc<RowContext>,
    mut verdict: Classification,
) -> ResultRow {
    let reason = std::mem::take(&mut verdict.reason);
    let mut row = ResultRow {
        severity: Some(spec.severity),
        canonical_key: Some(keys.canonical_key.into_boxed_str()),
        alerting: verdict.is_alerting(),
        last_modified: verdict.last_modified.map(Stamp::new),
        sla_violated_by_minutes: verdict.sla_violated_by_minutes,
        recovery_substituted: verdict.recovery_substituted,
        due_at: Some(Stamp::new(keys.due_at)),
        carried: spec.carried().cloned(),
        context,
        ..ResultRow::blank(spec.id.shared(), verdict.state, Reason::Derived)
    };
    row.set_off_cycle_key(verdict.off_cycle_key);
    row.set_content_seen(verdict.content_seen);
    row.set_set_summary(verdict.set);
    row.set_reason(reason);
    row
}

/// The row of a verdict reached without a probe (a grace period, a closure, outside the
/// active windows): its reason shared with the rows that say the same.
pub(super) fn unprobed_row<'a>(
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    mut verdict: Classification,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    let reason = shared.reason(std::mem::take(&mut verdict.reason));
    let keys = ResolvedKeys::resolve(spec, cycle);
    let context = shared.context(spec, cycle);
    ResultRow {
        reason,
        ..row(spec, keys, context, verdict)
    }
}

pub(super) fn invalid_row<'a>(
    bad: &'a InvalidArtifact,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> ResultRow {
    let context = RowContext {
        owner_repo: bad.owner_repo.clone(),
        cadence: bad.cadence.as_deref().map(|s| shared.cadences.get(s)),
        s3_bucket: bad.s3_bucket.clone(),
        ..RowContext::default()
    };
    // The reason and the daily dedup key are written from the entry's errors when asked (the
    // members of a ring of millions share theirs), not held as text.
    let invalid = InvalidEntryRow {
        errors: Arc::clone(&bad.errors),
        located_at: bad.located_at().map(|(line, _)| {
            u32::try_from(line)
                .ok()
                .and_then(NonZeroU32::new)
                .expect("an entry's line is 1-based and within u32 (MAX_REGISTRY_BYTES)")
        }),
        day: now.date_naive(),
    };
    ResultRow {
        severity: bad.severity,
        canonical_key: bad.s3_key_template.clone(),
        carried: bad.carried.clone(),
        context: shared.share(context),
        alerting: true,
        extras: Some(Box::new(RowExtras {
            invalid_entry: Some(invalid),
            ..RowExtras::default()
        })),
        ..ResultRow::blank(
            Arc::clone(&bad.label),
            classify::State::ProbeFailed,
            Reason::Derived,
        )
    }
}

/// A `probe_failed` row with no cycle (a cadence without a fire time, a bug; an invalid
/// entry's is [`invalid_row`]): it alerts once per UTC day until fixed. Callers fill in what
/// they know.
fn no_verdict_row(label: Arc<str>, reason: Reason, now: DateTime<Utc>) -> ResultRow {
    let dedup_key = broken_entry_dedup_key(&label, now);
    let mut row = ResultRow {
        alerting: true,
        ..ResultRow::blank(label, classify::State::ProbeFailed, reason)
    };
    row.set_dedup_key(dedup_key);
    row
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
    let context = RowContext {
        owner_repo: Some(Arc::clone(&spec.owner_repo)),
        cadence: Some(shared.cadences.get(spec.cadence.name())),
        s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
        ..RowContext::default()
    };
    ResultRow {
        context: shared.share(context),
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
        context: Arc::new(RowContext {
            owner_repo: Some(Arc::clone(&spec.owner_repo)),
            cadence: Some(Arc::from(spec.cadence.name())),
            s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
            ..RowContext::default()
        }),
        severity: Some(spec.severity),
        canonical_key: Some(Box::from(spec.s3_key_template.source())),
        carried: spec.carried().cloned(),
        ..no_verdict_row(spec.id.shared(), reason.into(), now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{RegistryEntry, parse_registry};

    #[test]
    fn rows_share_a_context_only_when_every_part_of_it_is_the_same() {
        let text = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  cadence: weekday_sf\n  \
                    sla_minutes_after_cron: 60\n  severity: critical\n  owner_repo: o\n  \
                    created_at: 2026-01-05\nartifacts:\n\
                    - {artifact_id: a, s3_key_template: \"a/{date}.json\"}\n\
                    - {artifact_id: b, s3_key_template: \"b/{date}.json\"}\n\
                    - {artifact_id: c, s3_key_template: \"c/{date}.json\", owner_repo: O}\n\
                    - {artifact_id: d, s3_key_template: \"d/{date}.json\", s3_bucket: bkt2}\n\
                    - {artifact_id: e, s3_key_template: \"e/{date}.json\", cadence: eod_sf}\n\
                    - {artifact_id: f, s3_key_template: \"f/{date}.json\"}\n";
        let registry = parse_registry("r.yaml", text.as_bytes()).unwrap();
        let now = "2026-06-05T15:00:00Z".parse().unwrap();
        let specs: Vec<&ArtifactSpec> = (registry.entries.iter())
            .map(|e| match e {
                RegistryEntry::Valid(spec) => spec,
                RegistryEntry::Invalid(bad) => panic!("{}", bad.reason()),
            })
            .collect();
        let cycles: Vec<Cycle> = (specs.iter())
            .map(|s| s.cycle_at(now, &registry.calendar).unwrap())
            .collect();
        let mut pool = RowStringPool::default();
        let contexts: Vec<Arc<RowContext>> = (specs.iter().zip(&cycles))
            .map(|(spec, cycle)| pool.context(spec, cycle))
            .collect();
        let same = |i: usize, j: usize| Arc::ptr_eq(&contexts[i], &contexts[j]);
        assert!(
            same(0, 1) && same(0, 5),
            "a, b and f (after others) share one"
        );
        assert!(!same(0, 2) && !same(0, 3) && !same(0, 4));
        assert_eq!(
            contexts[2].owner_repo.as_deref(),
            Some("O"),
            "not merged with `o`"
        );
        assert_eq!(contexts[3].s3_bucket.as_deref(), Some("bkt2"));
        assert_eq!(contexts[4].cadence.as_deref(), Some("eod_sf"));
        assert_eq!(contexts[0].cycle_tick, Some(cycles[0].tick));
    }

    #[test]
    fn shared_reasons_are_one_copy_per_text_and_never_merge_different_texts() {
        let mut pool = RowStringPool::default();
        let (Reason::Said(a), Reason::Said(b), Reason::Said(c)) = (
            pool.reason("closed".into()),
            pool.reason("closed".into()),
            pool.reason("closed!".into()),
        ) else {
            panic!("shared reasons are text");
        };
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!((&*a, &*c), ("closed", "closed!"));
    }
}
