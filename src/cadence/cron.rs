//! Five-field cron expressions evaluated in an IANA time zone.
//!
//! User cadences are written the way operators write crontabs (`0 14 1 * *` in
//! America/New_York); DST is the time zone's business, not the user's. Semantics follow
//! Vixie cron: `*`, lists, ranges, steps, month and weekday names, 0 and 7 both Sunday, and
//! when both day-of-month and day-of-week are restricted a day matching either fires.
//! A local time skipped by a spring-forward gap fires at the first instant after the gap; a
//! local time repeated by a fall-back fires once, at its first occurrence.

use std::fmt;

use chrono::{DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

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

    /// The most recent fire time at or before `now`.
    pub fn previous_fire(&self, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = now.with_timezone(&tz).date_naive();
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(date) {
                for &hour in self.hours.iter().rev() {
                    for &minute in self.minutes.iter().rev() {
                        let fire = resolve_local(tz, date, hour, minute);
                        if fire <= now {
                            return Some(fire);
                        }
                    }
                }
            }
            date = date.pred_opt()?;
        }
        None
    }

    /// The first fire time strictly after `after`.
    pub fn next_fire(&self, tz: Tz, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut date = after.with_timezone(&tz).date_naive();
        for _ in 0..SEARCH_DAYS {
            if self.day_matches(date) {
                for &hour in &self.hours {
                    for &minute in &self.minutes {
                        let fire = resolve_local(tz, date, hour, minute);
                        if fire > after {
                            return Some(fire);
                        }
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
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

/// Local wall time to UTC: a time in a DST gap fires when the gap ends, an ambiguous one at
/// its first occurrence.
fn resolve_local(tz: Tz, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    let local: NaiveDateTime = date.and_hms_opt(hour, minute, 0).expect("valid cron time");
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are at most a few hours; walk forward to the first local minute that exists.
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                // The first local minute that exists again is the instant the gap ended.
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            Utc.from_utc_datetime(&local)
        }
    }
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
mod tests {
    use super::*;

    #[test]
    fn a_leap_day_is_found_across_the_eight_year_gap_of_2100() {
        // Day of month and day of week are OR-ed when both are restricted (Vixie cron), so
        // the rarest day a schedule can name is 29 February alone: 2100 is no leap year.
        let schedule = CronSchedule::parse("0 0 29 2 *").unwrap();
        let tz = chrono_tz::UTC;
        let now = "2103-06-01T00:00:00Z".parse().unwrap();
        let previous = schedule.previous_fire(tz, now).unwrap();
        assert_eq!(
            previous,
            "2096-02-29T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let next = schedule.next_fire(tz, previous).unwrap();
        assert_eq!(
            next,
            "2104-02-29T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
    use chrono_tz::America::New_York;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn previous_and_next_fire_in_new_york() {
        let c = CronSchedule::parse("0 14 1 * *").unwrap();
        // 14:00 EDT on 2026-06-01 is 18:00 UTC.
        assert_eq!(
            c.previous_fire(New_York, at("2026-06-10T00:00:00Z")),
            Some(at("2026-06-01T18:00:00Z"))
        );
        assert_eq!(
            c.next_fire(New_York, at("2026-06-01T18:00:00Z")),
            Some(at("2026-07-01T18:00:00Z"))
        );
        // Winter: 14:00 EST is 19:00 UTC.
        assert_eq!(
            c.previous_fire(New_York, at("2026-12-05T00:00:00Z")),
            Some(at("2026-12-01T19:00:00Z"))
        );
    }

    #[test]
    fn a_time_skipped_by_spring_forward_fires_when_the_gap_ends() {
        // 2026-03-08 02:30 does not exist in New York; clocks jump from 02:00 EST to 03:00 EDT
        // (07:00 UTC).
        let c = CronSchedule::parse("30 2 * * *").unwrap();
        assert_eq!(
            c.previous_fire(New_York, at("2026-03-08T12:00:00Z")),
            Some(at("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn a_time_repeated_by_fall_back_fires_once() {
        // 2026-11-01 01:30 happens twice in New York: 05:30 UTC (EDT) and 06:30 UTC (EST).
        let c = CronSchedule::parse("30 1 * * *").unwrap();
        assert_eq!(
            c.previous_fire(New_York, at("2026-11-01T07:00:00Z")),
            Some(at("2026-11-01T05:30:00Z"))
        );
        assert_eq!(
            c.next_fire(New_York, at("2026-11-01T05:30:00Z")),
            Some(at("2026-11-02T06:30:00Z"))
        );
    }

    #[test]
    fn day_of_month_and_day_of_week_or_when_both_restricted() {
        // The 13th or any Friday.
        let c = CronSchedule::parse("0 0 13 * FRI").unwrap();
        let tz = chrono_tz::UTC;
        assert_eq!(
            c.next_fire(tz, at("2026-06-01T00:00:00Z")),
            Some(at("2026-06-05T00:00:00Z"))
        );
        assert_eq!(
            c.next_fire(tz, at("2026-06-12T00:00:00Z")),
            Some(at("2026-06-13T00:00:00Z"))
        );
        // With `*` in day-of-month, only Fridays.
        let fridays = CronSchedule::parse("0 0 * * 5").unwrap();
        assert_eq!(
            fridays.next_fire(tz, at("2026-06-12T00:00:00Z")),
            Some(at("2026-06-19T00:00:00Z"))
        );
    }

    #[test]
    fn lists_ranges_steps_and_names() {
        let c = CronSchedule::parse("*/15 9-17 * JAN-MAR,dec mon-fri").unwrap();
        let tz = chrono_tz::UTC;
        assert_eq!(
            c.previous_fire(tz, at("2026-01-05T10:07:00Z")),
            Some(at("2026-01-05T10:00:00Z"))
        );
        assert_eq!(
            c.next_fire(tz, at("2026-03-31T17:45:00Z")),
            Some(at("2026-12-01T09:00:00Z"))
        );
        assert_eq!(
            CronSchedule::parse("0 0 * * 7").unwrap().days_of_week.0 & 1,
            1
        );
    }

    #[test]
    fn the_longest_gap_is_found_across_the_whole_gregorian_cycle() {
        let gap = |s: &str| CronSchedule::parse(s).unwrap().longest_gap();
        assert_eq!(gap("*/15 * * * *"), chrono::Duration::minutes(15));
        assert_eq!(gap("0 9,17 * * *"), chrono::Duration::hours(16));
        // Friday 09:00 to Monday 09:00.
        assert_eq!(gap("0 9 * * 1-5"), chrono::Duration::days(3));
        assert_eq!(gap("0 14 1 * *"), chrono::Duration::days(31));
        // 2096-02-29 to 2104-02-29: 2100 has no 29 February.
        assert_eq!(gap("0 12 29 2 *"), chrono::Duration::days(2921));
        // 29 February on a Sunday (`*/7` keeps the day fields ANDed): 2088 to 2128 at worst,
        // the rarest day there is.
        assert_eq!(gap("0 0 29 2 */7"), chrono::Duration::days(MAX_GAP_DAYS));
    }

    #[test]
    fn rejects_malformed_expressions() {
        let err = |s: &str| CronSchedule::parse(s).unwrap_err().message;
        assert!(err("0 14 1 *").contains("expected 5 fields"));
        assert!(err("60 * * * *").contains("minute field: 60 is outside 0-59"));
        assert!(err("* 24 * * *").contains("hour field: 24 is outside 0-23"));
        assert!(err("* * * FOO *").contains("month field: \"FOO\" is not a number"));
        assert!(err("*/0 * * * *").contains("step \"0\" is not a positive number"));
        assert!(err("5-1 * * * *").contains("runs backwards"));
        assert!(err("0 0 31 2 *").contains("never fires"));
    }
}
