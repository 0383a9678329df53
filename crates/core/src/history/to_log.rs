//! The history's compacted log: every expected cycle of the scan's window as what the history
//! keeps of a record, so the next scan reads one object instead of every pass's, and does not
//! probe again what this one learned.
//!
//! A cycle the outcome log answered keeps its record's `known_by`, `alerted` and
//! `recorded_at` (its last look); one this scan probed becomes `known_by: "recheck"`, looked at
//! `now`. Records of cycles that left the window are dropped, so the object stays the size of
//! the window. The shell writes it (`outcome_log::compacted`) as
//! `history_outcomes.ndjson.gz`: a header line, then one packed line per artifact
//! (`outcome_log::packed`).

use chrono::{DateTime, Utc};

use super::cell::CellOutcome;
use super::{ArtifactHistory, History};
use crate::cadence::Cycle;
use crate::classify::ResolvedKeys;
use crate::ledger::LedgerTime;
use crate::ledger::probe_fingerprint;
use crate::outcome_log::packed::{PackedArtifact, PackedCycle, PackedSetCycle};
use crate::outcome_log::{KnownBy, LogIndex, Outcome, Recorded};

/// Each artifact of `history` with the records of its expected cycles, in artifact then cycle
/// order.
pub fn packed_artifacts<'a>(
    history: &'a History<'a>,
    log: Option<&'a LogIndex>,
    now: DateTime<Utc>,
) -> impl Iterator<Item = PackedArtifact<'a>> + 'a {
    history
        .artifacts
        .iter()
        .map(move |a| packed_artifact(a, log, now))
}

/// One artifact's recorded cycles, with a set's counts beside them.
pub fn packed_artifact<'a>(
    a: &'a ArtifactHistory<'a>,
    log: Option<&LogIndex>,
    now: DateTime<Utc>,
) -> PackedArtifact<'a> {
    let mut cycles = Vec::new();
    let mut sets = Vec::new();
    for (i, ((cycle, cell), probed)) in a.cycles().zip(&a.probed).enumerate() {
        let Some(recorded) = record_of(a, cycle, cell, *probed, log, now) else {
            continue;
        };
        if let Some(set) = a.set_cycle(i) {
            sets.push(PackedSetCycle::of(recorded.tick, set));
        }
        cycles.push(PackedCycle::of(&recorded));
    }
    PackedArtifact {
        id: a.spec.id.as_str().into(),
        cycles,
        sets,
    }
}

fn record_of(
    a: &ArtifactHistory<'_>,
    cycle: &Cycle,
    cell: &CellOutcome,
    probed: bool,
    log: Option<&LogIndex>,
    now: DateTime<Utc>,
) -> Option<Recorded> {
    let (outcome, landed) = match cell {
        CellOutcome::NotExpected(_) => return None,
        CellOutcome::Landed(l) if l.on_time => (Outcome::OnTime, Some(l.meta.last_modified)),
        CellOutcome::Landed(l) => (Outcome::Late, Some(l.meta.last_modified)),
        CellOutcome::Absent { .. } => (Outcome::Missing, None),
        CellOutcome::Failed(_) => (Outcome::Unknown, None),
    };
    let spec = a.spec;
    let held = log.and_then(|l| l.get(spec.id.as_str(), cycle.tick));
    let now = LedgerTime::saturating_from(now);
    let (known_by, checked_at) = match held {
        Some(h) if !probed => (h.known_by, h.checked_at),
        None if !probed => (KnownBy::Pass, now), // the ledger's current cycle
        _ => (KnownBy::Recheck, now),
    };
    // A record that answered without a probe names the key the registry renders now (else
    // it would have been probed as `template_changed`): no need to render it again.
    let key_fingerprint = match held {
        Some(h) if !probed => h.key_fingerprint,
        _ => probe_fingerprint(
            &spec.s3_bucket,
            &ResolvedKeys::resolve(spec, cycle).canonical_key,
        ),
    };
    Some(Recorded {
        tick: LedgerTime::saturating_from(cycle.tick),
        landed_at: landed.map(LedgerTime::saturating_from),
        checked_at,
        outcome,
        alerted: held.is_some_and(|h| h.alerted),
        known_by,
        key_fingerprint,
    })
}
