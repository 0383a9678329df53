//! The history's compacted log: every expected cycle of the scan's window as an outcome
//! record, so the next scan reads one object instead of every pass's, and does not probe again
//! what this one learned.
//!
//! A cycle the outcome log answered keeps its record's `known_by`, `alerted` and
//! `recorded_at` (its last look); one this scan probed becomes `known_by: "recheck"`, looked at
//! `now`. Records of cycles that left the window are dropped, so the object stays the size of
//! the window. The shell writes it (`outcome_log::compacted`) as
//! `history_outcomes.ndjson.gz`: a header line, then records in the log's schema.

use chrono::{DateTime, Utc};

use super::cell::CellOutcome;
use super::{ArtifactHistory, History};
use crate::cadence::Cycle;
use crate::classify::ResolvedKeys;
use crate::ledger::LedgerTime;
use crate::outcome_log::{KnownBy, LogIndex, Outcome, OutcomeRecord, SCHEMA_VERSION};

/// The records of every expected cycle of `history`, in artifact then cycle order.
pub fn records<'a>(
    history: &'a History<'a>,
    log: Option<&'a LogIndex>,
    now: DateTime<Utc>,
) -> impl Iterator<Item = OutcomeRecord> + 'a {
    history.artifacts.iter().flat_map(move |a| {
        a.cycles()
            .zip(&a.probed)
            .enumerate()
            .filter_map(move |(i, ((cycle, cell), probed))| {
                let record = record_of(a, cycle, cell, *probed, log, now)?;
                Some(with_set(record, a.set_cycle(i)))
            })
    })
}

fn record_of(
    a: &ArtifactHistory<'_>,
    cycle: &Cycle,
    cell: &CellOutcome,
    probed: bool,
    log: Option<&LogIndex>,
    now: DateTime<Utc>,
) -> Option<OutcomeRecord> {
    let (outcome, landed) = match cell {
        CellOutcome::NotExpected(_) => return None,
        CellOutcome::Landed(l) if l.on_time => (Outcome::OnTime, Some(l.meta.last_modified)),
        CellOutcome::Landed(l) => (Outcome::Late, Some(l.meta.last_modified)),
        CellOutcome::Absent { .. } => (Outcome::Missing, None),
        CellOutcome::Failed(_) => (Outcome::Unknown, None),
    };
    let spec = a.spec;
    let keys = ResolvedKeys::resolve(spec, cycle);
    let held = log.and_then(|l| l.get(spec.id.as_str(), cycle.tick));
    let now = LedgerTime::saturating_from(now);
    let (known_by, checked_at) = match held {
        Some(h) if !probed => (h.known_by, h.checked_at),
        None if !probed => (KnownBy::Pass, now), // the ledger's current cycle
        _ => (KnownBy::Recheck, now),
    };
    let landed = landed.map(LedgerTime::saturating_from);
    let judged = |f: fn(LedgerTime, DateTime<Utc>) -> i64| landed.map(|at| f(at, keys.due_at));
    Some(OutcomeRecord {
        schema_version: SCHEMA_VERSION,
        artifact_id: spec.id.as_str().into(),
        cadence: spec.cadence.name().into(),
        cycle_label: cycle.label.as_str().into(),
        tick: LedgerTime::saturating_from(cycle.tick),
        due_at: LedgerTime::saturating_from(keys.due_at),
        expected: true,
        outcome,
        landed_at: landed,
        on_time: landed.map(|at| at.to_utc() <= keys.due_at),
        minutes_late: judged(|at, due| crate::classify::minutes_past(at.to_utc(), due)),
        alerted: held.is_some_and(|h| h.alerted),
        known_by,
        s3_bucket: spec.s3_bucket.as_ref().into(),
        s3_key: keys.canonical_key.into(),
        recorded_at: checked_at,
        set_total: None,
        set_written: None,
    })
}

/// The record with a set's counts, when known.
fn with_set(record: OutcomeRecord, set: Option<crate::outcome_log::SetCycle>) -> OutcomeRecord {
    OutcomeRecord {
        set_total: set.map(|s| s.total),
        set_written: set.map(|s| s.written),
        ..record
    }
}
