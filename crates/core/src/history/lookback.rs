//! How many past cycles the history scan walks per cadence: the defaults, the overrides an
//! event or the CLI gives, and the names `history.json` reports them under.
//!
//! The built-in defaults are the original monitor's (its dashboard shows a 12-week column for
//! `saturday_sf` and 30 cycles for the daily cadences). Continuous feeds and cron cadences had
//! none there; theirs is a stopping rule, stated in docs/outputs.md#lookback: the cycles of the
//! last 30 days, at least 12 and at most 168. A daily schedule gets ~30 cycles like
//! `weekday_sf`, a weekly or monthly one 12 like `saturday_sf`, an hourly one a week, and a
//! 5-minute feed its last 14 hours: no artifact costs more than 168 HEADs per scan.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use super::cycles::cycles_within;
use crate::cadence::{BUILTIN_CADENCES, Cadence};
use crate::calendar::TradingCalendar;
use crate::registry::Registry;

/// The most cycles one cadence may be walked back (event `lookback`, CLI `--lookback`).
pub const MAX_LOOKBACK: usize = 1000;

/// `saturday_sf`'s default: 12 weeks, as the original.
pub const SATURDAY_LOOKBACK: usize = 12;
/// `weekday_sf`'s and `eod_sf`'s default: 30 cycles, as the original.
pub const DAILY_LOOKBACK: usize = 30;
/// Continuous and cron cadences: the cycles of this many days before `now`…
pub const SCHEDULE_WINDOW_DAYS: i64 = 30;
/// …but at least this many (a weekly or monthly schedule still shows a history)…
pub const SCHEDULE_MIN_LOOKBACK: usize = 12;
/// …and at most this many (a 5-minute feed does not cost 8,640 HEADs a day).
pub const SCHEDULE_MAX_LOOKBACK: usize = 168;

/// Which schedule a cadence is, for sharing walks and naming lookbacks: continuous feeds of
/// different intervals are different schedules under one cadence name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScheduleKey<'a> {
    Named(&'a str),
    Continuous(u32),
}

impl<'a> ScheduleKey<'a> {
    pub fn of(cadence: &'a Cadence) -> Self {
        match cadence {
            Cadence::Continuous { interval_minutes } => ScheduleKey::Continuous(*interval_minutes),
            other => ScheduleKey::Named(other.name()),
        }
    }
}

/// The key `history.json`'s `lookback` uses: the cadence name, and `continuous_{N}m` for a
/// continuous feed of N minutes (each interval has its own default).
impl fmt::Display for ScheduleKey<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScheduleKey::Named(name) => f.write_str(name),
            ScheduleKey::Continuous(minutes) => write!(f, "continuous_{minutes}m"),
        }
    }
}

/// A lookback that is not a whole number of cycles from 1 to [`MAX_LOOKBACK`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a whole number of cycles from 1 to {MAX_LOOKBACK}, got {got}")]
pub struct LookbackOutOfRange {
    pub got: String,
}

/// Checks one lookback count.
pub fn checked_count(n: u64) -> Result<usize, LookbackOutOfRange> {
    usize::try_from(n)
        .ok()
        .filter(|n| (1..=MAX_LOOKBACK).contains(n))
        .ok_or_else(|| LookbackOutOfRange { got: n.to_string() })
}

/// Per-cadence overrides of the defaults, by cadence name (`continuous` covers every
/// interval).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookback {
    overrides: BTreeMap<String, usize>,
}

impl Lookback {
    /// Sets cadence `name`'s lookback; the count must already be checked.
    pub fn set(&mut self, name: String, cycles: usize) {
        self.overrides.insert(name, cycles);
    }

    pub fn is_empty(&self) -> bool {
        self.overrides.is_empty()
    }

    /// The override names that are neither built-in cadences nor the registry's own.
    pub fn unknown_names(&self, registry: &Registry) -> Vec<String> {
        self.overrides
            .keys()
            .filter(|name| !known_cadence_names(registry).any(|known| known == name.as_str()))
            .cloned()
            .collect()
    }

    /// The cycles walked for `cadence` at `now`: its override, else its default.
    pub fn cycles_for(
        &self,
        cadence: &Cadence,
        calendar: &TradingCalendar,
        now: DateTime<Utc>,
    ) -> usize {
        match self.overrides.get(cadence.name()) {
            Some(&n) => n,
            None => default_lookback(cadence, calendar, now),
        }
    }
}

/// Every cadence name a lookback may use with this registry.
pub fn known_cadence_names(registry: &Registry) -> impl Iterator<Item = &str> {
    BUILTIN_CADENCES
        .into_iter()
        .chain(registry.user_cadences.iter().map(|c| c.name.as_str()))
}

/// The default number of cycles walked for `cadence` (module docs).
pub fn default_lookback(
    cadence: &Cadence,
    calendar: &TradingCalendar,
    now: DateTime<Utc>,
) -> usize {
    let window = Duration::days(SCHEDULE_WINDOW_DAYS);
    let in_window = match cadence {
        Cadence::SaturdaySf => return SATURDAY_LOOKBACK,
        Cadence::WeekdaySf | Cadence::EodSf => return DAILY_LOOKBACK,
        Cadence::Continuous { interval_minutes } => {
            let interval = i64::from((*interval_minutes).max(1));
            usize::try_from(window.num_minutes() / interval).unwrap_or(usize::MAX)
        }
        Cadence::User(_) => cycles_within(cadence, calendar, now, window, SCHEDULE_MAX_LOOKBACK),
    };
    in_window.clamp(SCHEDULE_MIN_LOOKBACK, SCHEDULE_MAX_LOOKBACK)
}
