//! The decision trail: each rule the classifier applied to one artifact, in order, with what
//! it saw. `explain` prints it, so "why did (or didn't) it alert?" is answered by the code
//! that decided, never by a second copy of the rules.
//!
//! The rules take a [`DecisionLog`]; the pass hands them [`NoLog`], whose `record` is empty
//! and inlined, so a pass over 100,000 artifacts builds no trail at all.

use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::off_cycle::Listed;
use crate::cadence::window::WindowCheck;
use crate::text::{Rfc3339, human_duration};

/// Where the classifier writes its decisions.
pub trait DecisionLog {
    /// Records the decision `make` builds; a log that keeps nothing never calls it.
    fn record(&mut self, make: impl FnOnce() -> Decision);
}

/// Keeps nothing: what the pass uses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLog;

impl DecisionLog for NoLog {
    #[inline(always)]
    fn record(&mut self, _make: impl FnOnce() -> Decision) {}
}

impl DecisionLog for Vec<Decision> {
    fn record(&mut self, make: impl FnOnce() -> Decision) {
        self.push(make());
    }
}

/// One rule applied to one artifact.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Rule 1: the grace period of a new artifact.
    Grace {
        created_at: NaiveDate,
        cycles: u32,
        cycle_length: Duration,
        ends_at: DateTime<Utc>,
        in_grace: bool,
    },
    /// Rule 2: the market-closure gate.
    Calendar(CalendarGate),
    /// Rule 2: an artifact's active windows at `now`.
    Window(WindowCheck),
    /// Rule 3 for an `off_cycle` artifact: one listing of the template's fixed prefix.
    OffCycle { prefix: String, listed: Listed },
    /// Rules 3 and 4: one HEAD and what it saw.
    Probe {
        key: KeyRole,
        url: String,
        seen: Seen,
    },
    /// Rule 4 did not probe the recovery key, and why.
    RecoverySkipped(&'static str),
    /// Rule 3's content checks on an object written since the tick (`classify::content`):
    /// one check, the sizes or cycle it compared, and what it decided.
    Content(String),
    /// Rule 3 for a set (`partitions:`): one listing of its keys' prefix, what it found.
    Set(String),
    /// Rule 5: how far past its due time a missing or stale artifact is.
    Sla {
        due_at: DateTime<Utc>,
        minutes_past: i64,
    },
}

/// What the calendar gate decided.
#[derive(Debug, Clone, PartialEq)]
pub enum CalendarGate {
    /// The cadence is never gated (`saturday_sf`, `continuous`, a cron without `calendar:`).
    NotGated,
    /// A gated cadence whose tick fell on a session of its calendar (named).
    Open(String),
    /// A closure: nothing is expected, no probe.
    Closed(String),
    /// A closure, but the artifact has `calendar_aware: false`: probed as usual.
    ClosedButNotCalendarAware(String),
}

/// Which of an artifact's keys a probe was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRole {
    Canonical,
    Recovery,
}

/// What one HEAD saw, judged against the cycle's tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Seen {
    NotFound,
    SinceTick {
        last_modified: DateTime<Utc>,
    },
    BeforeTick {
        last_modified: DateTime<Utc>,
        tick: DateTime<Utc>,
    },
    Failed(String),
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Grace {
                created_at,
                cycles,
                cycle_length,
                ends_at,
                in_grace,
            } => write!(
                f,
                "1 grace period: {} {} (created {created_at}, {cycles} cycle{} of {}){}",
                if *in_grace { "in grace until" } else { "ended" },
                Rfc3339(*ends_at),
                crate::text::plural(*cycles as usize),
                human_duration(*cycle_length),
                if *in_grace {
                    " -> grace_period, no probe"
                } else {
                    ""
                }
            ),
            Decision::Calendar(gate) => write!(f, "2 calendar: {gate}"),
            Decision::Window(check) => write!(f, "2 active window: {check}"),
            Decision::OffCycle { prefix, listed } => write!(f, "3 LIST {prefix}: {listed}"),
            Decision::Probe { key, url, seen } => {
                let (rule, what) = match key {
                    KeyRole::Canonical => (3, "HEAD"),
                    KeyRole::Recovery => (4, "HEAD recovery"),
                };
                write!(f, "{rule} {what} {url}: {seen}")
            }
            Decision::RecoverySkipped(why) => write!(f, "4 recovery: not probed ({why})"),
            Decision::Content(said) => write!(f, "3 content: {said}"),
            Decision::Set(said) => write!(f, "3 {said}"),
            Decision::Sla {
                due_at,
                minutes_past,
            } => {
                if *minutes_past > 0 {
                    write!(
                        f,
                        "5 SLA: due {}, {minutes_past} min past -> alerts",
                        Rfc3339(*due_at)
                    )
                } else {
                    write!(
                        f,
                        "5 SLA: due {}, not past yet -> no alert",
                        Rfc3339(*due_at)
                    )
                }
            }
        }
    }
}

impl fmt::Display for CalendarGate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CalendarGate::NotGated => f.write_str("cadence never gated by the market calendar"),
            CalendarGate::Open(calendar) => write!(f, "{calendar} open on the tick's day"),
            CalendarGate::Closed(closure) => {
                write!(f, "{closure}: not expected -> fresh, no probe")
            }
            CalendarGate::ClosedButNotCalendarAware(closure) => {
                write!(f, "{closure}, but calendar_aware is false: probed as usual")
            }
        }
    }
}

impl fmt::Display for Seen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Seen::NotFound => f.write_str("not found"),
            Seen::SinceTick { last_modified } => write!(
                f,
                "present, last modified {} (at or after the tick) -> fresh",
                Rfc3339(*last_modified)
            ),
            Seen::BeforeTick {
                last_modified,
                tick,
            } => write!(
                f,
                "last modified {}, before the tick {}",
                Rfc3339(*last_modified),
                Rfc3339(*tick)
            ),
            Seen::Failed(error) => write!(f, "failed: {error} -> probe_failed"),
        }
    }
}

impl fmt::Display for WindowCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WindowCheck::Inside {
                window,
                opened_at,
                tick_moved_from,
            } => {
                write!(f, "inside {window} (opened {})", Rfc3339(*opened_at))?;
                match tick_moved_from {
                    Some(bucket) => write!(
                        f,
                        "; the bucket began {}, before the opening: judged from the opening",
                        Rfc3339(*bucket)
                    ),
                    None => Ok(()),
                }
            }
            WindowCheck::Outside(why) => {
                write!(
                    f,
                    "outside every window ({why}): not expected -> fresh, no probe"
                )
            }
        }
    }
}

impl fmt::Display for Listed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pages = |n: &u32| format!("{n} page{}", crate::text::plural(*n as usize));
        match self {
            Listed::Failed(error) => write!(f, "failed: {error} -> probe_failed"),
            Listed::Truncated { pages: n } => {
                write!(f, "more than {} of keys -> probe_failed", pages(n))
            }
            Listed::NoneOfShape { pages: n, listed } => write!(
                f,
                "{}, {listed} keys, none of the template's shape",
                pages(n)
            ),
            Listed::Newest {
                pages: n,
                key,
                last_modified,
                fresh_since,
            } => write!(
                f,
                "{}; newest key of the template's shape {key}, last modified {}{}",
                pages(n),
                Rfc3339(*last_modified),
                if last_modified >= fresh_since {
                    format!(" (fresh since {}) -> fresh", Rfc3339(*fresh_since))
                } else {
                    format!(", before {}", Rfc3339(*fresh_since))
                }
            ),
        }
    }
}
