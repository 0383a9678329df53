//! Business calendars: which days a market (or any business) is closed, and when each session
//! closes, computed by rule for any year.
//!
//! Calendar-aware cadences must not alert on a day their calendar was closed, and
//! `{trading_day}` keys name the last session that had closed by its actual close (an early
//! close counts from its early time). A calendar is a rule set ([`CalendarRules`]): weekend
//! days, holiday rules, one-off closures and early closes. The built-in ones (`nyse`, `lse`,
//! `xetr`) are in [`builtin`]; a registry defines more in its `calendars:` section, and
//! [`Calendars`] finds any of them by name. NYSE also takes the registry's
//! `calendar.extra_closures` for closures announced at short notice.

pub mod builtin;
pub mod easter;
pub mod rules;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;

pub use builtin::BUILTIN_CALENDARS;
use rules::{CloseTime, DayRule, WeekdaySet, observed_dates};

/// Why the market was closed on a business weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosureReason {
    Holiday(Arc<str>),
    Unscheduled(Arc<str>),
    /// Listed in the registry's `calendar.extra_closures`.
    Registry,
}

impl fmt::Display for ClosureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClosureReason::Holiday(name) | ClosureReason::Unscheduled(name) => f.write_str(name),
            ClosureReason::Registry => f.write_str("closure listed in calendar.extra_closures"),
        }
    }
}

/// A calendar's rules: everything that decides its sessions.
#[derive(Debug, Clone, PartialEq)]
pub struct CalendarRules {
    pub name: String,
    /// The zone its sessions' days and closes are in.
    pub timezone: Tz,
    /// When a regular session closes.
    pub close: CloseTime,
    pub weekend: WeekdaySet,
    pub holidays: Vec<DayRule>,
    /// One-off closures (rules of explicit dates).
    pub closures: Vec<DayRule>,
    /// Rules with a close time: sessions that end early.
    pub early_closes: Vec<DayRule>,
}

/// What a calendar says about one business weekday that is not a regular session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DayStatus {
    Closed(ClosureReason),
    EarlyClose { close: CloseTime, name: Arc<str> },
}

/// The days of one year that are not regular sessions.
type YearTable = BTreeMap<NaiveDate, DayStatus>;

/// A calendar ready to answer questions: its rules, the registry's extra closures (NYSE only)
/// and the years computed so far.
#[derive(Debug, Clone)]
pub struct TradingCalendar {
    rules: Arc<CalendarRules>,
    extra_closures: Vec<NaiveDate>,
    years: Arc<Mutex<HashMap<i32, Arc<YearTable>>>>,
}

impl PartialEq for TradingCalendar {
    fn eq(&self, other: &Self) -> bool {
        self.rules == other.rules && self.extra_closures == other.extra_closures
    }
}

impl Default for TradingCalendar {
    fn default() -> Self {
        TradingCalendar::nyse([])
    }
}

impl TradingCalendar {
    pub fn nyse(extra_closures: impl IntoIterator<Item = NaiveDate>) -> Self {
        TradingCalendar::new(builtin::nyse(), extra_closures)
    }

    pub fn new(rules: CalendarRules, extra_closures: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut extra_closures: Vec<NaiveDate> = extra_closures.into_iter().collect();
        extra_closures.sort();
        extra_closures.dedup();
        TradingCalendar {
            rules: Arc::new(rules),
            extra_closures,
            years: Arc::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.rules.name
    }

    pub fn rules(&self) -> &CalendarRules {
        &self.rules
    }

    /// One of the calendar's weekend days.
    pub fn is_weekend_day(&self, date: NaiveDate) -> bool {
        self.rules.weekend.contains(date.weekday())
    }

    /// Why the market is closed on `date`, a business weekday; `None` when it trades (or for
    /// a weekend, which is no closure).
    pub fn weekday_closure(&self, date: NaiveDate) -> Option<ClosureReason> {
        match self.year(date.year()).get(&date) {
            Some(DayStatus::Closed(reason)) => Some(reason.clone()),
            _ => None,
        }
    }

    /// Why the calendar has no session on `date`, weekends included, for a gate's message.
    pub fn closure_on(&self, date: NaiveDate) -> Option<String> {
        if self.is_weekend_day(date) {
            return Some(format!("weekend ({})", date.format("%A")));
        }
        self.weekday_closure(date).map(|reason| reason.to_string())
    }

    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        !self.is_weekend_day(date) && self.weekday_closure(date).is_none()
    }

    /// Every business weekday of `year` on which the market is closed, in date order.
    pub fn closed_weekdays(&self, year: i32) -> Vec<(NaiveDate, ClosureReason)> {
        self.year(year)
            .iter()
            .filter_map(|(date, status)| match status {
                DayStatus::Closed(reason) => Some((*date, reason.clone())),
                DayStatus::EarlyClose { .. } => None,
            })
            .collect()
    }

    /// Every session of `year` that closes early, with its close and the rule's name.
    pub fn early_closes(&self, year: i32) -> Vec<(NaiveDate, CloseTime, Arc<str>)> {
        self.year(year)
            .iter()
            .filter_map(|(date, status)| match status {
                DayStatus::EarlyClose { close, name } => Some((*date, *close, name.clone())),
                DayStatus::Closed(_) => None,
            })
            .collect()
    }

    /// When the session of `date` closes (local time): early on an early-close day.
    pub fn close_on(&self, date: NaiveDate) -> CloseTime {
        match self.year(date.year()).get(&date) {
            Some(DayStatus::EarlyClose { close, .. }) => *close,
            _ => self.rules.close,
        }
    }

    /// The last session that had closed at `at`, by its actual close in the calendar's zone.
    pub fn last_closed_session(&self, at: DateTime<Utc>) -> NaiveDate {
        let local = at.with_timezone(&self.rules.timezone);
        let mut day = local.date_naive();
        if local.time().num_seconds_from_midnight() < self.close_on(day).seconds_from_midnight() {
            day = day.pred_opt().expect("date in range");
        }
        // A year has no more than a handful of consecutive closed days; the bound only guards
        // against looping forever on a calendar that closes everything.
        for _ in 0..366 {
            if self.is_trading_day(day) {
                return day;
            }
            day = day.pred_opt().expect("date in range");
        }
        day
    }

    /// When the session of `date` closes, in UTC (a close inside a DST gap is its gap's end).
    pub fn session_close(&self, date: NaiveDate) -> Option<DateTime<Utc>> {
        let seconds = i64::from(self.close_on(date).seconds_from_midnight());
        let local = date.and_hms_opt(0, 0, 0)? + chrono::Duration::seconds(seconds);
        let tz = self.rules.timezone;
        tz.from_local_datetime(&local)
            .earliest()
            .or_else(|| {
                tz.from_local_datetime(&(local + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map(|t| t.with_timezone(&Utc))
    }

    /// The year's table, computed once.
    fn year(&self, year: i32) -> Arc<YearTable> {
        let mut years = self.years.lock().unwrap_or_else(|e| e.into_inner());
        years
            .entry(year)
            .or_insert_with(|| Arc::new(self.compute_year(year)))
            .clone()
    }

    /// The year's closed days (holidays, closures, extra closures) and its early closes. An
    /// early close moved by `previous_weekday`/`next_weekday` skips the closed days of its
    /// own year and of the years beside it (a move may cross New Year).
    fn compute_year(&self, year: i32) -> YearTable {
        let rules = &*self.rules;
        let weekend = rules.weekend;
        let mut table = self.closed_days(year);
        let closed: BTreeSet<NaiveDate> = [year - 1, year + 1]
            .into_iter()
            .flat_map(|y| self.closed_days(y).into_keys())
            .chain(table.keys().copied())
            .collect();
        for (date, rule, _) in observed_dates(&rules.early_closes, year, weekend, &closed) {
            if let Some(close) = rule.close
                && !weekend.contains(date.weekday())
                && close < rules.close
            {
                table.entry(date).or_insert(DayStatus::EarlyClose {
                    close,
                    name: rule.name.clone(),
                });
            }
        }
        table
    }

    /// The weekdays of `year` the calendar is closed: holidays as observed (a holiday moved by
    /// `previous_weekday`/`next_weekday` skips the closures too), closures, extra closures.
    fn closed_days(&self, year: i32) -> YearTable {
        let rules = &*self.rules;
        let weekend = rules.weekend;
        let closures: BTreeSet<NaiveDate> = (year - 1..=year + 1)
            .flat_map(|y| rules.closures.iter().flat_map(move |r| r.natural_dates(y)))
            .chain(self.extra_closures.iter().copied())
            .filter(|d| !weekend.contains(d.weekday()))
            .collect();
        let mut table = YearTable::new();
        for (date, rule, moved) in observed_dates(&rules.holidays, year, weekend, &closures) {
            if !weekend.contains(date.weekday()) {
                let name = if moved {
                    Arc::from(format!("{} (observed)", rule.name))
                } else {
                    rule.name.clone()
                };
                table
                    .entry(date)
                    .or_insert(DayStatus::Closed(ClosureReason::Holiday(name)));
            }
        }
        for rule in &rules.closures {
            for date in rule.natural_dates(year) {
                if !weekend.contains(date.weekday()) {
                    let reason = ClosureReason::Unscheduled(rule.name.clone());
                    table.entry(date).or_insert(DayStatus::Closed(reason));
                }
            }
        }
        for &date in &self.extra_closures {
            if date.year() == year && !weekend.contains(date.weekday()) {
                table
                    .entry(date)
                    .or_insert(DayStatus::Closed(ClosureReason::Registry));
            }
        }
        table
    }
}

/// NYSE's weekend: the `weekday_sf`/`eod_sf` gate and `calendar.extra_closures` use it.
pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Every calendar a registry can name: the built-in ones (NYSE with the registry's extra
/// closures) and those of its `calendars:` section.
#[derive(Debug, Clone)]
pub struct Calendars {
    calendars: Vec<Arc<TradingCalendar>>,
}

impl Default for Calendars {
    fn default() -> Self {
        Calendars::builtin([])
    }
}

impl Calendars {
    /// The built-in calendars, NYSE with `nyse_extra_closures`.
    pub fn builtin(nyse_extra_closures: impl IntoIterator<Item = NaiveDate>) -> Calendars {
        let mut calendars = vec![Arc::new(TradingCalendar::nyse(nyse_extra_closures))];
        calendars.extend(BUILTIN_CALENDARS.iter().skip(1).filter_map(|name| {
            builtin::builtin(name).map(|rules| Arc::new(TradingCalendar::new(rules, [])))
        }));
        Calendars { calendars }
    }

    /// Adds a registry-defined calendar (its name is not a built-in one's: the loader checks).
    pub fn add(&mut self, calendar: TradingCalendar) {
        self.calendars.push(Arc::new(calendar));
    }

    /// The calendar named `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<TradingCalendar>> {
        self.calendars.iter().find(|c| c.name() == name)
    }

    /// NYSE, with the registry's extra closures.
    pub fn nyse(&self) -> &Arc<TradingCalendar> {
        &self.calendars[0]
    }

    /// Every name, built-in ones first.
    pub fn names(&self) -> Vec<&str> {
        self.calendars.iter().map(|c| c.name()).collect()
    }
}

#[cfg(test)]
mod tests;
