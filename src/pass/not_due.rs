//! A deadline pass probes only what is due (docs/lambda.md#deadline-passes).
//!
//! The deadline schedule runs a pass at the moment some artifact starts to alert; probing the
//! artifacts that are not yet due then cannot send an alert, only learn a landing the next
//! 15-minute pass learns anyway. So in a deadline pass an artifact whose due time + 1 minute
//! is still ahead, and which an earlier pass already probed in this cycle and left missing or
//! stale (the ledger says so), keeps that verdict without a probe: its row says so, with the
//! time of that probe in `last_probed_at`. Everything else is judged as in any pass: due
//! artifacts, settled ones, and not-yet-due ones this cycle has not probed yet.
//!
//! With object events on (`OBJECT_EVENTS=on`, docs/lambda.md#object-created-events) every pass
//! does the same: the event tells a landing before its deadline, so a probe of an artifact not
//! yet due would only learn it early. After the deadline it is probed as before (a lost event
//! costs only latency, never a missed alert). With events on, the cycle's first probe is spared
//! too where the event would tell the landing (the core's [`crate::ledger::awaiting`]): the
//! row then says it waits for its event ([`awaiting_event_row`]).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::rows::{RowStringPool, row};
use crate::cadence::Cycle;
use crate::classify::{Classification, ResolvedKeys, State};
use crate::deadline::ALERTS_AFTER_DUE;
use crate::ledger::Ledger;
use crate::ledger::awaiting::awaits_event;
use crate::registry::ArtifactSpec;
use crate::report::ResultRow;
use crate::text::Rfc3339;

/// Why a pass may keep a not-yet-due artifact's verdict without a probe, if it may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SkipNotDue {
    /// Every artifact that needs a probe gets one.
    Never,
    /// A deadline pass: it runs for the artifacts that start to alert.
    DeadlinePass,
    /// Object events on: a landing before the deadline comes as an event.
    ObjectEvents,
}

impl SkipNotDue {
    /// What the pass's settings allow (a deadline pass says so first).
    pub(super) fn of(probe_only_due: bool, object_events: bool) -> SkipNotDue {
        match (probe_only_due, object_events) {
            (true, _) => SkipNotDue::DeadlinePass,
            (false, true) => SkipNotDue::ObjectEvents,
            (false, false) => SkipNotDue::Never,
        }
    }

    /// The end of the row's reason: why this pass did not probe.
    fn why(self) -> &'static str {
        match self {
            SkipNotDue::ObjectEvents => "object events report its landing, so this pass",
            SkipNotDue::DeadlinePass | SkipNotDue::Never => "so this deadline pass",
        }
    }
}

/// The row of an artifact not yet due that the ledger saw missing or stale in this cycle, or
/// `None` when it needs its probe.
pub(super) fn not_yet_due_row<'a>(
    ledger: &Ledger,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    (skip, shared): (SkipNotDue, &mut RowStringPool<'a>),
) -> Option<ResultRow> {
    if skip == SkipNotDue::Never {
        return None;
    }
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
    let reason = format!(
        "{} when last probed at {}; not yet due (alerts from {}), {} did not probe it",
        entry.state,
        Rfc3339(last_probe),
        Rfc3339(alerts_from),
        skip.why()
    );
    let verdict = not_yet_due(entry.state, reason);
    let context: Arc<_> = shared.context(spec, cycle);
    let mut finished = row(spec, keys, context, verdict);
    finished.set_last_probed_at(Some(last_probe));
    Some(finished)
}

/// The row of an artifact not yet due that no pass has probed in this cycle, when object events
/// will tell its landing ([`awaits_event`]), or `None` when it needs its probe. `missing` (not
/// seen this cycle), not alerting, no `last_probed_at`; the reason says why and until when.
pub(super) fn awaiting_event_row<'a>(
    ledger: &Ledger,
    spec: &'a ArtifactSpec,
    cycle: &'a Cycle,
    now: DateTime<Utc>,
    shared: &mut RowStringPool<'a>,
) -> Option<ResultRow> {
    let keys = ResolvedKeys::resolve(spec, cycle);
    let alerts_from = keys.due_at.checked_add_signed(ALERTS_AFTER_DUE)?;
    if !awaits_event(ledger, spec, cycle, alerts_from, now) {
        return None;
    }
    // Shared by the rows that alert from the same moment: a million of them are a few texts.
    let reason = shared.reason(format!(
        "not probed yet in this cycle: not yet due (alerts from {}), object events report its \
         landing, so it is probed then if no event came",
        Rfc3339(alerts_from)
    ));
    let verdict = not_yet_due(State::Missing, String::new());
    let context: Arc<_> = shared.context(spec, cycle);
    Some(ResultRow {
        reason,
        awaiting_event: true,
        ..row(spec, keys, context, verdict)
    })
}

/// A verdict reached without a probe before the alerting moment: nothing seen, nothing late.
fn not_yet_due(state: State, reason: String) -> Classification {
    Classification {
        state,
        reason,
        last_modified: None,
        sla_violated_by_minutes: 0,
        recovery_substituted: false,
        off_cycle_key: None,
        content_seen: None,
        set: None,
    }
}
