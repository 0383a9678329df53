//! NYSE's closed weekdays in the years with unscheduled closures, and the session rules.

use super::*;

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

#[test]
fn an_early_close_ends_the_session_at_its_early_time() {
    let cal = TradingCalendar::nyse([]);
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // 2026-11-27, the day after Thanksgiving, closes at 13:00 New York (18:00 UTC).
    assert_eq!(
        cal.close_on(d("2026-11-27")),
        rules::CloseTime::hm(13, 0).unwrap()
    );
    assert_eq!(
        cal.last_closed_session(at("2026-11-27T17:59:00Z")),
        d("2026-11-25")
    );
    assert_eq!(
        cal.last_closed_session(at("2026-11-27T18:00:00Z")),
        d("2026-11-27")
    );
    assert_eq!(
        cal.session_close(d("2026-11-27")),
        Some(at("2026-11-27T18:00:00Z"))
    );
    // A regular day closes at 16:00.
    assert_eq!(
        cal.session_close(d("2026-11-30")),
        Some(at("2026-11-30T21:00:00Z"))
    );
}

#[test]
fn english_bank_holidays_move_to_the_next_free_weekday() {
    let lse = TradingCalendar::new(builtin::lse(), []);
    let closed: Vec<String> = lse
        .closed_weekdays(2021)
        .into_iter()
        .filter(|(d, _)| d.month() == 12)
        .map(|(d, r)| format!("{d} {r}"))
        .collect();
    // Christmas on a Saturday, Boxing Day on the Sunday: Monday and Tuesday.
    assert_eq!(
        closed,
        [
            "2021-12-27 Christmas Day (observed)",
            "2021-12-28 Boxing Day (observed)"
        ]
    );
    // New Year's Day 2022 on a Saturday: Monday 3 January.
    assert!(!lse.is_trading_day(d("2022-01-03")));
    // Christmas Eve 2022 on a Saturday: the early close is Friday 23rd.
    let early: Vec<NaiveDate> = lse.early_closes(2022).into_iter().map(|e| e.0).collect();
    assert_eq!(early, [d("2022-12-23"), d("2022-12-30")]);
}

#[test]
fn a_custom_weekend_and_rules_decide_business_days() {
    use rules::{DayRule, Observance, WeekdaySet};
    let calendar = TradingCalendar::new(
        CalendarRules {
            name: "desk".into(),
            timezone: chrono_tz::Asia::Dubai,
            close: rules::CloseTime::END_OF_DAY,
            weekend: WeekdaySet::of(&[Weekday::Fri, Weekday::Sat]),
            holidays: vec![DayRule::fixed("Founding", 3, 6).observed(Observance::NextWeekday)],
            closures: vec![],
            early_closes: vec![],
        },
        [],
    );
    // 2026-03-06 is a Friday (weekend here): observed on Sunday 8 March.
    assert!(calendar.is_trading_day(d("2026-03-01"))); // a Sunday
    assert!(!calendar.is_trading_day(d("2026-03-08")));
    assert_eq!(
        calendar.closure_on(d("2026-03-07")).as_deref(),
        Some("weekend (Saturday)")
    );
    // A session that closes at midnight has not closed until the day is over.
    let at = "2026-03-09T12:00:00Z".parse::<DateTime<Utc>>().unwrap();
    assert_eq!(calendar.last_closed_session(at), d("2026-03-05"));
}

#[test]
fn calendars_find_any_builtin_by_name() {
    let calendars = Calendars::builtin([d("2026-03-11")]);
    assert_eq!(calendars.names(), ["nyse", "lse", "xetr"]);
    assert!(!calendars.nyse().is_trading_day(d("2026-03-11")));
    assert!(
        calendars
            .get("lse")
            .unwrap()
            .is_trading_day(d("2026-03-11"))
    );
    assert!(calendars.get("nasdaq").is_none());
}

/// The calendar `desk` of a registry whose `calendars:` is `desk_yaml` (indented under
/// `desk:`), or the registry's errors.
fn desk(desk_yaml: &str) -> Result<Arc<TradingCalendar>, Vec<String>> {
    let text = format!("schema_version: 1\ncalendars:\n  desk:\n{desk_yaml}artifacts: []\n");
    match crate::registry::parse_registry("r.yaml", text.as_bytes()) {
        Ok(registry) => Ok(registry.calendars.get("desk").expect("desk").clone()),
        Err(err) => Err(err.errors.iter().map(|e| e.to_string()).collect()),
    }
}

fn closed_in(calendar: &TradingCalendar, year: i32) -> Vec<String> {
    (calendar.closed_weekdays(year).into_iter())
        .map(|(d, r)| format!("{d} {r}"))
        .collect()
}

#[test]
fn only_on_filters_the_rule_own_date_before_observance_moves_it() {
    let calendar = desk(
        "    holidays:\n      - {name: Fourth, month: 7, day: 4, only_on: [saturday], \
         observance: previous_weekday}\n",
    )
    .unwrap();
    // 2026-07-04 is a Saturday: it passes `only_on`, then moves to Friday.
    assert_eq!(closed_in(&calendar, 2026), ["2026-07-03 Fourth (observed)"]);
    // 2027-07-04 is a Sunday: not a Saturday, so no date (not moved to Monday nor Friday).
    assert!(closed_in(&calendar, 2027).is_empty());
}

#[test]
fn from_and_until_compare_the_year_of_the_rule_own_date_not_of_the_moved_one() {
    let rule = "    holidays:\n      - {name: New Year, month: 1, day: 1, observance: \
                nearest_weekday, ";
    // 1 January 2022 is a Saturday, observed Friday 31 December 2021: the 2022 holiday.
    let from_2022 = desk(&format!("{rule}from: 2022}}\n")).unwrap();
    assert_eq!(
        closed_in(&from_2022, 2021),
        ["2021-12-31 New Year (observed)"]
    );
    let until_2021 = desk(&format!("{rule}until: 2021}}\n")).unwrap();
    assert_eq!(
        closed_in(&until_2021, 2021),
        ["2021-01-01 New Year"],
        "the 2022 holiday is not the rule's, though it falls in 2021"
    );
}

#[test]
fn moving_observances_skip_holidays_and_closures() {
    // 24 December 2022 is a Saturday; Friday 23rd is a holiday, Thursday 22nd a closure: the
    // early close moves back to Wednesday 21st, a day with a session.
    let calendar = desk(
        "    close: \"16:00\"\n    holidays:\n      - {name: Eve eve, month: 12, day: 23}\n    \
         closures: [2022-12-22]\n    early_closes:\n      - {name: Christmas Eve, month: 12, \
         day: 24, close: \"12:00\", observance: previous_weekday}\n",
    )
    .unwrap();
    let early: Vec<String> = (calendar.early_closes(2022).into_iter())
        .map(|(d, close, name)| format!("{d} {close} {name}"))
        .collect();
    assert_eq!(early, ["2022-12-21 12:00 Christmas Eve"]);

    // 1 January 2022 is a Saturday; Monday 3rd is a closure: the holiday is Tuesday 4th.
    let calendar = desk(
        "    holidays:\n      - {name: New Year, month: 1, day: 1, observance: next_weekday}\n    \
         closures: [2022-01-03]\n",
    )
    .unwrap();
    assert_eq!(
        closed_in(&calendar, 2022),
        [
            "2022-01-03 closure listed in calendars.desk.closures",
            "2022-01-04 New Year (observed)"
        ]
    );
}

#[test]
fn a_holiday_wins_over_an_early_close_on_its_own_date() {
    // 24 December 2026 is a Thursday: the holiday that day wins, the early close is not moved.
    let calendar = desk(
        "    close: \"16:00\"\n    holidays:\n      - {name: Eve, month: 12, day: 24}\n    \
         early_closes:\n      - {name: Short, month: 12, day: 24, close: \"12:00\", \
         observance: previous_weekday}\n",
    )
    .unwrap();
    assert!(calendar.early_closes(2026).is_empty());
    assert_eq!(closed_in(&calendar, 2026), ["2026-12-24 Eve"]);
}

#[test]
fn what_a_rule_cannot_apply_is_refused_with_line_and_field() {
    let errors = desk(
        "    close: \"16:00\"\n    holidays:\n      - name: Eid\n        dates: [2026-03-20]\n        \
         only_on: [friday]\n    early_closes:\n      - {name: Late, month: 12, day: 24, \
         close: \"16:00\"}\n      - {name: Later, month: 12, day: 31, close: \"17:30\"}\n",
    )
    .expect_err("refused");
    assert_eq!(
        errors,
        [
            "r.yaml:8: field calendars.desk.holidays[0].only_on: `only_on` does not apply to \
             explicit `dates`",
            "r.yaml:10: field calendars.desk.early_closes[0].close: an early close at 16:00 is \
             not before the calendar's close (16:00): an early close ends the session earlier \
             than usual",
            "r.yaml:11: field calendars.desk.early_closes[1].close: an early close at 17:30 is \
             not before the calendar's close (16:00): an early close ends the session earlier \
             than usual",
        ]
    );
    // Without a `close:`, the day ends at 24:00: an early close at 24:00 is none.
    let errors =
        desk("    early_closes:\n      - {name: Late, month: 12, day: 24, close: \"24:00\"}\n")
            .expect_err("refused");
    assert!(
        errors[0].ends_with(
            "an early close at 24:00 is not before the calendar's close (24:00): \
                             an early close ends the session earlier than usual"
        ),
        "{errors:?}"
    );
}
