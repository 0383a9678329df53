//! Holiday and early-close rules: how one named day of a calendar falls in a given year.
//!
//! A rule is a base date (a fixed month and day, the nth or last weekday of a month, an offset
//! from Easter Sunday, or explicit dates), optionally shifted by days, filtered by weekday and
//! by its first and last year, then moved off the weekend by its observance. The built-in
//! calendars and the registry's `calendars:` section are both lists of these rules.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, Weekday};

use super::easter::easter_sunday;

/// Which days of the week a calendar never does business on, or a rule applies on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WeekdaySet(u8);

impl WeekdaySet {
    pub const EMPTY: WeekdaySet = WeekdaySet(0);
    /// Saturday and Sunday.
    pub const SAT_SUN: WeekdaySet = WeekdaySet((1 << 5) | (1 << 6));
    pub const ALL: WeekdaySet = WeekdaySet(0x7f);

    pub fn of(days: &[Weekday]) -> WeekdaySet {
        WeekdaySet(
            days.iter()
                .fold(0, |bits, d| bits | (1 << d.num_days_from_monday())),
        )
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_all(self) -> bool {
        self == WeekdaySet::ALL
    }

    /// The days in the set, Monday first.
    pub fn days(self) -> impl Iterator<Item = Weekday> {
        (0..7u8)
            .filter(move |i| self.0 & (1 << i) != 0)
            .filter_map(|i| Weekday::try_from(i).ok())
    }
}

/// Where a rule's date falls before it is shifted and observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleDate {
    /// The same month and day every year (a 29 February only in leap years).
    Fixed { month: u32, day: u32 },
    /// The nth (1 to 5) weekday of a month, or the last one (`nth: None`). A fifth weekday
    /// that a month does not have is no date that year.
    NthWeekday {
        month: u32,
        weekday: Weekday,
        nth: Option<u8>,
    },
    /// Days from Gregorian Easter Sunday (-2 is Good Friday, 1 Easter Monday).
    Easter { offset: i32 },
    /// Explicit dates, each in its own year.
    Dates(Vec<NaiveDate>),
}

/// How a date that falls on a weekend is observed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Observance {
    /// Not observed at all.
    #[default]
    None,
    /// Saturday on the Friday before, Sunday on the Monday after (US federal holidays).
    NearestWeekday,
    /// Sunday on the Monday after; Saturday not observed (NYSE's New Year's Day).
    SundayToMonday,
    /// The next business day that is no other holiday (English bank holidays: Christmas on a
    /// Saturday and Boxing Day on the Sunday after are the Monday and the Tuesday).
    NextWeekday,
    /// The business day before (an early close on Christmas Eve that falls on a weekend).
    PreviousWeekday,
}

impl Observance {
    pub const NAMES: [&'static str; 5] = [
        "none",
        "nearest_weekday",
        "sunday_to_monday",
        "next_weekday",
        "previous_weekday",
    ];

    pub fn parse(name: &str) -> Option<Observance> {
        Some(match name {
            "none" => Observance::None,
            "nearest_weekday" => Observance::NearestWeekday,
            "sunday_to_monday" => Observance::SundayToMonday,
            "next_weekday" => Observance::NextWeekday,
            "previous_weekday" => Observance::PreviousWeekday,
            _ => return None,
        })
    }
}

/// One named day of a calendar: a holiday, or (with a close time) an early close.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DayRule {
    pub name: Arc<str>,
    pub date: RuleDate,
    /// Days added to a fixed or nth-weekday date (1 after the 4th Thursday of November is the
    /// day after Thanksgiving).
    pub offset_days: i32,
    /// Applies only when its (shifted) date falls on one of these days.
    pub only_on: Option<WeekdaySet>,
    pub observance: Observance,
    pub first_year: Option<i32>,
    pub last_year: Option<i32>,
    /// For an early close, when the session ends that day; `None` for a holiday.
    pub close: Option<CloseTime>,
}

/// A time of day a session closes, to the minute; 24:00 is the end of the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CloseTime(u16);

impl CloseTime {
    pub const END_OF_DAY: CloseTime = CloseTime(24 * 60);

    /// `hour:minute`, up to 24:00.
    pub fn hm(hour: u32, minute: u32) -> Option<CloseTime> {
        let minutes = hour.checked_mul(60)?.checked_add(minute)?;
        (minute < 60 && minutes <= 24 * 60).then_some(CloseTime(minutes as u16))
    }

    /// `HH:MM` (or `H:MM`), up to `24:00`.
    pub fn parse(text: &str) -> Option<CloseTime> {
        let (hour, minute) = text.split_once(':')?;
        if minute.len() != 2 || hour.is_empty() || hour.len() > 2 {
            return None;
        }
        CloseTime::hm(hour.parse().ok()?, minute.parse().ok()?)
    }

    pub fn seconds_from_midnight(self) -> u32 {
        u32::from(self.0) * 60
    }
}

impl std::fmt::Display for CloseTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

impl DayRule {
    pub fn new(name: &str, date: RuleDate) -> DayRule {
        DayRule {
            name: Arc::from(name),
            date,
            offset_days: 0,
            only_on: None,
            observance: Observance::None,
            first_year: None,
            last_year: None,
            close: None,
        }
    }

    pub fn fixed(name: &str, month: u32, day: u32) -> DayRule {
        DayRule::new(name, RuleDate::Fixed { month, day })
    }

    pub fn nth(name: &str, month: u32, weekday: Weekday, nth: u8) -> DayRule {
        DayRule::new(
            name,
            RuleDate::NthWeekday {
                month,
                weekday,
                nth: Some(nth),
            },
        )
    }

    pub fn last(name: &str, month: u32, weekday: Weekday) -> DayRule {
        DayRule::new(
            name,
            RuleDate::NthWeekday {
                month,
                weekday,
                nth: None,
            },
        )
    }

    pub fn easter(name: &str, offset: i32) -> DayRule {
        DayRule::new(name, RuleDate::Easter { offset })
    }

    pub fn dates(name: &str, dates: &[(i32, u32, u32)]) -> DayRule {
        let dates = dates
            .iter()
            .map(|&(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("valid table date"))
            .collect();
        DayRule::new(name, RuleDate::Dates(dates))
    }

    pub fn observed(mut self, observance: Observance) -> DayRule {
        self.observance = observance;
        self
    }

    pub fn years(mut self, first: Option<i32>, last: Option<i32>) -> DayRule {
        self.first_year = first;
        self.last_year = last;
        self
    }

    /// An early close at `close` instead of a holiday.
    pub fn closing_at(mut self, close: CloseTime) -> DayRule {
        self.close = Some(close);
        self
    }

    pub fn shifted(mut self, days: i32) -> DayRule {
        self.offset_days = days;
        self
    }

    pub fn only_on(mut self, days: &[Weekday]) -> DayRule {
        self.only_on = Some(WeekdaySet::of(days));
        self
    }

    fn applies_in(&self, year: i32) -> bool {
        self.first_year.is_none_or(|first| year >= first)
            && self.last_year.is_none_or(|last| year <= last)
    }

    /// The rule's dates computed for `year`, before observance (an observed date may land in
    /// the year before or after).
    pub fn natural_dates(&self, year: i32) -> Vec<NaiveDate> {
        let base = match &self.date {
            RuleDate::Dates(dates) => {
                return dates.iter().copied().filter(|d| d.year() == year).collect();
            }
            _ if !self.applies_in(year) => None,
            RuleDate::Fixed { month, day } => NaiveDate::from_ymd_opt(year, *month, *day),
            RuleDate::NthWeekday {
                month,
                weekday,
                nth: Some(n),
            } => NaiveDate::from_weekday_of_month_opt(year, *month, *weekday, *n),
            RuleDate::NthWeekday {
                month,
                weekday,
                nth: None,
            } => last_weekday(year, *month, *weekday),
            RuleDate::Easter { offset } => add_days(easter_sunday(year), *offset),
        };
        base.and_then(|d| add_days(d, self.offset_days))
            .filter(|d| self.only_on.is_none_or(|days| days.contains(d.weekday())))
            .into_iter()
            .collect()
    }
}

/// The dates `rules` give in `year`, each with its rule and whether observance moved it, in
/// rule order. A weekend date is observed as its rule says; [`Observance::NextWeekday`] and
/// [`Observance::PreviousWeekday`] skip the other rules' dates and the `closed` ones (the
/// days the calendar is closed by other lists: for holidays its closures, for early closes
/// its holidays and closures), so they land on a day with a session.
pub fn observed_dates<'r>(
    rules: &'r [DayRule],
    year: i32,
    weekend: WeekdaySet,
    closed: &BTreeSet<NaiveDate>,
) -> Vec<(NaiveDate, &'r DayRule, bool)> {
    // A rule of the year before or after may be observed in this one (a Saturday 1 January
    // on the Friday before).
    let natural: Vec<(NaiveDate, &DayRule)> = (year - 1..=year + 1)
        .flat_map(|y| {
            rules
                .iter()
                .flat_map(move |r| r.natural_dates(y).into_iter().map(move |d| (d, r)))
        })
        .collect();
    let mut taken: BTreeSet<NaiveDate> = natural
        .iter()
        .map(|(d, _)| *d)
        .filter(|d| !weekend.contains(d.weekday()))
        .chain(closed.iter().copied())
        .collect();
    let mut out = Vec::new();
    for (date, rule) in natural {
        let observed = if weekend.contains(date.weekday()) {
            observe(date, rule.observance, weekend, &mut taken)
        } else {
            Some(date)
        };
        if let Some(observed) = observed.filter(|d| d.year() == year) {
            out.push((observed, rule, observed != date));
        }
    }
    out
}

fn observe(
    date: NaiveDate,
    observance: Observance,
    weekend: WeekdaySet,
    taken: &mut BTreeSet<NaiveDate>,
) -> Option<NaiveDate> {
    let step = match observance {
        Observance::None => return None,
        Observance::NearestWeekday => {
            return match date.weekday() {
                Weekday::Sat => date.pred_opt(),
                Weekday::Sun => date.succ_opt(),
                _ => None,
            };
        }
        Observance::SundayToMonday => {
            return (date.weekday() == Weekday::Sun)
                .then(|| date.succ_opt())
                .flatten();
        }
        Observance::NextWeekday => 1,
        Observance::PreviousWeekday => -1,
    };
    let mut day = date;
    // A week holds at least one business day (a calendar of all weekend is refused); two
    // weeks of other holidays in a row is the bound.
    for _ in 0..21 {
        day = add_days(day, step)?;
        if !weekend.contains(day.weekday()) && !taken.contains(&day) {
            taken.insert(day);
            return Some(day);
        }
    }
    None
}

fn add_days(date: NaiveDate, days: i32) -> Option<NaiveDate> {
    if days >= 0 {
        date.checked_add_days(Days::new(u64::from(days.unsigned_abs())))
    } else {
        date.checked_sub_days(Days::new(u64::from(days.unsigned_abs())))
    }
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> Option<NaiveDate> {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }?;
    let last = first_of_next.pred_opt()?;
    let back = (7 + last.weekday().num_days_from_monday() - weekday.num_days_from_monday()) % 7;
    last.checked_sub_days(Days::new(u64::from(back)))
}
