//! Walking a cadence back through its past cycles, as pure functions of `now`.
//!
//! The history scan asks "did it land in each of the last N cycles?", so it needs the cycles
//! themselves: their ticks, labels, dates and closures, exactly as a pass at each of those
//! moments would have seen them. [`Cadence::cycle_at`] gives the cycle at any instant; the one
//! before a cycle is the cycle one second before its tick. Only cycles whose due time has
//! passed are walked: a cycle still inside its SLA cannot be late or missing yet.

use chrono::{DateTime, Duration, Utc};

use crate::cadence::{Cadence, Cycle};
use crate::calendar::TradingCalendar;

/// The newest cycle whose due time (tick + SLA) has passed at `now` is the cycle at
/// `now − SLA`; `None` when that instant is before anything chrono can hold.
pub fn settled_at(now: DateTime<Utc>, sla_minutes: u32) -> Option<DateTime<Utc>> {
    now.checked_sub_signed(Duration::minutes(i64::from(sla_minutes)))
}

/// Up to `n` cycles of `cadence`, newest first, starting with the cycle at `start`. Fewer when
/// a cron schedule has no earlier fire time (or time itself runs out).
pub fn walk_back(
    cadence: &Cadence,
    calendar: &TradingCalendar,
    start: DateTime<Utc>,
    n: usize,
) -> Vec<Cycle> {
    let mut cycles = Vec::with_capacity(n.min(MAX_PREALLOCATED));
    let mut at = start;
    while cycles.len() < n {
        let Some(cycle) = cadence.cycle_at(at, calendar) else {
            break;
        };
        let before = cycle.tick.checked_sub_signed(Duration::seconds(1));
        // Every cadence's previous tick is strictly earlier; the check keeps a bug from
        // looping here forever.
        let went_back = cycles
            .last()
            .is_none_or(|last: &Cycle| cycle.tick < last.tick);
        if !went_back {
            break;
        }
        cycles.push(cycle);
        match before {
            Some(before) => at = before,
            None => break,
        }
    }
    cycles
}

/// A lookback of 1,000 cycles is allowed, but most walks are 12 to 168 long: reserve that much
/// and let the rare long one grow.
const MAX_PREALLOCATED: usize = 256;

/// How many cycles of `cadence` ticked in the `window` before `now` (the one at `now`
/// included), counting at most `cap`.
pub fn cycles_within(
    cadence: &Cadence,
    calendar: &TradingCalendar,
    now: DateTime<Utc>,
    window: Duration,
    cap: usize,
) -> usize {
    let Some(since) = now.checked_sub_signed(window) else {
        return cap;
    };
    walk_back(cadence, calendar, now, cap)
        .iter()
        .take_while(|c| c.tick > since)
        .count()
}
