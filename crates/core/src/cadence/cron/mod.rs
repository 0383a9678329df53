//! Five-field cron expressions evaluated in an IANA time zone.
//!
//! User cadences are written the way operators write crontabs (`0 14 1 * *` in
//! America/New_York); DST is the time zone's business, not the user's. Semantics follow
//! Vixie cron: `*`, lists, ranges, steps, month and weekday names, 0 and 7 both Sunday, and
//! when both day-of-month and day-of-week are restricted a day matching either fires.
//!
//! What a daylight-saving change does to a fire time is the producer's scheduler's business,
//! so a cadence names the scheduler's rule ([`DstRule`]): Debian cron's (a skipped fixed time
//! fires at the gap's end, a skipped wildcard time not at all, a repeated wildcard time twice)
//! or EventBridge Scheduler's (a skipped time never fires, a repeated one once).

use std::fmt;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc,
};
use chrono_tz::Tz;

/// Whose rule decides what a daylight-saving change does to a fire time: the producer's
/// scheduler's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DstRule {
    /// Debian cron (and healthchecks.io's cronsim, which follows it): a fixed-time job (no `*`
    /// at the start of its minute or hour field) whose time is skipped by the spring change
    /// runs once at the gap's end, and runs once (the first time) when its time is repeated;
    /// a job with a wildcard minute or hour skips a skipped time and runs a repeated one twice.
    #[default]
    Cron,
    /// AWS EventBridge Scheduler: a time that does not exist never fires; a repeated time
    /// fires once, at its first occurrence.
    EventBridge,
}

impl DstRule {
    /// The names a cadence's `dst:` takes.
    pub const NAMES: [&str; 2] = ["cron", "eventbridge"];

    pub fn parse(name: &str) -> Option<DstRule> {
        match name {
            "cron" => Some(DstRule::Cron),
            "eventbridge" => Some(DstRule::EventBridge),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            DstRule::Cron => "cron",
            DstRule::EventBridge => "eventbridge",
        }
    }
}

/// Where and by whose rule a schedule is read: its time zone and its scheduler's DST rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zone {
    pub tz: Tz,
    pub dst: DstRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CronSchedule {
    source: String,
    minutes: Vec<u32>,
    hours: Vec<u32>,
    days_of_month: Field,
    months: Field,
    days_of_week: Field,
    /// Vixie cron: if either day field starts with `*`, both must match; otherwise either.
    day_fields_or: bool,
    /// The minute or the hour field starts with `*` (Debian cron's "wildcard job").
    wildcard_time: bool,
}

/// A set of allowed values as a bitmask.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Field(u64);

impl Field {
    fn has(self, value: u32) -> bool {
        self.0 & (1 << value) != 0
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cron expression {expression:?}: {message}")]
pub struct CronError {
    pub expression: String,
    pub message: String,
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

/// How far back or ahead a search looks: a Feb 29 schedule on a Monday recurs within 28
/// years, so 30 years of days covers every satisfiable expression.
const SEARCH_DAYS: u32 = 366 * 30;

/// A bound, in days, on the gap between two days any expression fires on, kept generous: since
/// a restricted day of month and day of week are OR-ed, the rarest day an expression can name
/// is 29 February alone (8 years apart across 2100), far below these 40 years (which a
/// 29-February-on-a-Sunday AND rule would need). No schedule's [`CronSchedule::longest_gap`]
/// exceeds it.
pub const MAX_GAP_DAYS: i64 = 14_609;

/// Days in the 400-year cycle of the Gregorian calendar: a whole number of weeks, so dates
/// and weekdays repeat exactly after it.
const GREGORIAN_CYCLE_DAYS: i64 = 146_097;

impl CronSchedule {
    pub fn parse(expression: &str) -> Result<CronSchedule, CronError> {
        let err = |message: String| CronError {
            expression: expression.to_string(),
            message,
        };
        let fields: Vec<&str> = expression.split_whitespace().collect();
        if fields.len() != 5 {
            return Err(err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week), found {}",
                fields.len()
            )));
        }
        let minutes = parse_field(fields[0], "minute", 0, 59, &[]).map_err(err)?;
        let hours = parse_field(fields[1], "hour", 0, 23, &[]).map_err(err)?;
        let days_of_month = parse_field(fields[2], "day-of-month", 1, 31, &[]).map_err(err)?;
        let months = parse_field(fields[3], "month", 1, 12, &MONTHS).map_err(err)?;
        let mut days_of_week =
            parse_field(fields[4], "day-of-week", 0, 7, &WEEKDAYS).map_err(err)?;
        if days_of_week.has(7) {
            days_of_week.0 |= 1;
        }
        let schedule = CronSchedule {
            source: expression.to_string(),
            minutes: bits(minutes, 0, 59),
            hours: bits(hours, 0, 23),
            days_of_month,
            months,
            days_of_week,
            day_fields_or: !fields[2].starts_with('*') && !fields[4].starts_with('*'),
            wildcard_time: fields[0].starts_with('*') || fields[1].starts_with('*'),
        };
        if !schedule.can_ever_fire() {
            return Err(err(
                "this schedule never fires (no month has such a day)".to_string()
            ));
        }
        Ok(schedule)
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `dst` drops a fire time that a spring-forward gap skips (rather than moving it
    /// to the gap's end).
    pub fn may_skip_fires(&self, dst: DstRule) -> bool {
        dst == DstRule::EventBridge || self.wildcard_time
    }

    /// The most recent fire time at or before `now`.
    pub fn previous_fire(&self, zone: Zone, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = now.with_timezone(&zone.tz).date_naive();
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(date)
                && let Some(fire) = self.fires_on(zone, date).rev().find(|&f| f <= now)
            {
                return Some(fire);
            }
            date = date.pred_opt()?;
        }
        None
    }

    /// The first fire time strictly after `after`.
    pub fn next_fire(&self, zone: Zone, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = after.with_timezone(&zone.tz).date_naive();
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(date)
                && let Some(fire) = self.fires_on(zone, date).find(|&f| f > after)
            {
                return Some(fire);
            }
            date = date.succ_opt()?;
        }
        None
    }

    /// The fire times of a matching local day, in time order. A day without an offset change
    /// is walked lazily (most searches stop at its last or first time); a day with one is
    /// resolved whole by the zone's rule and sorted, since a repeated time fires after later
    /// local times.
    fn fires_on(&self, zone: Zone, date: NaiveDate) -> DayFires {
        let times = (self.hours.iter())
            .flat_map(|&h| self.minutes.iter().map(move |&m| (h, m)))
            .collect::<Vec<_>>();
        match fixed_offset_on(zone.tz, date) {
            Some(offset) => DayFires::Regular {
                date,
                offset,
                times: times.into_iter(),
            },
            None => {
                let mut fires: Vec<DateTime<Utc>> = times
                    .into_iter()
                    .flat_map(|(h, m)| resolve_local(zone, self.wildcard_time, date, h, m))
                    .collect();
                fires.sort();
                fires.dedup();
                DayFires::Changing(fires.into_iter())
            }
        }
    }

    /// The longest time between two consecutive fires, in local wall-clock time (a time zone
    /// may add to it; see [`crate::cadence::Cadence::longest_cycle`]). Every gap a schedule has
    /// occurs within one 400-year Gregorian cycle, which this walks day by day.
    pub fn longest_gap(&self) -> chrono::Duration {
        let times: Vec<i64> = (self.hours.iter())
            .flat_map(|&h| self.minutes.iter().map(move |&m| i64::from(h * 60 + m)))
            .collect();
        let (first_time, last_time) = (times[0], times[times.len() - 1]);
        let within_a_day = times.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
        let across =
            |from_day: i64, to_day: i64| (to_day - from_day) * 24 * 60 + first_time - last_time;
        let (mut first_day, mut last_day, mut longest) = (None, None, within_a_day);
        // 2000-01-01, the cycle's first day, was a Saturday.
        let (mut day, mut weekday) = (0i64, 6u32);
        for year in 2000..2400 {
            for month in 1..=12 {
                for date in 1..=days_in_month(year, month) {
                    if self.day_fields_match(month, date, weekday) {
                        match last_day {
                            Some(previous) => longest = longest.max(across(previous, day)),
                            None => first_day = Some(day),
                        }
                        last_day = Some(day);
                    }
                    day += 1;
                    weekday = (weekday + 1) % 7;
                }
            }
        }
        longest = match (first_day, last_day) {
            // Across the end of the cycle into the next one.
            (Some(first), Some(last)) => longest.max(across(last, first + GREGORIAN_CYCLE_DAYS)),
            _ => GREGORIAN_CYCLE_DAYS * 24 * 60,
        };
        chrono::Duration::minutes(longest)
    }

    fn day_matches(&self, date: NaiveDate) -> bool {
        self.day_fields_match(
            date.month(),
            date.day(),
            date.weekday().num_days_from_sunday(),
        )
    }

    /// Whether the month, day-of-month and day-of-week fields accept a day (weekday counted
    /// from Sunday = 0).
    fn day_fields_match(&self, month: u32, day: u32, weekday: u32) -> bool {
        if !self.months.has(month) {
            return false;
        }
        let dom = self.days_of_month.has(day);
        let dow = self.days_of_week.has(weekday);
        if self.day_fields_or {
            dom || dow
        } else {
            dom && dow
        }
    }

    fn can_ever_fire(&self) -> bool {
        // Days per month in a leap year: a day-of-month that no selected month has never
        // fires unless day-of-week can fire instead.
        const DAYS_IN: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if self.day_fields_or && self.days_of_week.0 != 0 {
            return true;
        }
        (1..=12).any(|m| {
            self.months.has(m) && (1..=DAYS_IN[m as usize - 1]).any(|d| self.days_of_month.has(d))
        })
    }
}

impl fmt::Display for CronSchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn bits(field: Field, min: u32, max: u32) -> Vec<u32> {
    (min..=max).filter(|&v| field.has(v)).collect()
}

/// The UTC offset of a local day on which it does not change (the common case), from midnight
/// to midnight; `None` on a day with a change (or a midnight that does not exist).
fn fixed_offset_on(tz: Tz, date: NaiveDate) -> Option<chrono::FixedOffset> {
    let offset_at = |day: NaiveDate| match tz.from_local_datetime(&day.and_time(NaiveTime::MIN)) {
        LocalResult::Single(t) => Some(t.offset().fix()),
        _ => None,
    };
    let start = offset_at(date)?;
    (offset_at(date.succ_opt()?)? == start).then_some(start)
}

/// The fire times of one day, in time order.
enum DayFires {
    /// A day with one offset: local times map to UTC in order.
    Regular {
        date: NaiveDate,
        offset: chrono::FixedOffset,
        times: std::vec::IntoIter<(u32, u32)>,
    },
    /// A day with an offset change, resolved by the zone's rule and sorted.
    Changing(std::vec::IntoIter<DateTime<Utc>>),
}

impl DayFires {
    fn at(date: NaiveDate, offset: chrono::FixedOffset, (h, m): (u32, u32)) -> DateTime<Utc> {
        let local = date.and_hms_opt(h, m, 0).expect("valid cron time");
        (local - offset).and_utc()
    }
}

impl Iterator for DayFires {
    type Item = DateTime<Utc>;

    fn next(&mut self) -> Option<DateTime<Utc>> {
        match self {
            DayFires::Regular {
                date,
                offset,
                times,
            } => times.next().map(|t| DayFires::at(*date, *offset, t)),
            DayFires::Changing(fires) => fires.next(),
        }
    }
}

impl DoubleEndedIterator for DayFires {
    fn next_back(&mut self) -> Option<DateTime<Utc>> {
        match self {
            DayFires::Regular {
                date,
                offset,
                times,
            } => times.next_back().map(|t| DayFires::at(*date, *offset, t)),
            DayFires::Changing(fires) => fires.next_back(),
        }
    }
}

/// Local wall time to the UTC instants it fires at, by the zone's [`DstRule`]: none, one, or
/// (a repeated wildcard time under Debian cron's rule) two.
fn resolve_local(
    zone: Zone,
    wildcard_time: bool,
    date: NaiveDate,
    hour: u32,
    minute: u32,
) -> Vec<DateTime<Utc>> {
    let local: NaiveDateTime = date.and_hms_opt(hour, minute, 0).expect("valid cron time");
    let cron_wildcard = zone.dst == DstRule::Cron && wildcard_time;
    match zone.tz.from_local_datetime(&local) {
        LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
        LocalResult::Ambiguous(first, second) if cron_wildcard => {
            vec![first.with_timezone(&Utc), second.with_timezone(&Utc)]
        }
        LocalResult::Ambiguous(first, _) => vec![first.with_timezone(&Utc)],
        LocalResult::None if zone.dst == DstRule::EventBridge || cron_wildcard => Vec::new(),
        LocalResult::None => gap_end(zone.tz, local).into_iter().collect(),
    }
}

/// The instant a spring-forward gap containing `local` ends: the first local minute after it
/// that exists again. Gaps are at most a day.
fn gap_end(tz: Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    let mut probe = local;
    for _ in 0..(24 * 60) {
        probe += chrono::Duration::minutes(1);
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return Some(t.with_timezone(&Utc));
        }
    }
    None
}

fn parse_field(
    text: &str,
    name: &str,
    min: u32,
    max: u32,
    names: &[&str],
) -> Result<Field, String> {
    let mut mask = 0u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step.parse().ok().filter(|&s| s > 0).ok_or_else(|| {
                    format!("{name} field: step {step:?} is not a positive number")
                })?;
                (range, step)
            }
            None => (item, 1),
        };
        let (lo, hi) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (
                parse_value(a, name, min, max, names)?,
                parse_value(b, name, min, max, names)?,
            )
        } else {
            let v = parse_value(range, name, min, max, names)?;
            // `5/15` means from 5 to the end in steps of 15.
            (v, if item.contains('/') { max } else { v })
        };
        if lo > hi {
            return Err(format!("{name} field: range {range:?} runs backwards"));
        }
        let mut v = lo;
        while v <= hi {
            mask |= 1 << v;
            v += step;
        }
    }
    Ok(Field(mask))
}

fn parse_value(text: &str, name: &str, min: u32, max: u32, names: &[&str]) -> Result<u32, String> {
    if let Some(pos) = names.iter().position(|n| n.eq_ignore_ascii_case(text)) {
        // Month names count from 1, weekday names from 0 (Sunday).
        return Ok(pos as u32 + if min == 1 { 1 } else { 0 });
    }
    let value: u32 = text
        .parse()
        .map_err(|_| format!("{name} field: {text:?} is not a number{}", name_hint(names)))?;
    if value < min || value > max {
        return Err(format!("{name} field: {value} is outside {min}-{max}"));
    }
    Ok(value)
}

fn name_hint(names: &[&str]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" or one of {}", names.join(","))
    }
}

#[cfg(test)]
mod tests;
