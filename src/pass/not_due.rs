//! A deadline pass probes only what is due (docs/lambda.md#deadline-passes).
//!
//! The deadline schedule runs a pass at the moment some artifact starts to alert; probing the
//! artifacts that are not yet due then cannot send an alert, only learn a landing the next
//! 15-minute pass learns anyway. So in a deadline pass an artifact whose due time + 1 minute
//! is still ahead, and which an earlier pass already probed in this cycle and left missing or
//! stale (the ledger says so), keeps that verdict without a probe: its row says so, with the
//! time of that probe in `last_probed_at`. Everything else is judged as in any pass: due
//! artifacts, settled ones, and not-yet-due ones this cycle has not probed yet.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::rows::{RowStringPool, row};
use crate::cadence::Cycle;
use crate::classify::{Classification, ResolvedKeys, State};
use crate::deadline::ALERTS_AFTER_DUE;
use crate::ledger::Ledger;
use crate::registry::ArtifactSpec;
use crate::report::ResultRow;
use crate::text::Rfc3339;

/// The row of an artifact not yet due that the ledger saw missing or stale in this cycle, or
/// `None` when it needs its probe.
pub(super) fn not_yet_due_row<'a>(
    ledger: &Ledger,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> Option<ResultRow> {
    // An off-cycle artifact or a set is judged from a listing, never from the ledger alone
    // (a set's row carries the members the listing found missing).
    if spec.off_cycle().is_some() || spec.is_set() {
        return None;
    }
    let entry = ledger.in_cycle(spec.id.as_str(), &cycle.label)?;
    if !matches!(entry.state, State::Missing | State::Stale) {
        return None;
    }
    let last_probe = entry.last_probe_at?.to_utc();
    let keys = ResolvedKeys::resolve(spec, cycle);
    let alerts_from = keys.due_at.checked_add_signed(ALERTS_AFTER_DUE)?;
    if alerts_from <= now || last_probe < cycle.tick || last_probe > now {
        return None;
    }
    let verdict = Classification {
        state: entry.state,
        reason: format!(
            "{} when last probed at {}; not yet due (alerts from {}), so this deadline pass did \
             not probe it",
            entry.state,
            Rfc3339(last_probe),
            Rfc3339(alerts_from)
        ),
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        off_cycle_key: None,
        content_seen: None,
        set: None,
    };
    let context: Arc<_> = shared.context(spec, cycle);
    let mut finished = row(spec, keys, context, verdict);
    finished.set_last_probed_at(Some(last_probe));
    Some(finished)
}
