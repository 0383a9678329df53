//! Business calendars: the built-in ones against a published source (every closed weekday
//! and early close of 2000–2050 as the `exchange_calendars` package, version in each data
//! file's header, gives them, generated once by `tests/data/calendars/generate.py` and
//! committed), and cadences gated by any calendar as the binary judges them.

use std::collections::BTreeSet;

use freshness_monitor::calendar::{BUILTIN_CALENDARS, Calendars};

use crate::support::scenario::LocalScenario;
use crate::support::{run_in, stderr, stdout};

/// `(date, what)` lines of one data file: `closed` or `early HH:MM`.
fn expected(name: &str) -> (String, BTreeSet<(String, String)>) {
    let path = format!(
        "{}/tests/data/calendars/{name}.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let header = text.lines().next().unwrap_or_default().to_string();
    let lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (date, what) = l.split_once(' ').expect("date and what");
            (date.to_string(), what.to_string())
        })
        .collect();
    (header, lines)
}

fn computed(name: &str, first: i32, last: i32) -> BTreeSet<(String, String)> {
    let calendars = Calendars::builtin([]);
    let calendar = calendars.get(name).expect("built-in calendar");
    let mut out = BTreeSet::new();
    for year in first..=last {
        for (date, _) in calendar.closed_weekdays(year) {
            out.insert((date.to_string(), "closed".to_string()));
        }
        for (date, close, _) in calendar.early_closes(year) {
            out.insert((date.to_string(), format!("early {close}")));
        }
    }
    out
}

#[test]
fn every_builtin_calendar_matches_exchange_calendars_2000_to_2050() {
    for name in BUILTIN_CALENDARS {
        let (header, expected) = expected(name);
        assert!(
            header.contains("exchange_calendars") && header.contains("2000-01-01 to 2050-12-31"),
            "{name}: {header}"
        );
        // 51 years of about ten closures and a few early closes each.
        assert!(expected.len() > 300, "{name}: {} dates", expected.len());
        let computed = computed(name, 2000, 2050);
        let missing: Vec<_> = expected.difference(&computed).collect();
        let extra: Vec<_> = computed.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{name} differs from {header}\nmissing: {missing:?}\nnot in the source: {extra:?}"
        );
    }
}

const BUCKET: &str = "research-bucket";

/// London and New York closes, each gated by its exchange, a New York afternoon cadence that
/// names no calendar (its `{trading_day}` is NYSE's), and a registry-defined desk calendar.
const CADENCES: &str = "\
calendars:
  desk:
    timezone: Asia/Dubai
    close: \"15:00\"
    weekend: [saturday, sunday]
    holidays:
      - {name: Founding Day, month: 3, day: 2, observance: next_weekday, from: 2020}
      - {name: Eid break, dates: [2026-03-20]}
    closures: [2026-06-15]
cadences:
  ldn_close: {cron: \"0 17 * * 1-5\", timezone: Europe/London, calendar: lse}
  ny_close: {cron: \"0 17 * * 1-5\", timezone: America/New_York, calendar: nyse}
  ny_afternoon: {cron: \"30 14 * * 1-5\", timezone: America/New_York}
  ldn_lunch: {cron: \"0 13 * * 1-5\", timezone: Europe/London, calendar: lse}
  desk_close: {cron: \"0 16 * * *\", timezone: Asia/Dubai, calendar: desk}
";

fn scenario() -> LocalScenario {
    let artifact = |id: &str, cadence: &str| {
        format!(
            "  - artifact_id: {id}\n    s3_key_template: \"{id}/{{trading_day}}.parquet\"\n    \
             cadence: {cadence}\n"
        )
    };
    let registry = format!(
        "schema_version: 1\n\
         defaults:\n  s3_bucket: {BUCKET}\n  severity: warning\n  owner_repo: producer\n  \
         created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         {CADENCES}\
         artifacts:\n{}{}{}{}{}",
        artifact("ldn", "ldn_close"),
        artifact("ny", "ny_close"),
        artifact("ny_pm", "ny_afternoon"),
        artifact("ldn_pm", "ldn_lunch"),
        artifact("desk", "desk_close"),
    );
    LocalScenario::new(&registry, BUCKET)
}

#[test]
fn a_london_holiday_gates_a_london_cadence_and_not_a_new_york_one() {
    let s = scenario();
    // Monday 2026-05-04, the early May bank holiday; New York trades.
    let now = "2026-05-05T00:00:00Z";
    let ldn = s.row(now, "ldn");
    assert_eq!(ldn["state"], "fresh", "{ldn}");
    assert_eq!(
        ldn["reason"],
        "lse closed on 2026-05-04: Early May bank holiday; nothing is expected this cycle"
    );
    let ny = s.row(now, "ny");
    assert_eq!(ny["state"], "missing", "{ny}");
    assert_eq!(ny["canonical_key"], "ny/2026-05-04.parquet");
    assert_eq!(ny["alerting"], true);
    // Good Friday closes both.
    let good_friday = "2026-04-03T23:00:00Z";
    assert_eq!(s.row(good_friday, "ldn")["state"], "fresh");
    assert_eq!(s.row(good_friday, "ny")["state"], "fresh");
}

#[test]
fn a_half_day_afternoon_tick_renders_the_half_day_as_the_trading_day() {
    let s = scenario();
    // Friday 2026-11-27, the day after Thanksgiving: NYSE closed at 13:00, so a 14:30 tick's
    // last closed session is that day, not Wednesday's.
    let row = s.row("2026-11-27T20:00:00Z", "ny_pm");
    assert_eq!(row["cycle_tick"], "2026-11-27T19:30:00Z");
    assert_eq!(row["canonical_key"], "ny_pm/2026-11-27.parquet");
    // On a full day 14:30 is before the 16:00 close: the session before.
    let row = s.row("2026-11-30T20:00:00Z", "ny_pm");
    assert_eq!(row["canonical_key"], "ny_pm/2026-11-27.parquet");
    // London closes at 12:30 on Christmas Eve: a 13:00 tick renders that day.
    let row = s.row("2026-12-24T14:00:00Z", "ldn_pm");
    assert_eq!(row["canonical_key"], "ldn_pm/2026-12-24.parquet");
    let row = s.row("2026-12-23T14:00:00Z", "ldn_pm");
    assert_eq!(row["canonical_key"], "ldn_pm/2026-12-22.parquet");
}

#[test]
fn a_registry_calendar_gates_its_cadence_with_its_own_rules() {
    let s = scenario();
    // Founding Day 2026-03-02 is a Monday; the desk closes at 15:00 Dubai (11:00 UTC).
    let row = s.row("2026-03-02T13:00:00Z", "desk");
    assert_eq!(row["state"], "fresh");
    assert_eq!(
        row["reason"],
        "desk closed on 2026-03-02: Founding Day; nothing is expected this cycle"
    );
    let row = s.row("2026-06-15T13:00:00Z", "desk");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("closure listed in calendars.desk.closures"),
        "{row}"
    );
    // Tuesday after: the last desk session closed by 16:00 Dubai is that Tuesday.
    let row = s.row("2026-03-03T13:00:00Z", "desk");
    assert_eq!(row["state"], "missing");
    assert_eq!(row["canonical_key"], "desk/2026-03-03.parquet");
    // Saturday: the weekend.
    let row = s.row("2026-03-07T13:00:00Z", "desk");
    assert!(
        row["reason"]
            .as_str()
            .unwrap()
            .contains("weekend (Saturday)")
    );
}

#[test]
fn explain_shows_the_calendar_decision_and_the_trading_day() {
    let s = scenario();
    let out = s.run_with(&["explain", "ldn"], "2026-05-05T00:00:00Z", &[]);
    let text = stdout(&out);
    for needle in [
        "cadence       ldn_close (cron \"0 17 * * 1-5\" in Europe/London, DST by cron's rule; \
         gated by the lse calendar)",
        "{trading_day} = 2026-05-01 (the last lse session closed by the tick)",
        "rule 2 calendar: lse closed on 2026-05-04: Early May bank holiday: not expected",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    let out = s.run_with(&["explain", "ldn"], "2026-05-06T00:00:00Z", &[]);
    assert!(
        stdout(&out).contains("rule 2 calendar: lse open on the tick's day"),
        "{}",
        stdout(&out)
    );
    let out = s.run_with(&["explain", "ny_pm"], "2026-11-27T20:00:00Z", &[]);
    let text = stdout(&out);
    for needle in [
        "cadence       ny_afternoon (cron \"30 14 * * 1-5\" in America/New_York, DST by cron's \
         rule; never calendar-gated)",
        "{trading_day} = 2026-11-27 (the last nyse session closed by the tick, which closed \
         early at 13:00 America/New_York)",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
}

#[test]
fn calendar_lists_any_calendar_with_its_early_closes() {
    let s = scenario();
    let out = run_in(
        s.path(),
        &[
            "calendar",
            "--calendar",
            "lse",
            "--from",
            "2022",
            "--to",
            "2022",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for line in [
        "2022-01-03 New Year's Day (observed)",
        "2022-06-02 Spring bank holiday",
        "2022-06-03 Platinum Jubilee of Elizabeth II",
        "2022-09-19 State funeral of Elizabeth II",
        "2022-12-23 early close 12:30 (Christmas Eve)",
        "2022-12-26 Boxing Day",
        "2022-12-27 Christmas Day (observed)",
        "2022-12-30 early close 12:30 (New Year's Eve)",
    ] {
        assert!(
            text.contains(&format!("{line}\n")),
            "missing {line:?} in:\n{text}"
        );
    }
    let registry = s.path().join("registry.yaml");
    let out = run_in(
        s.path(),
        &[
            "calendar",
            "--calendar",
            "desk",
            "--registry",
            registry.to_str().unwrap(),
            "--from",
            "2026",
        ],
    );
    assert_eq!(
        stdout(&out),
        "2026-03-02 Founding Day\n2026-03-20 Eid break\n\
         2026-06-15 closure listed in calendars.desk.closures\n",
        "{}",
        stderr(&out)
    );
    let out = run_in(s.path(), &["calendar", "--calendar", "lsx"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("did you mean `lse`?"),
        "{}",
        stderr(&out)
    );
}
