//! Cadences: for any `now`, the cycle an artifact is judged in.
//!
//! A cycle has a tick (the most recent scheduled production time at or before `now`), a label
//! (stable for the whole cycle; it is part of the dedup key, so it must match the original
//! monitor's labels exactly), the date and trading day its keys are rendered with, its length
//! (for grace periods), and for calendar-gated cadences whether the market was closed.

pub mod cron;
pub mod window;

use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::calendar::{TradingCalendar, is_weekend};
use cron::{CronSchedule, DstRule, Zone};

/// The built-in cadence symbols of the original monitor.
pub const BUILTIN_CADENCES: [&str; 4] = ["saturday_sf", "weekday_sf", "eod_sf", "continuous"];

#[derive(Debug, Clone, PartialEq)]
pub enum Cadence {
    /// Saturday 09:00 UTC, labelled by ISO week.
    SaturdaySf,
    /// Monday to Friday 13:00 UTC, labelled by date.
    WeekdaySf,
    /// Monday to Friday 21:00 UTC, labelled by date.
    EodSf,
    /// Fixed-width buckets counted from the Unix epoch.
    Continuous { interval_minutes: u32 },
    /// A registry-defined cron schedule.
    User(Arc<UserCadence>),
}

/// A cadence defined in the registry's `cadences:` section.
#[derive(Debug, Clone, PartialEq)]
pub struct UserCadence {
    pub name: String,
    pub schedule: CronSchedule,
    pub timezone: Tz,
    /// `calendar: NAME`: ticks on the calendar's closures are not expected, and
    /// `{trading_day}` follows it. Without one, `{trading_day}` follows NYSE.
    pub calendar: Option<Arc<TradingCalendar>>,
    /// `dst:`: how the producer's scheduler treats times a DST change skips or repeats.
    pub dst: DstRule,
}

impl UserCadence {
    /// The time zone the schedule is read in, with its scheduler's DST rule.
    pub fn zone(&self) -> Zone {
        Zone {
            tz: self.timezone,
            dst: self.dst,
        }
    }
}

/// The cycle of one cadence at one `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cycle {
    pub tick: DateTime<Utc>,
    pub label: String,
    /// `{date}` in key templates.
    pub date: NaiveDate,
    /// `{trading_day}`: the last session that had closed at the tick, by its actual close
    /// (NYSE's, or the user cadence's calendar's).
    pub trading_day: NaiveDate,
    pub length: Duration,
    /// For calendar-gated cadences, why the tick's day was a market closure; `None` when the
    /// market traded or the cadence is never gated.
    pub closure: Option<String>,
    /// For an artifact with active windows, what they say about `now` (the tick is then the
    /// artifact's own: moved to the window's opening when the bucket began before it).
    pub window: Option<window::WindowCheck>,
    /// The previous cycle's tick, for an artifact judged off-cycle (`None` otherwise, or when
    /// the cadence never fired before).
    pub previous_tick: Option<DateTime<Utc>>,
}

impl Cadence {
    pub fn name(&self) -> &str {
        match self {
            Cadence::SaturdaySf => "saturday_sf",
            Cadence::WeekdaySf => "weekday_sf",
            Cadence::EodSf => "eod_sf",
            Cadence::Continuous { .. } => "continuous",
            Cadence::User(user) => &user.name,
        }
    }

    /// Only `weekday_sf`, `eod_sf` (by NYSE) and user cadences with a `calendar:` are ever
    /// gated.
    pub fn is_calendar_gated(&self) -> bool {
        match self {
            Cadence::WeekdaySf | Cadence::EodSf => true,
            Cadence::User(user) => user.calendar.is_some(),
            Cadence::SaturdaySf | Cadence::Continuous { .. } => false,
        }
    }

    /// The name of the calendar that gates this cadence, `None` when it is never gated.
    pub fn gate_calendar_name(&self) -> Option<&str> {
        match self {
            Cadence::WeekdaySf | Cadence::EodSf => Some("nyse"),
            Cadence::User(user) => user.calendar.as_deref().map(TradingCalendar::name),
            Cadence::SaturdaySf | Cadence::Continuous { .. } => None,
        }
    }

    /// The calendar that gates this cadence's ticks and gives its `{trading_day}`: a user
    /// cadence's own, else `nyse` (the registry's NYSE calendar).
    pub fn calendar<'c>(&'c self, nyse: &'c TradingCalendar) -> &'c TradingCalendar {
        match self {
            Cadence::User(user) => user.calendar.as_deref().unwrap_or(nyse),
            _ => nyse,
        }
    }

    /// The cycle an artifact of this cadence is judged in at `now`: the cadence's cycle,
    /// moved by the artifact's active `windows` (what they say, and the tick they move) and,
    /// when the artifact is judged `off_cycle`, with the previous tick.
    pub fn artifact_cycle_at(
        &self,
        now: DateTime<Utc>,
        calendar: &TradingCalendar,
        off_cycle: bool,
        windows: Option<&[window::ActiveWindow]>,
    ) -> Option<Cycle> {
        let mut cycle = self.cycle_at(now, calendar)?;
        if off_cycle {
            cycle.previous_tick = (cycle.tick)
                .checked_sub_signed(chrono::Duration::seconds(1))
                .and_then(|before| self.cycle_at(before, calendar))
                .map(|c| c.tick);
        }
        if let Some(windows) = windows {
            let (check, tick) = window::check(windows, cycle.tick, now);
            cycle.tick = tick;
            cycle.window = Some(check);
        }
        Some(cycle)
    }

    /// The cycle at `now`. `None` only for a cron schedule that has not fired in decades.
    /// `calendar` is the registry's NYSE calendar.
    pub fn cycle_at(&self, now: DateTime<Utc>, calendar: &TradingCalendar) -> Option<Cycle> {
        let (tick, label, date, length, closure) = match self {
            Cadence::SaturdaySf => {
                let tick = latest_daily_tick(now, 9, |d| d.weekday() == Weekday::Sat);
                let date = tick.date_naive();
                let label = format!("{}", date.format("%G-W%V"));
                (tick, label, date, Duration::days(7), None)
            }
            Cadence::WeekdaySf | Cadence::EodSf => {
                let hour = if matches!(self, Cadence::WeekdaySf) {
                    13
                } else {
                    21
                };
                let tick = latest_daily_tick(now, hour, |d| !is_weekend(d));
                let date = tick.date_naive();
                let closure = calendar
                    .weekday_closure(date)
                    .map(|reason| format!("market closed on {date}: {reason}"));
                (tick, date.to_string(), date, Duration::days(1), closure)
            }
            Cadence::Continuous { interval_minutes } => {
                let width = i64::from(*interval_minutes) * 60;
                let index = now.timestamp().div_euclid(width);
                let tick = Utc.timestamp_opt(index * width, 0).single()?;
                let label = format!("continuous_{interval_minutes}m_{index}");
                (
                    tick,
                    label,
                    tick.date_naive(),
                    Duration::seconds(width),
                    None,
                )
            }
            Cadence::User(user) => {
                let tick = user.schedule.previous_fire(user.zone(), now)?;
                let next = user.schedule.next_fire(user.zone(), tick)?;
                let local = tick.with_timezone(&user.timezone);
                let date = local.date_naive();
                let label = local.format("%Y-%m-%dT%H:%M").to_string();
                let closure = user.calendar.as_deref().and_then(|own| {
                    let reason = own.closure_on(date)?;
                    Some(match own.name() {
                        "nyse" => format!("market closed on {date}: {reason}"),
                        name => format!("{name} closed on {date}: {reason}"),
                    })
                });
                (tick, label, date, next - tick, closure)
            }
        };
        Some(Cycle {
            trading_day: self.calendar(calendar).last_closed_session(tick),
            tick,
            label,
            date,
            length,
            closure,
            window: None,
            previous_tick: None,
        })
    }
}

/// How much longer a user cadence's cycle can last in UTC than its gap between fires on the
/// wall clock: a zone's offset has fallen back by up to a day at once (America/Sitka in 1867,
/// Asia/Manila in 1844), and a fire time inside a spring-forward gap moves to the gap's end, at
/// most a day later (Pacific/Apia skipped 30 December 2011).
fn time_zone_margin() -> Duration {
    Duration::days(2)
}

/// A wall-clock gap between fires, widened for a schedule whose DST rule drops the fire times
/// a spring-forward gap skips: the fires dropped lie within one day, and the wall clock on
/// either side of them has no longer a stretch without fires than `gap`.
fn with_skipped_fires(user: &UserCadence, gap: Duration) -> Duration {
    if user.schedule.may_skip_fires(user.dst) {
        gap + gap + Duration::days(1)
    } else {
        gap
    }
}

/// The first and last seconds of the years 0 to 9999, the times a pass computes with.
const FIRST_TIMESTAMP: i64 = -62_167_219_200;
const LAST_TIMESTAMP: i64 = 253_402_300_799;

impl Cadence {
    /// The longest cycle this cadence can have, for bounding grace periods: 7 days, 1 day,
    /// the interval, or for a user cadence its longest gap between fires plus what its time
    /// zone and its DST rule may add. For a user cadence this walks 400 years of days: keep the answer.
    pub fn longest_cycle(&self) -> Duration {
        match self {
            Cadence::User(user) => {
                with_skipped_fires(user, user.schedule.longest_gap()) + time_zone_margin()
            }
            other => other.longest_cycle_bound(),
        }
    }

    /// At least [`Cadence::longest_cycle`], at no cost: for a user cadence, the longest gap
    /// any cron expression can have.
    pub fn longest_cycle_bound(&self) -> Duration {
        match self {
            Cadence::SaturdaySf => Duration::days(7),
            Cadence::WeekdaySf | Cadence::EodSf => Duration::days(1),
            Cadence::Continuous { interval_minutes } => {
                Duration::minutes(i64::from(*interval_minutes))
            }
            Cadence::User(user) => {
                with_skipped_fires(user, Duration::days(cron::MAX_GAP_DAYS)) + time_zone_margin()
            }
        }
    }

    /// The most bytes a cycle label takes for ticks in the years 0 to 9999.
    pub fn longest_label(&self) -> usize {
        match self {
            // `-0001-W52`: Saturday 0000-01-01 is in the last ISO week of the year -1.
            Cadence::SaturdaySf => 9,
            Cadence::WeekdaySf | Cadence::EodSf => "9999-12-31".len(),
            Cadence::Continuous { interval_minutes } => {
                let width = i64::from((*interval_minutes).max(1)) * 60;
                let first = FIRST_TIMESTAMP.div_euclid(width).to_string().len();
                let last = LAST_TIMESTAMP.div_euclid(width).to_string().len();
                format!("continuous_{interval_minutes}m_").len() + first.max(last)
            }
            Cadence::User(_) => "9999-12-31T23:59".len(),
        }
    }
}

/// The most recent `hour:00` UTC at or before `now` on a day that `day_ok` accepts.
fn latest_daily_tick(
    now: DateTime<Utc>,
    hour: u32,
    day_ok: impl Fn(NaiveDate) -> bool,
) -> DateTime<Utc> {
    let at_hour = NaiveTime::from_hms_opt(hour, 0, 0).expect("valid hour");
    let mut date = now.date_naive();
    if now.time() < at_hour {
        date = date - Days::new(1);
    }
    while !day_ok(date) {
        date = date - Days::new(1);
    }
    date.and_time(at_hour).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn cycle(c: &Cadence, now: &str) -> Cycle {
        c.cycle_at(at(now), &TradingCalendar::nyse([])).unwrap()
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn saturday_sf_ticks_saturday_0900_and_labels_the_iso_week() {
        let c = cycle(&Cadence::SaturdaySf, "2026-06-03T12:00:00Z"); // Wednesday
        assert_eq!(c.tick, at("2026-05-30T09:00:00Z"));
        assert_eq!(c.label, "2026-W22");
        assert_eq!(c.date, d("2026-05-30"));
        assert_eq!(c.trading_day, d("2026-05-29"));
        assert_eq!(c.length, Duration::days(7));
        assert_eq!(c.closure, None);
    }

    #[test]
    fn saturday_sf_before_0900_on_saturday_is_the_previous_saturday() {
        let c = cycle(&Cadence::SaturdaySf, "2026-06-06T08:59:59Z");
        assert_eq!(c.tick, at("2026-05-30T09:00:00Z"));
        let c = cycle(&Cadence::SaturdaySf, "2026-06-06T09:00:00Z");
        assert_eq!(c.tick, at("2026-06-06T09:00:00Z"));
        assert_eq!(c.label, "2026-W23");
    }

    #[test]
    fn saturday_sf_iso_week_across_the_year_end() {
        // Saturday 2027-01-02 belongs to ISO week 2026-W53.
        let c = cycle(&Cadence::SaturdaySf, "2027-01-03T00:00:00Z");
        assert_eq!(c.label, "2026-W53");
    }

    #[test]
    fn weekday_sf_before_1300_is_the_previous_weekday() {
        let c = cycle(&Cadence::WeekdaySf, "2026-06-01T12:59:00Z"); // Monday
        assert_eq!(c.tick, at("2026-05-29T13:00:00Z"));
        assert_eq!(c.label, "2026-05-29");
        let c = cycle(&Cadence::WeekdaySf, "2026-06-01T13:00:00Z");
        assert_eq!(c.label, "2026-06-01");
        assert_eq!(c.trading_day, d("2026-05-29"));
    }

    #[test]
    fn weekday_sf_on_a_holiday_is_the_closed_day_and_says_so() {
        let c = cycle(&Cadence::WeekdaySf, "2026-07-03T15:00:00Z");
        assert_eq!(c.label, "2026-07-03");
        assert_eq!(
            c.closure.as_deref(),
            Some("market closed on 2026-07-03: Independence Day (observed)")
        );
    }

    #[test]
    fn eod_sf_evening_cycle_trading_day_is_the_same_day() {
        let c = cycle(&Cadence::EodSf, "2026-06-02T22:00:00Z");
        assert_eq!(c.tick, at("2026-06-02T21:00:00Z"));
        assert_eq!(c.trading_day, d("2026-06-02"));
        // On a weekend, Friday's evening cycle.
        let c = cycle(&Cadence::EodSf, "2026-06-06T22:00:00Z");
        assert_eq!(c.tick, at("2026-06-05T21:00:00Z"));
    }

    #[test]
    fn continuous_buckets_count_from_the_epoch() {
        let c = cycle(
            &Cadence::Continuous {
                interval_minutes: 60,
            },
            "2026-06-02T10:59:00Z",
        );
        assert_eq!(c.tick, at("2026-06-02T10:00:00Z"));
        let index = at("2026-06-02T10:00:00Z").timestamp() / 3600;
        assert_eq!(c.label, format!("continuous_60m_{index}"));
        assert_eq!(c.length, Duration::minutes(60));
        assert_eq!(c.date, d("2026-06-02"));
    }

    #[test]
    fn the_longest_labels_are_those_of_the_first_and_last_years() {
        let calendar = TradingCalendar::nyse([]);
        // A Thursday: every cadence's tick is then in the year 0 too.
        let first = Utc.timestamp_opt(FIRST_TIMESTAMP, 0).unwrap() + Duration::days(5);
        let last = Utc.timestamp_opt(LAST_TIMESTAMP, 0).unwrap();
        for cadence in [
            Cadence::SaturdaySf,
            Cadence::WeekdaySf,
            Cadence::EodSf,
            Cadence::Continuous {
                interval_minutes: 1,
            },
            Cadence::Continuous {
                interval_minutes: 52_596_000,
            },
            user("59 23 * * *", "UTC", false),
        ] {
            let labels: Vec<usize> = [first, last]
                .iter()
                .filter_map(|&now| cadence.cycle_at(now, &calendar))
                .map(|c| c.label.len())
                .collect();
            assert_eq!(
                labels.iter().max(),
                Some(&cadence.longest_label()),
                "{cadence:?}: {labels:?}"
            );
        }
    }

    #[test]
    fn the_longest_cycle_of_a_user_cadence_adds_the_time_zone_margin() {
        let daily = user("0 2 * * *", "America/New_York", false);
        assert_eq!(daily.longest_cycle(), Duration::days(3));
        assert!(daily.longest_cycle() <= daily.longest_cycle_bound());
        let rare = user("0 0 29 2 */7", "UTC", false);
        assert_eq!(rare.longest_cycle(), rare.longest_cycle_bound());
        assert_eq!(
            Cadence::Continuous {
                interval_minutes: 90
            }
            .longest_cycle(),
            Duration::minutes(90)
        );
    }

    fn user(cron: &str, tz: &str, nyse: bool) -> Cadence {
        Cadence::User(Arc::new(UserCadence {
            name: "u".into(),
            schedule: CronSchedule::parse(cron).unwrap(),
            timezone: tz.parse().unwrap(),
            calendar: nyse.then(|| Arc::new(TradingCalendar::nyse([]))),
            dst: DstRule::Cron,
        }))
    }

    #[test]
    fn user_cadence_labels_the_local_tick_across_both_2026_dst_changes() {
        let c = user("30 9 * * 1-5", "America/New_York", true);
        // Friday before the March change: 09:30 EST = 14:30 UTC.
        let before = cycle(&c, "2026-03-06T15:00:00Z");
        assert_eq!(before.tick, at("2026-03-06T14:30:00Z"));
        assert_eq!(before.label, "2026-03-06T09:30");
        // Monday after: 09:30 EDT = 13:30 UTC; the weekend gap is the cycle length.
        let after = cycle(&c, "2026-03-09T14:00:00Z");
        assert_eq!(after.tick, at("2026-03-09T13:30:00Z"));
        assert_eq!(after.label, "2026-03-09T09:30");
        assert_eq!(before.length, Duration::hours(71));
        // November: Friday 09:30 EDT, then Monday 09:30 EST.
        let fri = cycle(&c, "2026-10-30T14:00:00Z");
        assert_eq!(fri.tick, at("2026-10-30T13:30:00Z"));
        assert_eq!(fri.length, Duration::hours(73));
        let mon = cycle(&c, "2026-11-02T15:00:00Z");
        assert_eq!(mon.tick, at("2026-11-02T14:30:00Z"));
    }

    #[test]
    fn user_cadence_with_nyse_calendar_knows_closures() {
        let c = user("30 9 * * *", "America/New_York", true);
        let sat = cycle(&c, "2026-06-20T15:00:00Z");
        assert_eq!(
            sat.closure.as_deref(),
            Some("market closed on 2026-06-20: weekend (Saturday)")
        );
        let juneteenth = cycle(&c, "2026-06-19T15:00:00Z");
        assert_eq!(
            juneteenth.closure.as_deref(),
            Some("market closed on 2026-06-19: Juneteenth")
        );
        let plain = user("30 9 * * *", "America/New_York", false);
        assert_eq!(cycle(&plain, "2026-06-19T15:00:00Z").closure, None);
    }

    #[test]
    fn an_hourly_cron_job_on_the_spring_change_is_judged_against_the_fire_it_had() {
        // Issue 14: `30 * * * *` in New York had no 02:30 on 2026-03-08 under Debian cron's
        // rule. At 07:10Z the cycle is 01:30 EST's (06:30Z), so a write at 06:31Z is of it.
        let mut hourly = UserCadence {
            name: "hourly".into(),
            schedule: CronSchedule::parse("30 * * * *").unwrap(),
            timezone: chrono_tz::America::New_York,
            calendar: None,
            dst: DstRule::Cron,
        };
        let c = cycle(
            &Cadence::User(Arc::new(hourly.clone())),
            "2026-03-08T07:10:00Z",
        );
        assert_eq!(c.tick, at("2026-03-08T06:30:00Z"));
        assert_eq!(c.label, "2026-03-08T01:30");
        assert_eq!(c.length, Duration::hours(1));
        // EventBridge Scheduler skips it too; a fixed-time job under cron moves to 03:00.
        hourly.dst = DstRule::EventBridge;
        let c = cycle(&Cadence::User(Arc::new(hourly)), "2026-03-08T07:10:00Z");
        assert_eq!(c.tick, at("2026-03-08T06:30:00Z"));
        let fixed = user("30 2 * * *", "America/New_York", false);
        assert_eq!(
            cycle(&fixed, "2026-03-08T07:10:00Z").tick,
            at("2026-03-08T07:00:00Z")
        );
    }

    #[test]
    fn a_rule_that_drops_skipped_fires_widens_the_longest_cycle() {
        let weekly = |dst| {
            Cadence::User(Arc::new(UserCadence {
                name: "w".into(),
                schedule: CronSchedule::parse("30 2 * * 0").unwrap(),
                timezone: chrono_tz::America::New_York,
                calendar: None,
                dst,
            }))
        };
        // Under EventBridge the Sunday of the spring change has no 02:30: two weeks then.
        let dropped = weekly(DstRule::EventBridge);
        assert_eq!(dropped.longest_cycle(), Duration::days(7 + 7 + 1 + 2));
        assert!(dropped.longest_cycle() <= dropped.longest_cycle_bound());
        let c = dropped
            .cycle_at(at("2026-03-14T12:00:00Z"), &TradingCalendar::nyse([]))
            .unwrap();
        assert_eq!(c.label, "2026-03-01T02:30");
        assert_eq!(c.length, Duration::days(14) - Duration::hours(1));
        assert_eq!(weekly(DstRule::Cron).longest_cycle(), Duration::days(7 + 2));
    }
}
