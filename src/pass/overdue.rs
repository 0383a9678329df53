//! With object events on, an artifact already alerting is probed at growing intervals, not
//! every pass (docs/lambda.md#passes-with-events-on): the rule is the core's
//! [`crate::ledger::overdue`]; this file builds the row a pass writes when the rule spares
//! the probe.
//!
//! The row is the one a probe that found nothing would give (the same judge, the same SLA
//! figures, so the alert, its reminders and its escalation go on unchanged), its reason
//! saying the probe was spared and until when, and `last_probed_at` the probe it rests on, so
//! the ledger keeps that probe's time and the interval runs from it. Spared only when the
//! last probe of this cycle found the canonical key missing and nothing else could change the
//! verdict without the probe: no recovery key (it may substitute), no content checks, not an
//! off-cycle artifact or a set (judged from listings).

use chrono::{DateTime, Utc};

use super::rows::{RowStringPool, row};
use crate::cadence::Cycle;
use crate::classify::{
    NoLog, ProbeOutcome, Probes, ResolvedKeys, State, has_content_checks, judge,
};
use crate::deadline::ALERTS_AFTER_DUE;
use crate::ledger::Ledger;
use crate::ledger::overdue::{overdue_probe_interval, spares_overdue_probe};
use crate::registry::ArtifactSpec;
use crate::report::ResultRow;
use crate::text::Rfc3339;

/// The row of an overdue artifact the ledger saw missing in this cycle whose probe the rule
/// spares at `now`, or `None` when it needs its probe.
pub(super) fn overdue_row<'a>(
    ledger: &Ledger,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> Option<ResultRow> {
    let judged_by_probe_alone = spec.off_cycle().is_none()
        && !spec.is_set()
        && spec.recovery_key_template().is_none()
        && !has_content_checks(spec);
    if !judged_by_probe_alone {
        return None;
    }
    let entry = ledger.in_cycle(spec.id.as_str(), &cycle.label)?;
    let last_probe = entry.last_probe_at?.to_utc();
    if entry.state != State::Missing || last_probe < cycle.tick {
        return None;
    }
    let keys = ResolvedKeys::resolve(spec, cycle);
    let alerts_from = keys.due_at.checked_add_signed(ALERTS_AFTER_DUE)?;
    if !spares_overdue_probe(alerts_from, last_probe, now) {
        return None;
    }
    let not_found: ProbeOutcome = Ok(None);
    let probes = Probes {
        canonical: &not_found,
        recovery: None,
    };
    let mut verdict = judge(spec, cycle, &keys, now, probes, &mut NoLog);
    let next = last_probe + overdue_probe_interval(now - alerts_from);
    verdict.reason = format!(
        "{}; not probed by this pass: missing when last probed at {}, object events report \
         its landing, next probe by {}",
        verdict.reason,
        Rfc3339(last_probe),
        Rfc3339(next)
    );
    let context = shared.context(spec, cycle);
    let mut finished = row(spec, keys, context, verdict);
    finished.set_last_probed_at(Some(last_probe));
    Some(finished)
}
