//! The next deadline, one table row per kind of cadence and per way an artifact can be
//! settled or not, with a fixed `now`.

use std::sync::Arc;

use super::*;
use crate::registry::parse_registry;
use crate::report::Reason;

const HEAD: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
cadences:
  at_07: {cron: \"7 * * * *\", timezone: UTC}
  nightly_ny: {cron: \"30 18 * * 1-5\", timezone: America/New_York, calendar: nyse}
artifacts:
";

fn registry(artifacts: &str) -> Registry {
    let text = format!("{HEAD}{artifacts}");
    let registry = parse_registry("R.yaml", text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    registry
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A row for each artifact: `Fresh` unless named in `missing` (with its due time and whether
/// it alerts) or in `grace`.
fn rows(registry: &Registry, missing: &[(&str, &str, bool)], grace: &[&str]) -> Vec<ResultRow> {
    (registry.entries.iter())
        .map(|entry| {
            let id = entry.label();
            let mut row = ResultRow::blank(Arc::from(id), State::Fresh, Reason::Derived);
            if let Some((_, due, alerting)) = missing.iter().find(|(m, ..)| *m == id) {
                row.state = State::Missing;
                row.set_due_at(Some(at(due)));
                row.alerting = *alerting;
            }
            if grace.contains(&id) {
                row.state = State::GracePeriod;
            }
            row
        })
        .collect()
}

fn next(
    artifacts: &str,
    missing: &[(&str, &str, bool)],
    grace: &[&str],
    now: &str,
) -> Option<(String, String)> {
    let registry = registry(artifacts);
    let rows = rows(&registry, missing, grace);
    next_deadline(&registry, &rows, at(now))
        .map(|d| (d.artifact_id, crate::text::rfc3339(d.alerts_from)))
}

fn expect(id: &str, alerts_from: &str) -> Option<(String, String)> {
    Some((id.to_string(), alerts_from.to_string()))
}

const AT_07: &str =
    "  - {artifact_id: a07, s3_key_template: a.json, cadence: at_07, sla_minutes_after_cron: 0}\n";
const SLA_50: &str = "  - {artifact_id: sla50, s3_key_template: s.json, cadence: continuous, interval_minutes: 60, sla_minutes_after_cron: 50}\n";
const WEEKDAY: &str = "  - {artifact_id: wd, s3_key_template: \"w/{date}.json\", cadence: weekday_sf, sla_minutes_after_cron: 30}\n";

#[test]
fn a_missing_artifact_not_yet_late_is_the_deadline_one_minute_after_its_due_time() {
    // Missing since 12:07, a minute late at 12:08: the pass at 12:07:30 names 12:08.
    assert_eq!(
        next(
            AT_07,
            &[("a07", "2026-06-03T12:07:00Z", false)],
            &[],
            "2026-06-03T12:07:30Z"
        ),
        expect("a07", "2026-06-03T12:08:00Z")
    );
    // The pass at 12:00 names the same moment.
    assert_eq!(
        next(
            AT_07,
            &[("a07", "2026-06-03T12:07:00Z", false)],
            &[],
            "2026-06-03T12:00:00Z"
        ),
        expect("a07", "2026-06-03T12:08:00Z")
    );
}

#[test]
fn a_landed_or_alerting_artifact_is_due_again_in_its_next_cycle() {
    for missing in [vec![], vec![("a07", "2026-06-03T12:07:00Z", true)]] {
        assert_eq!(
            next(AT_07, &missing, &[], "2026-06-03T12:15:00Z"),
            expect("a07", "2026-06-03T13:08:00Z"),
            "{missing:?}"
        );
    }
}

#[test]
fn every_cadence_kind_names_its_own_moment() {
    // An SLA of 50 minutes on hourly buckets: 12:50, alerting from 12:51.
    assert_eq!(
        next(
            SLA_50,
            &[("sla50", "2026-06-03T12:50:00Z", false)],
            &[],
            "2026-06-03T12:15:00Z"
        ),
        expect("sla50", "2026-06-03T12:51:00Z")
    );
    // Landed: the next bucket's 13:50.
    assert_eq!(
        next(SLA_50, &[], &[], "2026-06-03T12:15:00Z"),
        expect("sla50", "2026-06-03T13:51:00Z")
    );
    // weekday_sf (13:00 UTC) + 30 minutes, landed on Friday: Monday's, over the weekend.
    assert_eq!(
        next(WEEKDAY, &[], &[], "2026-06-05T14:00:00Z"),
        expect("wd", "2026-06-08T13:31:00Z")
    );
    // The earliest of several wins.
    let all = format!("{AT_07}{SLA_50}{WEEKDAY}");
    assert_eq!(
        next(&all, &[], &[], "2026-06-03T12:55:00Z"),
        expect("a07", "2026-06-03T13:08:00Z")
    );
    // Past 13:00 weekday_sf has ticked: not landed yet, its 13:30 comes first; landed, the
    // next hour's :07 does.
    let wd_missing = [("wd", "2026-06-03T13:30:00Z", false)];
    assert_eq!(
        next(&all, &wd_missing, &[], "2026-06-03T13:10:00Z"),
        expect("wd", "2026-06-03T13:31:00Z")
    );
    assert_eq!(
        next(&all, &[], &[], "2026-06-03T13:10:00Z"),
        expect("a07", "2026-06-03T14:08:00Z")
    );
}

#[test]
fn continuous_cadences_of_other_intervals_do_not_share_an_answer() {
    // Landed: the hourly one's next bucket is due 13:10, the half-hourly one's 12:40.
    let both = "  - {artifact_id: hourly, s3_key_template: h.json, cadence: continuous, interval_minutes: 60, sla_minutes_after_cron: 10}
  - {artifact_id: half, s3_key_template: t.json, cadence: continuous, interval_minutes: 30, sla_minutes_after_cron: 10}
";
    assert_eq!(
        next(both, &[], &[], "2026-06-03T12:15:00Z"),
        expect("half", "2026-06-03T12:41:00Z")
    );
}

#[test]
fn market_closures_are_skipped_unless_the_artifact_is_not_calendar_aware() {
    // Thursday 2026-11-26 is Thanksgiving: from Wednesday evening, Friday's session is next.
    let nightly = "  - {artifact_id: ny, s3_key_template: n.json, cadence: nightly_ny, sla_minutes_after_cron: 20}\n";
    assert_eq!(
        next(nightly, &[], &[], "2026-11-26T00:00:00Z"),
        expect("ny", "2026-11-27T23:51:00Z")
    );
    let unaware = "  - {artifact_id: ny, s3_key_template: n.json, cadence: nightly_ny, sla_minutes_after_cron: 20, calendar_aware: false}\n";
    assert_eq!(
        next(unaware, &[], &[], "2026-11-26T00:00:00Z"),
        expect("ny", "2026-11-26T23:51:00Z")
    );
    // weekday_sf on Thanksgiving: Friday 13:30.
    assert_eq!(
        next(WEEKDAY, &[], &[], "2026-11-25T14:00:00Z"),
        expect("wd", "2026-11-27T13:31:00Z")
    );
}

#[test]
fn active_windows_move_the_deadline_to_the_window() {
    // 15-minute buckets written in NYSE hours only (13:30 UTC in June), SLA 10: from the
    // evening, the first bucket of the next session's window.
    let windowed = "  - artifact_id: quotes
    s3_key_template: \"q/{cycle_label}.json\"
    cadence: continuous
    interval_minutes: 15
    sla_minutes_after_cron: 10
    active_windows:
      - {calendar: nyse, from: \"09:30\", to: \"16:00\", timezone: America/New_York}
";
    assert_eq!(
        next(windowed, &[], &[], "2026-06-03T21:00:00Z"),
        expect("quotes", "2026-06-04T13:41:00Z")
    );
    // Inside the window: the next bucket.
    assert_eq!(
        next(windowed, &[], &[], "2026-06-04T14:05:00Z"),
        expect("quotes", "2026-06-04T14:26:00Z")
    );
}

#[test]
fn a_grace_period_skips_the_cycles_it_covers() {
    // Created 2026-06-03 with two daily cycles of grace: nothing is due before 06-05 00:00, so
    // 06-05's 13:30 is the first deadline.
    let new = "  - {artifact_id: wd, s3_key_template: \"w/{date}.json\", cadence: weekday_sf, sla_minutes_after_cron: 30, created_at: 2026-06-03, grace_period_cycles: 2}\n";
    assert_eq!(
        next(new, &[], &["wd"], "2026-06-03T14:00:00Z"),
        expect("wd", "2026-06-05T13:31:00Z")
    );
    // Listed first, it does not hide an old artifact of the same cadence and SLA.
    let both = format!("{}{WEEKDAY}", new.replace("wd,", "wd2,"));
    assert_eq!(
        next(&both, &[], &["wd2"], "2026-06-03T14:00:00Z"),
        expect("wd", "2026-06-04T13:31:00Z")
    );
}

#[test]
fn an_sla_as_long_as_the_cycle_is_never_late_and_nothing_beyond_the_horizon_counts() {
    let never = "  - {artifact_id: slow, s3_key_template: s.json, cadence: continuous, interval_minutes: 60, sla_minutes_after_cron: 60}\n";
    assert_eq!(next(never, &[], &[], "2026-06-03T12:15:00Z"), None);
    let yearly = "  - {artifact_id: y, s3_key_template: y.json, cadence: yearly, sla_minutes_after_cron: 0}\n";
    let text = format!(
        "{}{yearly}",
        HEAD.replace(
            "cadences:\n",
            "cadences:\n  yearly: {cron: \"0 0 1 1 *\", timezone: UTC}\n"
        )
    );
    let registry = parse_registry("R.yaml", text.as_bytes()).unwrap();
    let rows = rows(&registry, &[], &[]);
    assert_eq!(
        next_deadline(&registry, &rows, at("2026-06-03T12:15:00Z")),
        None
    );
}

#[test]
fn a_pass_over_some_artifacts_only_names_no_deadline() {
    let registry = registry(&format!("{AT_07}{SLA_50}"));
    let mut rows = rows(&registry, &[], &[]);
    rows.pop();
    assert_eq!(
        next_deadline(&registry, &rows, at("2026-06-03T12:15:00Z")),
        None
    );
}

#[test]
fn the_pass_runs_a_margin_after_the_deadline_on_a_whole_second_never_early() {
    let deadline = NextDeadline {
        alerts_from: at("2026-06-03T12:08:00Z"),
        due_at: at("2026-06-03T12:07:00Z"),
        artifact_id: "a07".into(),
    };
    let margin = Duration::seconds(5);
    let t = pass_time(&deadline, margin, at("2026-06-03T12:00:00Z"));
    assert_eq!(crate::text::rfc3339(t), "2026-06-03T12:08:05Z");
    assert_eq!(at_expression(t), "at(2026-06-03T12:08:05)");
    // Judged at an old `now` whose deadline is already past by the clock: as soon as can be.
    let t = pass_time(&deadline, margin, at("2026-06-03T12:30:00.250Z"));
    assert_eq!(crate::text::rfc3339(t), "2026-06-03T12:30:06Z");
}
