//! Cron expressions: parsing, fire times, and DST rules checked against cronsim.

use super::*;
use chrono_tz::America::New_York;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// A zone read by Debian cron's rule.
fn cron(tz: Tz) -> Zone {
    Zone {
        tz,
        dst: DstRule::Cron,
    }
}

#[test]
fn a_leap_day_is_found_across_the_eight_year_gap_of_2100() {
    // Day of month and day of week are OR-ed when both are restricted (Vixie cron), so
    // the rarest day a schedule can name is 29 February alone: 2100 is no leap year.
    let schedule = CronSchedule::parse("0 0 29 2 *").unwrap();
    let tz = cron(chrono_tz::UTC);
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

#[test]
fn previous_and_next_fire_in_new_york() {
    let c = CronSchedule::parse("0 14 1 * *").unwrap();
    // 14:00 EDT on 2026-06-01 is 18:00 UTC.
    assert_eq!(
        c.previous_fire(cron(New_York), at("2026-06-10T00:00:00Z")),
        Some(at("2026-06-01T18:00:00Z"))
    );
    assert_eq!(
        c.next_fire(cron(New_York), at("2026-06-01T18:00:00Z")),
        Some(at("2026-07-01T18:00:00Z"))
    );
    // Winter: 14:00 EST is 19:00 UTC.
    assert_eq!(
        c.previous_fire(cron(New_York), at("2026-12-05T00:00:00Z")),
        Some(at("2026-12-01T19:00:00Z"))
    );
}

#[test]
fn a_fixed_time_skipped_by_spring_forward_fires_when_the_gap_ends_under_cron() {
    // 2026-03-08 02:30 does not exist in New York; clocks jump from 02:00 EST to 03:00 EDT
    // (07:00 UTC).
    let c = CronSchedule::parse("30 2 * * *").unwrap();
    assert_eq!(
        c.previous_fire(cron(New_York), at("2026-03-08T12:00:00Z")),
        Some(at("2026-03-08T07:00:00Z"))
    );
}

#[test]
fn a_fixed_time_repeated_by_fall_back_fires_once() {
    // 2026-11-01 01:30 happens twice in New York: 05:30 UTC (EDT) and 06:30 UTC (EST).
    let c = CronSchedule::parse("30 1 * * *").unwrap();
    for dst in [DstRule::Cron, DstRule::EventBridge] {
        let zone = Zone { tz: New_York, dst };
        assert_eq!(
            c.previous_fire(zone, at("2026-11-01T07:00:00Z")),
            Some(at("2026-11-01T05:30:00Z"))
        );
        assert_eq!(
            c.next_fire(zone, at("2026-11-01T05:30:00Z")),
            Some(at("2026-11-02T06:30:00Z"))
        );
    }
}

#[test]
fn an_hourly_wildcard_job_skips_the_spring_gap_under_cron() {
    // Issue 14: `30 * * * *` in New York never had a 02:30 on 2026-03-08. At 07:10Z the last
    // fire was 01:30 EST (06:30Z), so an artifact written at 06:31Z is of the current cycle.
    let c = CronSchedule::parse("30 * * * *").unwrap();
    assert_eq!(
        c.previous_fire(cron(New_York), at("2026-03-08T07:10:00Z")),
        Some(at("2026-03-08T06:30:00Z"))
    );
    assert_eq!(
        c.next_fire(cron(New_York), at("2026-03-08T06:30:00Z")),
        Some(at("2026-03-08T07:30:00Z"))
    );
}

#[test]
fn an_hourly_wildcard_job_runs_the_repeated_hour_twice_under_cron_once_under_eventbridge() {
    let c = CronSchedule::parse("30 * * * *").unwrap();
    let eventbridge = Zone {
        tz: New_York,
        dst: DstRule::EventBridge,
    };
    // 01:30 EDT is 05:30Z, 01:30 EST 06:30Z, 02:30 EST 07:30Z.
    assert_eq!(
        c.next_fire(cron(New_York), at("2026-11-01T05:30:00Z")),
        Some(at("2026-11-01T06:30:00Z"))
    );
    assert_eq!(
        c.next_fire(eventbridge, at("2026-11-01T05:30:00Z")),
        Some(at("2026-11-01T07:30:00Z"))
    );
    assert_eq!(
        c.previous_fire(eventbridge, at("2026-11-01T07:10:00Z")),
        Some(at("2026-11-01T05:30:00Z"))
    );
}

#[test]
fn eventbridge_never_fires_a_time_that_does_not_exist() {
    let c = CronSchedule::parse("30 2 * * *").unwrap();
    let eventbridge = Zone {
        tz: New_York,
        dst: DstRule::EventBridge,
    };
    // No 02:30 on 2026-03-08: the last fire is the day before's (02:30 EST = 07:30Z).
    assert_eq!(
        c.previous_fire(eventbridge, at("2026-03-08T12:00:00Z")),
        Some(at("2026-03-07T07:30:00Z"))
    );
    assert_eq!(
        c.next_fire(eventbridge, at("2026-03-07T07:30:00Z")),
        Some(at("2026-03-09T06:30:00Z"))
    );
}

/// Every fire of `schedule` in `zone` after `from` up to `until`, by `next_fire`.
fn fires_between(
    schedule: &CronSchedule,
    zone: Zone,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    let mut fires = Vec::new();
    let mut after = from;
    while let Some(fire) = schedule.next_fire(zone, after).filter(|&f| f <= until) {
        fires.push(fire);
        after = fire;
    }
    fires
}

#[test]
fn debian_cron_rule_matches_cronsim_on_the_2026_dst_days() {
    // Reference fire times generated once by cronsim 2.8 (healthchecks.io's evaluator, which
    // follows Debian cron): tests/fixtures/reference/cronsim_dst.py.
    let table = include_str!("../../../../../tests/fixtures/reference/cronsim_dst.tsv");
    let mut checked = 0;
    for line in table.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let [expression, zone, local_start, expected] = fields[..] else {
            panic!("bad reference line {line:?}");
        };
        let schedule = CronSchedule::parse(expression).unwrap();
        let tz: Tz = zone.parse().unwrap();
        let local: NaiveDateTime = local_start.parse().unwrap();
        let start = tz.from_local_datetime(&local).unwrap().with_timezone(&Utc);
        let until = start + chrono::Duration::hours(30);
        let expected: Vec<DateTime<Utc>> = expected
            .split(',')
            .filter(|t| !t.is_empty())
            .map(at)
            .collect();
        let fires = fires_between(&schedule, cron(tz), start, until);
        assert_eq!(fires, expected, "{expression} in {zone} from {local_start}");
        // Walking back from each fire finds the one before it.
        for pair in expected.windows(2) {
            let just_before = pair[1] - chrono::Duration::seconds(1);
            assert_eq!(
                schedule.previous_fire(cron(tz), just_before),
                Some(pair[0]),
                "{expression} in {zone} before {}",
                pair[1]
            );
        }
        checked += 1;
    }
    assert_eq!(checked, 72);
}

#[test]
fn day_of_month_and_day_of_week_or_when_both_restricted() {
    // The 13th or any Friday.
    let c = CronSchedule::parse("0 0 13 * FRI").unwrap();
    let tz = cron(chrono_tz::UTC);
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
    let tz = cron(chrono_tz::UTC);
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
