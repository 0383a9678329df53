//! The records of the cycles a pass closed, as a pure function of the ledger read at its start,
//! its rows and the registry.
//!
//! An artifact's cycle closes when a pass judges it in another cycle than the one its ledger
//! entry is about; that entry then holds everything the passes learned about the old cycle
//! (when they saw it fresh and its LastModified, whether it ended missing, whether an alert
//! went out). The old cycle's tick is found by walking the cadence back from the new cycle
//! (one step, unless the monitor was down for some cycles); a cycle that walk cannot find
//! within [`MAX_WALK`] cycles (the cadence itself changed) is not recorded: the history
//! probes it as it probes any cycle the log does not hold.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::record::{KnownBy, Outcome, OutcomeRecord, SCHEMA_VERSION};
use crate::cadence::Cycle;
use crate::cadence::window::{self, WindowCheck};
use crate::classify::{ResolvedKeys, State, grace_ends_at, minutes_past};
use crate::ledger::{Ledger, LedgerEntry, LedgerTime};
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};
use crate::report::ResultRow;

/// The most cycles walked back to find a closed one (a 15-minute feed's 10 days).
pub const MAX_WALK: usize = 1000;

/// The cycles closed by a pass at `now` whose `rows` move artifacts out of the cycles their
/// entries in `before` are about, in row order.
pub fn closed_cycles(
    before: &Ledger,
    rows: &[ResultRow],
    registry: &Registry,
    now: DateTime<Utc>,
) -> Vec<OutcomeRecord> {
    let closing: Vec<(&ResultRow, &LedgerEntry)> = rows
        .iter()
        .filter_map(|row| {
            let label = row.cycle_label()?;
            let entry = before.artifacts.get(&row.artifact_id)?;
            (*entry.cycle != *label).then_some((row, entry))
        })
        .collect();
    if closing.is_empty() {
        return Vec::new();
    }
    let specs: HashMap<&str, &ArtifactSpec> = registry
        .entries
        .iter()
        .filter_map(|e| match e {
            RegistryEntry::Valid(spec) => Some((spec.id.as_str(), spec)),
            RegistryEntry::Invalid(_) => None,
        })
        .collect();
    let recorded_at = LedgerTime::saturating_from(now);
    closing
        .into_iter()
        .filter_map(|(row, entry)| {
            let spec = specs.get(&*row.artifact_id)?;
            let cycle = find_cycle(spec, registry, row.context.cycle_tick?, &entry.cycle)?;
            let mut record = record(spec, &cycle, entry, recorded_at);
            let counted = (spec.is_set())
                .then(|| before.sets.get(&row.artifact_id, &entry.cycle))
                .flatten();
            if let Some(count) = counted {
                record.set_total = Some(count.total);
                record.set_written = Some(count.written);
            }
            Some(record)
        })
        .collect()
}

/// The cycle labelled `label`, walking back from the one before `current_tick`.
fn find_cycle(
    spec: &ArtifactSpec,
    registry: &Registry,
    current_tick: DateTime<Utc>,
    label: &str,
) -> Option<Cycle> {
    let mut at = current_tick.checked_sub_signed(Duration::seconds(1))?;
    for _ in 0..MAX_WALK {
        let cycle = spec.cadence.cycle_at(at, &registry.calendar)?;
        if cycle.label == label {
            return Some(within_windows(spec, cycle));
        }
        at = cycle.tick.checked_sub_signed(Duration::seconds(1))?;
    }
    None
}

/// The cycle as the artifact's active windows make it (the history's reading of a bucket).
fn within_windows(spec: &ArtifactSpec, cycle: Cycle) -> Cycle {
    let Some(windows) = spec.active_windows() else {
        return cycle;
    };
    let end = (cycle.tick)
        .checked_add_signed(cycle.length)
        .unwrap_or(DateTime::<Utc>::MAX_UTC);
    let (check, tick) = window::check_bucket(windows, cycle.tick, end);
    Cycle {
        tick,
        window: Some(check),
        ..cycle
    }
}

/// Whether anything was expected of `spec` in `cycle`: the history's rule
/// (`history::plan::not_expected`, which a history test holds this to).
pub fn expected(spec: &ArtifactSpec, cycle: &Cycle) -> bool {
    !(cycle.tick < grace_ends_at(spec, cycle)
        || matches!(cycle.window, Some(WindowCheck::Outside(_)))
        || (cycle.closure.is_some() && spec.calendar_aware))
}

/// The record of `cycle`, closed with `entry` as the passes left it.
fn record(
    spec: &ArtifactSpec,
    cycle: &Cycle,
    entry: &LedgerEntry,
    recorded_at: LedgerTime,
) -> OutcomeRecord {
    let keys = ResolvedKeys::resolve(spec, cycle);
    let due = keys.due_at;
    let tick = LedgerTime::saturating_from(cycle.tick);
    let expected = expected(spec, cycle);
    let landed = entry.fresh_at.and(entry.last_modified);
    let outcome = match (expected, landed) {
        (false, _) => Outcome::NotExpected,
        (true, Some(at)) if at.to_utc() <= due => Outcome::OnTime,
        (true, Some(_)) => Outcome::Late,
        // Seen missing by a probe; a cycle left unprobed awaiting its event is not known.
        (true, None)
            if matches!(entry.state, State::Missing | State::Stale)
                && entry.first_missing_at.is_some() =>
        {
            Outcome::Missing
        }
        (true, None) => Outcome::Unknown,
    };
    let known_by = match outcome {
        Outcome::OnTime | Outcome::Late | Outcome::Missing => KnownBy::Pass,
        Outcome::Unknown | Outcome::NotExpected if landed.is_some() => KnownBy::Pass,
        Outcome::Unknown | Outcome::NotExpected => KnownBy::None,
    };
    // On time or late only says something of a cycle that was expected.
    let judged = landed.filter(|_| expected);
    let alerted = entry.alert_out || entry.last_alert_at.is_some_and(|at| at >= tick);
    OutcomeRecord {
        schema_version: SCHEMA_VERSION,
        artifact_id: spec.id.as_str().into(),
        cadence: spec.cadence.name().into(),
        cycle_label: cycle.label.as_str().into(),
        tick,
        due_at: LedgerTime::saturating_from(due),
        expected,
        outcome,
        landed_at: landed,
        on_time: judged.map(|at| at.to_utc() <= due),
        minutes_late: judged.map(|at| minutes_past(at.to_utc(), due)),
        alerted,
        known_by,
        s3_bucket: spec.s3_bucket.as_ref().into(),
        s3_key: keys.canonical_key.into(),
        recorded_at,
        set_total: None,
        set_written: None,
    }
}
