//! The next deadline: after a pass, the first moment strictly after its `now` at which some
//! artifact not yet settled for its cycle would start to alert if nothing lands
//! (docs/lambda.md#deadline-passes).
//!
//! Polling every 15 minutes alerts a deadline that falls between two passes (a cron at :07, an
//! SLA of 50 minutes) up to 15 minutes late. The Lambda sets one EventBridge Scheduler schedule
//! at the moment this module names, so the pass that alerts runs then. The answer is pure: the
//! registry, the pass's rows and `now` in, one time out.
//!
//! An artifact alerts once it is a whole minute past its due time (`sla_violated_by_minutes >
//! 0`, docs/classification.md), so the moment that matters is `due_at + 1 minute`, called
//! `alerts_from` here. Per artifact:
//! - its row is missing or stale and not yet alerting: this cycle's `alerts_from`;
//! - its row is fresh (landed, closed market day, outside its windows) or already alerting:
//!   the first later cycle whose `alerts_from` is after `now`, skipping cycles it is not
//!   expected in (a calendar-aware closure, outside its active windows, in its grace period)
//!   and cycles it is never late in (an SLA as long as the cycle);
//! - its row is in its grace period: as fresh, but this cycle counts when the grace ends
//!   before it is due.
//!
//! A pass at a million artifacts asks this once: cadences repeat, so the later cycles of each
//! (cadence, SLA, calendar-awareness) are walked once and remembered, except for artifacts with
//! active windows or a grace period reaching into the answer, which are walked on their own.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use crate::cadence::window::WindowCheck;
use crate::cadence::{Cadence, Cycle};
use crate::calendar::TradingCalendar;
use crate::classify::{State, grace_ends_at};
use crate::registry::{ArtifactSpec, Registry, RegistryEntry};
use crate::report::ResultRow;

/// How far past its due time an artifact first alerts: one whole minute late.
pub const ALERTS_AFTER_DUE: Duration = Duration::minutes(1);

/// How far ahead of `now` later cycles are searched: a week and a day covers the weekly
/// cadence over a closed Saturday. Beyond it, the every-15-minute passes are the safety net.
pub const HORIZON: Duration = Duration::days(8);

/// The most later cycles walked for one artifact (a cron every minute outside its windows
/// for hours would otherwise walk them all).
const MAX_CYCLES: usize = 400;

/// The first moment an artifact would start to alert, and which artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextDeadline {
    /// The first moment it alerts if it has not landed: its `due_at` plus one minute.
    pub alerts_from: DateTime<Utc>,
    /// Its due time in that cycle.
    pub due_at: DateTime<Utc>,
    /// The artifact (the first in registry order when several share the moment).
    pub artifact_id: String,
}

/// The next deadline after a pass at `now` over `registry`, given the pass's `rows` (one per
/// entry, in registry order; a pass over `only` some ids gives no answer, since it did not
/// judge the rest). `None` when nothing is due within [`HORIZON`].
pub fn next_deadline(
    registry: &Registry,
    rows: &[ResultRow],
    now: DateTime<Utc>,
) -> Option<NextDeadline> {
    if rows.len() != registry.entries.len() {
        return None;
    }
    let mut walker = Walker {
        calendar: &registry.calendar,
        now,
        remembered: HashMap::new(),
        current: HashMap::new(),
    };
    let mut best: Option<NextDeadline> = None;
    for (entry, row) in registry.entries.iter().zip(rows) {
        let RegistryEntry::Valid(spec) = entry else {
            continue;
        };
        if *row.artifact_id != *spec.id.as_str() {
            return None;
        }
        let Some(due_at) = walker.artifact_due(spec, row) else {
            continue;
        };
        let alerts_from = due_at + ALERTS_AFTER_DUE;
        if best.as_ref().is_none_or(|b| alerts_from < b.alerts_from) {
            best = Some(NextDeadline {
                alerts_from,
                due_at,
                artifact_id: spec.id.as_str().to_string(),
            });
        }
    }
    best
}

/// A cadence as far as its cycles go: its name, and a continuous cadence's interval (every
/// continuous cadence is named `continuous`).
type CadenceKey<'r> = (&'r str, u32);

fn cadence_key(cadence: &Cadence) -> CadenceKey<'_> {
    match cadence {
        Cadence::Continuous { interval_minutes } => (cadence.name(), *interval_minutes),
        _ => (cadence.name(), 0),
    }
}

/// Walks later cycles, remembering the answer of artifacts that share it.
struct Walker<'r> {
    calendar: &'r TradingCalendar,
    now: DateTime<Utc>,
    /// (cadence, SLA minutes, calendar-aware) → the first due time of a later cycle.
    remembered: HashMap<(CadenceKey<'r>, u32, bool), Option<DateTime<Utc>>>,
    /// Each cadence's cycle at `now`.
    current: HashMap<CadenceKey<'r>, Option<Cycle>>,
}

impl<'r> Walker<'r> {
    /// The due time of the artifact's next deadline, `None` when none is within the horizon.
    fn artifact_due(&mut self, spec: &'r ArtifactSpec, row: &ResultRow) -> Option<DateTime<Utc>> {
        let this_cycle = match row.state {
            State::Missing | State::Stale | State::Suspect if !row.alerting => row.due_at(),
            _ => None,
        };
        if let Some(due) = this_cycle.filter(|due| *due + ALERTS_AFTER_DUE > self.now) {
            return Some(due);
        }
        let (now, calendar) = (self.now, self.calendar);
        let current = (self.current.entry(cadence_key(&spec.cadence)))
            .or_insert_with(|| spec.cadence.cycle_at(now, calendar))
            .clone()?;
        if row.state == State::GracePeriod {
            return self.walk(spec, current, true);
        }
        // Artifacts alike share the walk, unless windows move their ticks or a grace period
        // may still skip some of their cycles.
        let alike = spec.active_windows().is_none() && grace_ends_at(spec, &current) <= self.now;
        if !alike {
            return self.walk(spec, current, false);
        }
        let key = (
            cadence_key(&spec.cadence),
            spec.sla_minutes_after_cron,
            spec.calendar_aware,
        );
        if let Some(answer) = self.remembered.get(&key) {
            return *answer;
        }
        let answer = self.walk(spec, current, false);
        self.remembered.insert(key, answer);
        answer
    }

    /// The first cycle from `current` (itself included when `include_current`) in which the
    /// artifact is expected and would alert after `now`: its due time.
    fn walk(
        &self,
        spec: &ArtifactSpec,
        current: Cycle,
        include_current: bool,
    ) -> Option<DateTime<Utc>> {
        let sla = Duration::minutes(i64::from(spec.sla_minutes_after_cron));
        let mut cycle = current;
        if !include_current {
            cycle = next_cycle(spec, &cycle, self.calendar)?;
        }
        for _ in 0..MAX_CYCLES {
            if cycle.tick > self.now + HORIZON {
                return None;
            }
            if let Some(due) = self.expected_due(spec, &cycle, sla) {
                return Some(due);
            }
            cycle = next_cycle(spec, &cycle, self.calendar)?;
        }
        None
    }

    /// The cadence's `cycle` as the artifact is judged in it at its due time: its due time
    /// when the artifact is expected then and would alert after `now`.
    fn expected_due(
        &self,
        spec: &ArtifactSpec,
        cycle: &Cycle,
        sla: Duration,
    ) -> Option<DateTime<Utc>> {
        let mut due = cycle.tick.checked_add_signed(sla)?;
        let mut judged = spec.cycle_at(due, self.calendar)?;
        // Active windows move the tick to the window's opening: due that much later.
        let moved = judged.tick.checked_add_signed(sla)?;
        if moved > due {
            due = moved;
            judged = spec.cycle_at(due, self.calendar)?;
        }
        let expected = judged.label == cycle.label
            && due + ALERTS_AFTER_DUE > self.now
            && !matches!(judged.window, Some(WindowCheck::Outside(_)))
            && !(judged.closure.is_some() && spec.calendar_aware)
            && due >= grace_ends_at(spec, &judged);
        expected.then_some(due)
    }
}

/// The cadence's cycle after `cycle` (its own, without the artifact's windows).
fn next_cycle(spec: &ArtifactSpec, cycle: &Cycle, calendar: &TradingCalendar) -> Option<Cycle> {
    let step = cycle.length.max(Duration::minutes(1));
    let mut at = cycle.tick.checked_add_signed(step)?;
    // A weekday cadence's day-long cycle from a Friday lands on the weekend twice first.
    for _ in 0..8 {
        let next = spec.cadence.cycle_at(at, calendar)?;
        if next.tick > cycle.tick {
            return Some(next);
        }
        at = at.checked_add_signed(step)?;
    }
    None
}

/// When the deadline pass should run: `margin` after the deadline's `alerts_from`, or after
/// `clock` when that is already past (a pass judging an old `now`), on a whole second
/// (Scheduler's `at()` has no fractions: rounded up, never early).
pub fn pass_time(deadline: &NextDeadline, margin: Duration, clock: DateTime<Utc>) -> DateTime<Utc> {
    let wanted = deadline.alerts_from.max(clock) + margin;
    let whole = DateTime::from_timestamp(wanted.timestamp(), 0).unwrap_or(wanted);
    if whole < wanted {
        whole + Duration::seconds(1)
    } else {
        whole
    }
}

/// EventBridge Scheduler's one-time expression for `at`: `at(yyyy-mm-ddThh:mm:ss)`, read in
/// the schedule's time zone (the schedule says UTC).
pub fn at_expression(at: DateTime<Utc>) -> String {
    format!("at({})", at.format("%Y-%m-%dT%H:%M:%S"))
}

#[cfg(test)]
mod tests;
