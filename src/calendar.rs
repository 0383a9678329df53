//! The NYSE trading calendar, computed by rule for any year.
//!
//! Calendar-aware cadences must not alert on a day the market was closed, and `{trading_day}`
//! keys name the last session that had closed. Holidays are derived from their rules (not a
//! table that runs out), plus the unscheduled closures since 2000 and the registry's
//! `calendar.extra_closures` for closures announced at short notice.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::America::New_York;

/// Why the market was closed on a weekday.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosureReason {
    Holiday(&'static str),
    Unscheduled(&'static str),
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

/// Unscheduled full-day closures since 2000.
const UNSCHEDULED: &[(i32, u32, u32, &str)] = &[
    (2001, 9, 11, "September 11 attacks"),
    (2001, 9, 12, "September 11 attacks"),
    (2001, 9, 13, "September 11 attacks"),
    (2001, 9, 14, "September 11 attacks"),
    (2004, 6, 11, "National Day of Mourning for Ronald Reagan"),
    (2007, 1, 2, "National Day of Mourning for Gerald Ford"),
    (2012, 10, 29, "Hurricane Sandy"),
    (2012, 10, 30, "Hurricane Sandy"),
    (
        2018,
        12,
        5,
        "National Day of Mourning for George H. W. Bush",
    ),
    (2025, 1, 9, "National Day of Mourning for Jimmy Carter"),
];

/// The NYSE calendar with the registry's extra closures.
#[derive(Debug, Clone, Default)]
pub struct TradingCalendar {
    extra_closures: Vec<NaiveDate>,
}

impl TradingCalendar {
    pub fn nyse(extra_closures: impl IntoIterator<Item = NaiveDate>) -> Self {
        let mut extra_closures: Vec<NaiveDate> = extra_closures.into_iter().collect();
        extra_closures.sort();
        extra_closures.dedup();
        TradingCalendar { extra_closures }
    }

    /// Why the market is closed on `date`, a weekday; `None` when it trades (or for a weekend,
    /// which is no closure).
    pub fn weekday_closure(&self, date: NaiveDate) -> Option<ClosureReason> {
        if is_weekend(date) {
            return None;
        }
        if let Some(name) = scheduled_holiday(date) {
            return Some(ClosureReason::Holiday(name));
        }
        if let Some(&(.., name)) = UNSCHEDULED
            .iter()
            .find(|&&(y, m, d, _)| date.year() == y && date.month() == m && date.day() == d)
        {
            return Some(ClosureReason::Unscheduled(name));
        }
        if self.extra_closures.binary_search(&date).is_ok() {
            return Some(ClosureReason::Registry);
        }
        None
    }

    pub fn is_trading_day(&self, date: NaiveDate) -> bool {
        !is_weekend(date) && self.weekday_closure(date).is_none()
    }

    /// Every weekday of `year` on which the market is closed, in date order.
    pub fn closed_weekdays(&self, year: i32) -> Vec<(NaiveDate, ClosureReason)> {
        let mut closed: BTreeMap<NaiveDate, ClosureReason> = BTreeMap::new();
        for (date, name) in holidays(year) {
            if !is_weekend(date) {
                closed.insert(date, ClosureReason::Holiday(name));
            }
        }
        for &(y, m, d, name) in UNSCHEDULED {
            if y == year {
                let date = NaiveDate::from_ymd_opt(y, m, d).expect("valid table date");
                closed
                    .entry(date)
                    .or_insert(ClosureReason::Unscheduled(name));
            }
        }
        for &date in &self.extra_closures {
            if date.year() == year && !is_weekend(date) {
                closed.entry(date).or_insert(ClosureReason::Registry);
            }
        }
        closed.into_iter().collect()
    }

    /// The last NYSE session that had closed (16:00 New York time) at `at`.
    pub fn last_closed_session(&self, at: DateTime<Utc>) -> NaiveDate {
        let local = at.with_timezone(&New_York);
        let close = NaiveTime::from_hms_opt(16, 0, 0).expect("valid time");
        let mut day = local.date_naive();
        if local.time() < close {
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

    /// 16:00 New York time on `date`, in UTC.
    pub fn session_close(date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_hms_opt(16, 0, 0).expect("valid time");
        New_York
            .from_local_datetime(&local)
            .earliest()
            .expect("16:00 is never in a DST gap")
            .with_timezone(&Utc)
    }
}

pub fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The scheduled holiday observed on `date`, if any.
fn scheduled_holiday(date: NaiveDate) -> Option<&'static str> {
    holidays(date.year())
        .into_iter()
        .find(|&(d, _)| d == date)
        .map(|(_, name)| name)
}

/// The observed dates of the year's NYSE holidays (some may be weekends only for New Year's
/// Day on a Saturday, which is not observed and is dropped here).
fn holidays(year: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut list = Vec::with_capacity(10);
    let ymd = |m, d| NaiveDate::from_ymd_opt(year, m, d).expect("valid holiday date");

    let new_year = ymd(1, 1);
    match new_year.weekday() {
        Weekday::Sat => {} // not observed: the Friday before is in the previous year
        Weekday::Sun => list.push((ymd(1, 2), "New Year's Day (observed)")),
        _ => list.push((new_year, "New Year's Day")),
    }
    if year >= 1998 {
        list.push((
            nth_weekday(year, 1, Weekday::Mon, 3),
            "Martin Luther King Jr. Day",
        ));
    }
    list.push((
        nth_weekday(year, 2, Weekday::Mon, 3),
        "Washington's Birthday",
    ));
    list.push((easter_sunday(year) - Days::new(2), "Good Friday"));
    list.push((last_weekday(year, 5, Weekday::Mon), "Memorial Day"));
    if year >= 2022 {
        list.push(observed(ymd(6, 19), "Juneteenth", "Juneteenth (observed)"));
    }
    list.push(observed(
        ymd(7, 4),
        "Independence Day",
        "Independence Day (observed)",
    ));
    list.push((nth_weekday(year, 9, Weekday::Mon, 1), "Labor Day"));
    list.push((nth_weekday(year, 11, Weekday::Thu, 4), "Thanksgiving Day"));
    list.push(observed(
        ymd(12, 25),
        "Christmas Day",
        "Christmas Day (observed)",
    ));
    list
}

/// Saturday holidays are observed the Friday before, Sunday ones the Monday after.
fn observed(
    date: NaiveDate,
    name: &'static str,
    observed_name: &'static str,
) -> (NaiveDate, &'static str) {
    match date.weekday() {
        Weekday::Sat => (date - Days::new(1), observed_name),
        Weekday::Sun => (date + Days::new(1), observed_name),
        _ => (date, name),
    }
}

fn nth_weekday(year: i32, month: u32, weekday: Weekday, n: u8) -> NaiveDate {
    NaiveDate::from_weekday_of_month_opt(year, month, weekday, n).expect("valid nth weekday")
}

fn last_weekday(year: i32, month: u32, weekday: Weekday) -> NaiveDate {
    let first_of_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)
    }
    .expect("valid date");
    let mut day = first_of_next.pred_opt().expect("valid date");
    while day.weekday() != weekday {
        day = day.pred_opt().expect("valid date");
    }
    day
}

/// Gregorian Easter Sunday (the anonymous Gregorian algorithm). The algorithm wants a positive
/// year; Easter dates repeat every 5,700,000 years, so any year (a far-off cycle of an absurd
/// cadence reaches year 0 and before) is mapped onto that cycle first and never panics.
fn easter_sunday(year: i32) -> NaiveDate {
    const EASTER_CYCLE_YEARS: i32 = 5_700_000;
    let (month, day) = easter_month_day(match year.rem_euclid(EASTER_CYCLE_YEARS) {
        0 => EASTER_CYCLE_YEARS,
        positive => positive,
    });
    NaiveDate::from_ymd_opt(year, month, day).expect("March or April, day 1 to 31")
}

fn easter_month_day(year: i32) -> (u32, u32) {
    let a = year % 19;
    let b = year / 100;
    let c = year % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    (month as u32, day as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn easter_of_any_year_is_a_date_in_march_or_april() {
        assert_eq!(
            easter_sunday(2026),
            NaiveDate::from_ymd_opt(2026, 4, 5).unwrap()
        );
        // Year 1 and year 5,700,001 share the Gregorian computus's cycle.
        for year in [-3494, -1, 0, 1, 9999, 262_000] {
            let easter = easter_sunday(year);
            assert_eq!(easter.year(), year);
            assert!(matches!(easter.month(), 3 | 4), "{easter}");
        }
        let minus_one = easter_sunday(-1);
        assert_eq!(
            (minus_one.month(), minus_one.day()),
            easter_month_day(5_699_999)
        );
    }

    fn closed(year: i32) -> Vec<String> {
        TradingCalendar::nyse([])
            .closed_weekdays(year)
            .into_iter()
            .map(|(d, _)| d.to_string())
            .collect()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn closed_weekdays_2001_include_september_11() {
        assert_eq!(
            closed(2001),
            [
                "2001-01-01",
                "2001-01-15",
                "2001-02-19",
                "2001-04-13",
                "2001-05-28",
                "2001-07-04",
                "2001-09-03",
                "2001-09-11",
                "2001-09-12",
                "2001-09-13",
                "2001-09-14",
                "2001-11-22",
                "2001-12-25"
            ]
        );
    }

    #[test]
    fn closed_weekdays_2012_include_hurricane_sandy() {
        assert_eq!(
            closed(2012),
            [
                "2012-01-02",
                "2012-01-16",
                "2012-02-20",
                "2012-04-06",
                "2012-05-28",
                "2012-07-04",
                "2012-09-03",
                "2012-10-29",
                "2012-10-30",
                "2012-11-22",
                "2012-12-25"
            ]
        );
    }

    #[test]
    fn closed_weekdays_2018_include_bush_mourning() {
        assert_eq!(
            closed(2018),
            [
                "2018-01-01",
                "2018-01-15",
                "2018-02-19",
                "2018-03-30",
                "2018-05-28",
                "2018-07-04",
                "2018-09-03",
                "2018-11-22",
                "2018-12-05",
                "2018-12-25"
            ]
        );
    }

    #[test]
    fn closed_weekdays_2022_saturday_new_year_not_observed_and_juneteenth_begins() {
        assert_eq!(
            closed(2022),
            [
                "2022-01-17",
                "2022-02-21",
                "2022-04-15",
                "2022-05-30",
                "2022-06-20",
                "2022-07-04",
                "2022-09-05",
                "2022-11-24",
                "2022-12-26"
            ]
        );
        // The Friday before the Saturday New Year's Day of 2022 traded.
        assert!(TradingCalendar::nyse([]).is_trading_day(d("2021-12-31")));
    }

    #[test]
    fn closed_weekdays_2025_include_carter_mourning() {
        assert_eq!(
            closed(2025),
            [
                "2025-01-01",
                "2025-01-09",
                "2025-01-20",
                "2025-02-17",
                "2025-04-18",
                "2025-05-26",
                "2025-06-19",
                "2025-07-04",
                "2025-09-01",
                "2025-11-27",
                "2025-12-25"
            ]
        );
    }

    #[test]
    fn closed_weekdays_2026_observe_saturday_independence_day_on_friday() {
        assert_eq!(
            closed(2026),
            [
                "2026-01-01",
                "2026-01-19",
                "2026-02-16",
                "2026-04-03",
                "2026-05-25",
                "2026-06-19",
                "2026-07-03",
                "2026-09-07",
                "2026-11-26",
                "2026-12-25"
            ]
        );
    }

    #[test]
    fn closed_weekdays_2027_observe_saturday_juneteenth_and_christmas_on_fridays() {
        assert_eq!(
            closed(2027),
            [
                "2027-01-01",
                "2027-01-18",
                "2027-02-15",
                "2027-03-26",
                "2027-05-31",
                "2027-06-18",
                "2027-07-05",
                "2027-09-06",
                "2027-11-25",
                "2027-12-24"
            ]
        );
    }

    #[test]
    fn mlk_day_is_only_a_holiday_from_1998() {
        let cal = TradingCalendar::nyse([]);
        assert!(cal.is_trading_day(d("1997-01-20")));
        assert!(!cal.is_trading_day(d("1998-01-19")));
    }

    #[test]
    fn every_year_2000_to_2030_has_eight_to_fourteen_closed_weekdays() {
        let cal = TradingCalendar::nyse([]);
        for year in 2000..=2030 {
            let n = cal.closed_weekdays(year).len();
            assert!((8..=14).contains(&n), "{year}: {n}");
        }
    }

    #[test]
    fn extra_closures_close_the_market() {
        let cal = TradingCalendar::nyse([d("2026-03-11")]);
        assert_eq!(
            cal.weekday_closure(d("2026-03-11")),
            Some(ClosureReason::Registry)
        );
        assert!(cal.is_trading_day(d("2026-03-12")));
    }

    #[test]
    fn last_closed_session_before_and_after_the_close() {
        let cal = TradingCalendar::nyse([]);
        let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
        // Saturday morning: Friday's session.
        assert_eq!(
            cal.last_closed_session(at("2026-05-30T09:00:00Z")),
            d("2026-05-29")
        );
        // Tuesday 13:00 UTC (09:00 New York): Monday's session.
        assert_eq!(
            cal.last_closed_session(at("2026-06-02T13:00:00Z")),
            d("2026-06-01")
        );
        // Tuesday after a Monday holiday (Memorial Day 2026-05-25): Friday's session.
        assert_eq!(
            cal.last_closed_session(at("2026-05-26T13:00:00Z")),
            d("2026-05-22")
        );
        // 21:00 UTC in winter is exactly 16:00 New York: that day's session has closed.
        assert_eq!(
            cal.last_closed_session(at("2026-01-06T21:00:00Z")),
            d("2026-01-06")
        );
        // 20:59 UTC in winter is before the close.
        assert_eq!(
            cal.last_closed_session(at("2026-01-06T20:59:00Z")),
            d("2026-01-05")
        );
    }
}
