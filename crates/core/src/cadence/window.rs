//! Active windows: when a continuous feed is expected to be written at all.
//!
//! Many feeds run only in market hours or on trading days. An artifact may list the windows
//! it is written in (a calendar of days, hours of the day, a time zone); outside all of them
//! nothing is expected, and the first interval after a window opens is judged from the
//! opening, so it gets its full SLA instead of inheriting a bucket that started while the
//! feed was asleep. Pure: the caller brings `now`.

use std::fmt;

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::calendar::TradingCalendar;

/// The days a window may be open on.
#[derive(Debug, Clone, PartialEq)]
pub enum DayCalendar {
    /// Every day of the week.
    EveryDay,
    /// The sessions of a business calendar (`nyse` with the registry's extra closures, `lse`,
    /// `xetr`, or one of the registry's `calendars:`).
    Sessions(Arc<TradingCalendar>),
}

/// The calendar name of every day, beside the business calendars' names.
pub const EVERY_DAY: &str = "every_day";

impl DayCalendar {
    pub fn name(&self) -> &str {
        match self {
            DayCalendar::EveryDay => EVERY_DAY,
            DayCalendar::Sessions(calendar) => calendar.name(),
        }
    }

    /// Why `date` is not a day of this calendar; `None` when it is.
    fn closed_because(&self, date: NaiveDate) -> Option<String> {
        match self {
            DayCalendar::EveryDay => None,
            DayCalendar::Sessions(calendar) => calendar
                .closure_on(date)
                .map(|reason| format!("not a {} session: {reason}", calendar.name())),
        }
    }
}

/// One window: from `from` to `to` local time in `timezone`, on the days of `calendar`.
#[derive(Debug, Clone, PartialEq)]
pub struct ActiveWindow {
    pub calendar: DayCalendar,
    /// Minutes after local midnight, `from < to`; `to` may be 24:00 (1,440).
    pub from: u32,
    pub to: u32,
    pub timezone: Tz,
    /// The window's line in the registry, for messages.
    pub line: usize,
}

impl ActiveWindow {
    /// Whether two windows can be open at the same instant. Their calendars are not compared
    /// (every session is a day of `every_day`, and two business calendars share most days);
    /// windows in different time zones are never compared (their overlap depends on the date).
    pub fn overlaps(&self, other: &ActiveWindow) -> bool {
        self.timezone == other.timezone && self.from < other.to && other.from < self.to
    }

    /// The instant the window opened on local `date` (a time skipped by a DST change opens it
    /// at the gap's end).
    fn opening_on(&self, date: NaiveDate) -> DateTime<Utc> {
        let local = date.and_time(NaiveTime::MIN) + chrono::Duration::minutes(self.from.into());
        let mut probe = local;
        for _ in 0..(24 * 60) {
            if let Some(t) = self.timezone.from_local_datetime(&probe).earliest() {
                return t.with_timezone(&Utc);
            }
            probe += chrono::Duration::minutes(1);
        }
        local.and_utc()
    }

    /// The instant the window closed on local `date` (`to`, or the next midnight for 24:00).
    fn closing_on(&self, date: NaiveDate) -> DateTime<Utc> {
        ActiveWindow {
            from: self.to,
            ..self.clone()
        }
        .opening_on(date)
    }

    /// The first instant in `[from, until)` the window is open, if any. A span of more than
    /// two weeks always holds one: no calendar closes for that long.
    fn first_open_within(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let first = from.with_timezone(&self.timezone).date_naive();
        let last = until.with_timezone(&self.timezone).date_naive();
        if (last - first).num_days() > 14 {
            return Some(from);
        }
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .find_map(|date| {
                if self.calendar.closed_because(date).is_some() {
                    return None;
                }
                let (open, close) = (self.opening_on(date), self.closing_on(date));
                (open < until && from < close).then(|| open.max(from))
            })
    }

    /// Whether the window is open at `now`, and if so since when; if not, why not.
    fn at(&self, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
        let local = now.with_timezone(&self.timezone);
        let date = local.date_naive();
        let minute = local
            .time()
            .signed_duration_since(NaiveTime::MIN)
            .num_minutes() as u32;
        let there = local.format("%A %Y-%m-%d %H:%M");
        if let Some(why) = self.calendar.closed_because(date) {
            return Err(format!("{self}: {there} there is {why}"));
        }
        if minute < self.from || minute >= self.to {
            return Err(format!("{self}: {there} there is outside its hours"));
        }
        Ok(self.opening_on(date))
    }
}

fn hh_mm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

impl fmt::Display for ActiveWindow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = match &self.calendar {
            DayCalendar::EveryDay => "every day".to_string(),
            DayCalendar::Sessions(calendar) => format!("{} sessions", calendar.name()),
        };
        write!(
            f,
            "{}-{} {} on {days}",
            hh_mm(self.from),
            hh_mm(self.to),
            self.timezone
        )
    }
}

/// What an artifact's windows say about one `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowCheck {
    /// Inside a window that opened at `opened_at` (the earliest, if several are open). The
    /// cycle's tick moved to the opening when the bucket began before it (`tick_moved_from`).
    Inside {
        window: String,
        opened_at: DateTime<Utc>,
        tick_moved_from: Option<DateTime<Utc>>,
    },
    /// Outside every window: why, window by window.
    Outside(String),
}

/// Checks `now` against `windows` (not empty) and, inside one, the tick the artifact is judged
/// from: the later of the bucket's `tick` and the window's opening.
pub fn check(
    windows: &[ActiveWindow],
    tick: DateTime<Utc>,
    now: DateTime<Utc>,
) -> (WindowCheck, DateTime<Utc>) {
    let mut why_not = Vec::new();
    let mut open: Option<(DateTime<Utc>, &ActiveWindow)> = None;
    for window in windows {
        match window.at(now) {
            Ok(opened) if open.is_none_or(|(earliest, _)| opened < earliest) => {
                open = Some((opened, window));
            }
            Ok(_) => {}
            Err(why) => why_not.push(why),
        }
    }
    match open {
        Some((opened_at, window)) => {
            let moved = opened_at > tick;
            let check = WindowCheck::Inside {
                window: window.to_string(),
                opened_at,
                tick_moved_from: moved.then_some(tick),
            };
            (check, tick.max(opened_at))
        }
        None => (WindowCheck::Outside(why_not.join("; ")), tick),
    }
}

/// For a past bucket `[tick, end)` (the history scan): inside when a window was open at some
/// instant of it, judged from the first such instant; outside when none was.
pub fn check_bucket(
    windows: &[ActiveWindow],
    tick: DateTime<Utc>,
    end: DateTime<Utc>,
) -> (WindowCheck, DateTime<Utc>) {
    let open = (windows.iter())
        .filter_map(|w| Some((w.first_open_within(tick, end)?, w)))
        .min_by_key(|(opened, _)| *opened);
    match open {
        Some((opened_at, window)) => {
            let check = WindowCheck::Inside {
                window: window.to_string(),
                opened_at,
                tick_moved_from: (opened_at > tick).then_some(tick),
            };
            (check, opened_at)
        }
        None => {
            let listed: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
            let why = format!(
                "{}: none open from {} to {}",
                listed.join("; "),
                crate::text::Rfc3339(tick),
                crate::text::Rfc3339(end)
            );
            (WindowCheck::Outside(why), tick)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn market_hours() -> ActiveWindow {
        ActiveWindow {
            calendar: DayCalendar::Sessions(Arc::new(TradingCalendar::nyse([]))),
            from: 9 * 60 + 30,
            to: 16 * 60,
            timezone: chrono_tz::America::New_York,
            line: 1,
        }
    }

    fn checked(windows: &[ActiveWindow], tick: &str, now: &str) -> (WindowCheck, DateTime<Utc>) {
        check(windows, at(tick), at(now))
    }

    #[test]
    fn a_feed_at_three_in_the_morning_new_york_on_a_sunday_expects_nothing() {
        // Sunday 2026-03-08 03:00 EDT is 07:00Z.
        let (check, tick) = checked(
            &[market_hours()],
            "2026-03-08T07:00:00Z",
            "2026-03-08T07:00:00Z",
        );
        assert_eq!(
            check,
            WindowCheck::Outside(
                "09:30-16:00 America/New_York on nyse sessions: Sunday 2026-03-08 03:00 there \
                 is not a nyse session: weekend (Sunday)"
                    .into()
            )
        );
        assert_eq!(tick, at("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn outside_the_hours_and_on_a_holiday_say_so() {
        let windows = [market_hours()];
        // Monday 2026-06-01 08:00 EDT.
        let (check, _) = checked(&windows, "2026-06-01T12:00:00Z", "2026-06-01T12:00:00Z");
        assert!(
            matches!(&check, WindowCheck::Outside(why) if why.ends_with("Monday 2026-06-01 08:00 there is outside its hours")),
            "{check:?}"
        );
        // Friday 2026-07-03 at noon: Independence Day observed.
        let (check, _) = checked(&windows, "2026-07-03T16:00:00Z", "2026-07-03T16:00:00Z");
        assert!(
            matches!(&check, WindowCheck::Outside(why) if why.ends_with("not a nyse session: Independence Day (observed)")),
            "{check:?}"
        );
        // 16:00 itself is the close: outside.
        let (check, _) = checked(&windows, "2026-06-01T20:00:00Z", "2026-06-01T20:00:00Z");
        assert!(matches!(check, WindowCheck::Outside(_)));
    }

    #[test]
    fn the_first_interval_after_the_window_opens_is_judged_from_the_opening() {
        // Hourly buckets start on the UTC hour; 09:30 EDT is 13:30Z, inside the 13:00Z bucket.
        let (check, tick) = checked(
            &[market_hours()],
            "2026-06-01T13:00:00Z",
            "2026-06-01T13:40:00Z",
        );
        assert_eq!(tick, at("2026-06-01T13:30:00Z"));
        assert_eq!(
            check,
            WindowCheck::Inside {
                window: "09:30-16:00 America/New_York on nyse sessions".into(),
                opened_at: at("2026-06-01T13:30:00Z"),
                tick_moved_from: Some(at("2026-06-01T13:00:00Z")),
            }
        );
        // The next bucket is judged from its own start.
        let (check, tick) = checked(
            &[market_hours()],
            "2026-06-01T14:00:00Z",
            "2026-06-01T14:10:00Z",
        );
        assert_eq!(tick, at("2026-06-01T14:00:00Z"));
        assert!(matches!(
            check,
            WindowCheck::Inside {
                tick_moved_from: None,
                ..
            }
        ));
    }

    #[test]
    fn every_day_windows_and_the_earliest_open_window_wins() {
        let night = ActiveWindow {
            calendar: DayCalendar::EveryDay,
            from: 0,
            to: 6 * 60,
            timezone: chrono_tz::UTC,
            line: 2,
        };
        let early = ActiveWindow {
            from: 0,
            to: 3 * 60,
            timezone: chrono_tz::Asia::Tokyo,
            ..night.clone()
        };
        // Sunday 01:00Z is 10:00 in Tokyo: only the UTC window is open.
        let (check, tick) = checked(
            &[early.clone(), night.clone()],
            "2026-03-08T00:45:00Z",
            "2026-03-08T01:00:00Z",
        );
        assert_eq!(tick, at("2026-03-08T00:45:00Z"));
        assert!(
            matches!(check, WindowCheck::Inside { opened_at, .. } if opened_at == at("2026-03-08T00:00:00Z"))
        );
        assert!(!night.overlaps(&early));
        let overlapping = ActiveWindow {
            from: 5 * 60,
            to: 24 * 60,
            ..night.clone()
        };
        assert!(night.overlaps(&overlapping));
        let after = ActiveWindow {
            from: 6 * 60,
            ..overlapping
        };
        assert!(!night.overlaps(&after));
    }

    #[test]
    fn a_window_opening_in_a_dst_gap_opens_at_the_gap_end() {
        let window = ActiveWindow {
            calendar: DayCalendar::EveryDay,
            from: 2 * 60 + 30,
            to: 5 * 60,
            timezone: chrono_tz::America::New_York,
            line: 1,
        };
        // 2026-03-08 02:30 does not exist; 03:00 EDT is 07:00Z.
        let (check, _) = checked(&[window], "2026-03-08T07:00:00Z", "2026-03-08T07:10:00Z");
        assert!(
            matches!(check, WindowCheck::Inside { opened_at, .. } if opened_at == at("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn a_past_bucket_is_expected_when_a_window_was_open_in_it() {
        let windows = [market_hours()];
        // Monday 2026-06-01, 13:00Z-14:00Z: the window opened at 13:30Z.
        let (check, tick) = check_bucket(
            &windows,
            at("2026-06-01T13:00:00Z"),
            at("2026-06-01T14:00:00Z"),
        );
        assert_eq!(tick, at("2026-06-01T13:30:00Z"));
        assert!(matches!(check, WindowCheck::Inside { .. }));
        // Sunday: none.
        let (check, _) = check_bucket(
            &windows,
            at("2026-06-07T13:00:00Z"),
            at("2026-06-07T14:00:00Z"),
        );
        assert_eq!(
            check,
            WindowCheck::Outside(
                "09:30-16:00 America/New_York on nyse sessions: none open from \
                 2026-06-07T13:00:00Z to 2026-06-07T14:00:00Z"
                    .into()
            )
        );
        // After the close (20:00Z in June) until midnight UTC: none.
        let (check, _) = check_bucket(
            &windows,
            at("2026-06-01T20:00:00Z"),
            at("2026-06-02T00:00:00Z"),
        );
        assert!(matches!(check, WindowCheck::Outside(_)));
        // A day-long bucket over a weekday holds the session.
        let (check, tick) = check_bucket(
            &windows,
            at("2026-06-02T00:00:00Z"),
            at("2026-06-03T00:00:00Z"),
        );
        assert!(matches!(check, WindowCheck::Inside { .. }));
        assert_eq!(tick, at("2026-06-02T13:30:00Z"));
    }

    #[test]
    fn a_window_on_london_sessions_is_closed_on_a_london_bank_holiday() {
        let lse = crate::calendar::builtin::builtin("lse").expect("lse is built in");
        let window = ActiveWindow {
            calendar: DayCalendar::Sessions(Arc::new(TradingCalendar::new(lse, []))),
            from: 8 * 60,
            to: 16 * 60 + 30,
            timezone: chrono_tz::Europe::London,
            line: 1,
        };
        // Monday 2026-05-04, the Early May bank holiday, at noon in London (11:00Z).
        let (check, _) = checked(
            std::slice::from_ref(&window),
            "2026-05-04T11:00:00Z",
            "2026-05-04T11:00:00Z",
        );
        assert!(
            matches!(&check, WindowCheck::Outside(why) if why.ends_with("is not a lse session: Early May bank holiday")),
            "{check:?}"
        );
        // The New York market trades that day: a nyse window is open.
        let (check, _) = checked(
            &[market_hours()],
            "2026-05-04T15:00:00Z",
            "2026-05-04T15:00:00Z",
        );
        assert!(matches!(check, WindowCheck::Inside { .. }));
        // Tuesday in London: open.
        let (check, _) = checked(&[window], "2026-05-05T11:00:00Z", "2026-05-05T11:00:00Z");
        assert!(matches!(check, WindowCheck::Inside { .. }));
    }
}
