//! The registry keys of issue 14 (producers as they really behave): a cadence's `dst:` rule,
//! a continuous artifact's `active_windows:` and `off_cycle:` tolerance.

use super::*;
use crate::cadence::Cadence;
use crate::cadence::cron::DstRule;
use crate::registry::OffCycle;

const FILE: &str = "ARTIFACT_REGISTRY.yaml";

const DEFAULTS: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
  sla_minutes_after_cron: 5
";

/// Every message of a registry, whether it loaded (artifact errors) or not.
fn messages(text: &str) -> Vec<String> {
    match parse_registry(FILE, text.as_bytes()) {
        Ok(registry) => registry.artifact_errors().map(|e| e.to_string()).collect(),
        Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
    }
}

fn valid(text: &str) -> Registry {
    let registry = parse_registry(FILE, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    registry
}

fn only_spec(registry: &Registry) -> &ArtifactSpec {
    registry
        .valid_artifacts()
        .next()
        .expect("one valid artifact")
}

#[test]
fn a_cadence_names_its_producers_dst_rule_and_cron_is_the_default() {
    let registry = valid(&format!(
        "{DEFAULTS}cadences:
  hourly: {{cron: \"30 * * * *\", timezone: America/New_York, dst: eventbridge}}
  nightly: {{cron: \"30 2 * * *\", timezone: America/New_York}}
artifacts:
  - {{artifact_id: a, s3_key_template: a.json, cadence: hourly}}
"
    ));
    let dst: Vec<(&str, DstRule)> = (registry.user_cadences.iter())
        .map(|c| (c.name.as_str(), c.dst))
        .collect();
    assert_eq!(
        dst,
        [("hourly", DstRule::EventBridge), ("nightly", DstRule::Cron)]
    );
    assert!(matches!(&only_spec(&registry).cadence, Cadence::User(u) if u.name == "hourly"));
}

#[test]
fn an_unknown_dst_rule_is_an_error_with_a_did_you_mean() {
    let text = format!(
        "{DEFAULTS}cadences:
  hourly: {{cron: \"30 * * * *\", dst: eventbrige}}
artifacts: []
"
    );
    assert_eq!(
        messages(&text),
        [
            "ARTIFACT_REGISTRY.yaml:9: field cadences.hourly.dst: unknown DST rule \"eventbrige\"; \
          did you mean `eventbridge`? `cron` (Debian cron's, the default) or `eventbridge` \
          (EventBridge Scheduler's)"
        ]
    );
}

#[test]
fn active_windows_and_off_cycle_are_read_and_defaults_reach_continuous_artifacts_only() {
    let registry = valid(&format!(
        "{DEFAULTS}  active_windows:
    - {{calendar: nyse, from: 09:30, to: \"16:00\", timezone: America/New_York}}
artifacts:
  - artifact_id: quotes
    s3_key_template: \"quotes/{{cycle_label}}.parquet\"
    cadence: continuous
    interval_minutes: 15
  - artifact_id: weekly
    s3_key_template: \"weekly/{{date}}/signals.csv\"
    cadence: saturday_sf
    off_cycle: true
  - artifact_id: daily
    s3_key_template: \"daily/{{date}}.csv\"
    cadence: weekday_sf
    off_cycle: {{max_age_minutes: 2880}}
  - artifact_id: always
    s3_key_template: \"feed/{{cycle_label}}.json\"
    cadence: continuous
    interval_minutes: 5
    active_windows: null
"
    ));
    let specs: Vec<&ArtifactSpec> = registry.valid_artifacts().collect();
    let windows = specs[0].active_windows().map(|w| &**w).expect("windows");
    assert_eq!(
        windows.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        ["09:30-16:00 America/New_York on nyse sessions"]
    );
    assert_eq!(windows[0].line, 9);
    assert_eq!(
        specs[1].active_windows(),
        None,
        "not continuous: the default does not apply"
    );
    assert_eq!(specs[1].off_cycle(), Some(OffCycle::SincePreviousTick));
    assert_eq!(
        specs[2].off_cycle(),
        Some(OffCycle::MaxAge { minutes: 2880 })
    );
    assert_eq!(specs[3].active_windows(), None, "null: always active");
    assert_eq!(specs[0].off_cycle(), None);
}

#[test]
fn bad_windows_are_errors_with_line_and_field() {
    let text = format!(
        "{DEFAULTS}artifacts:
  - artifact_id: quotes
    s3_key_template: \"quotes/{{cycle_label}}.parquet\"
    cadence: continuous
    interval_minutes: 15
    active_windows:
      - {{calendar: nyse, from: \"09:30\", to: \"16:00\", timezone: America/New_York}}
      - {{calendar: every_day, from: \"15:00\", to: \"18:00\", timezone: America/New_York}}
      - {{from: \"08:00\", to: \"09:00\", timezone: America/New_Yrok}}
      - {{from: \"10:00\", to: \"09:00\", calendar: nyce}}
      - {{from: \"25:00\", to: \"26:00\", zone: UTC}}
  - artifact_id: weekly
    s3_key_template: \"weekly/{{date}}.csv\"
    cadence: saturday_sf
    active_windows:
      - {{from: \"09:00\", to: \"17:00\"}}
    off_cycle: {{max_age: 60}}
"
    );
    assert_eq!(
        messages(&text),
        [
            "ARTIFACT_REGISTRY.yaml:15: artifact quotes: field active_windows[1]: 15:00-18:00 \
             America/New_York on every day overlaps active_windows[0] (line 14), 09:30-16:00 \
             America/New_York on nyse sessions; merge them into one window",
            "ARTIFACT_REGISTRY.yaml:16: artifact quotes: field active_windows[2].timezone: \
             unknown time zone \"America/New_Yrok\"; did you mean `America/New_York`?",
            "ARTIFACT_REGISTRY.yaml:17: artifact quotes: field active_windows[3].calendar: \
             unknown calendar \"nyce\"; did you mean `nyse`? known calendars: nyse, lse, xetr, or `every_day`",
            "ARTIFACT_REGISTRY.yaml:17: artifact quotes: field active_windows[3].to: 09:00 is \
             not after from 10:00; a window across midnight is two windows (from 10:00 to \
             24:00, and from 00:00 to 09:00)",
            "ARTIFACT_REGISTRY.yaml:18: artifact quotes: field active_windows[4].zone: unknown \
             field; known fields: calendar, from, to, timezone",
            "ARTIFACT_REGISTRY.yaml:18: artifact quotes: field active_windows[4].from: \
             \"25:00\" is not a time of day",
            "ARTIFACT_REGISTRY.yaml:18: artifact quotes: field active_windows[4].to: \"26:00\" \
             is not a time of day",
            "ARTIFACT_REGISTRY.yaml:23: artifact weekly: field active_windows: only the \
             `continuous` cadence takes active_windows; cadence `saturday_sf` has its own \
             schedule (use a cron cadence with `calendar: nyse` for trading days)",
            "ARTIFACT_REGISTRY.yaml:24: artifact weekly: field off_cycle.max_age: unknown \
             field; known fields: max_age_minutes",
        ]
    );
}
