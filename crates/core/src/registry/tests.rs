//! The loader's merging rules and error reporting, through [`parse_registry`].

use super::*;
use crate::cadence::Cadence;

const FILE: &str = "ARTIFACT_REGISTRY.yaml";

fn parse(text: &str) -> Result<Registry, RegistryError> {
    parse_registry(FILE, text.as_bytes())
}

fn valid(text: &str) -> Registry {
    match parse(text) {
        Ok(registry) => {
            let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
            assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
            registry
        }
        Err(e) => panic!("registry refused:\n{e}"),
    }
}

fn spec<'r>(registry: &'r Registry, id: &str) -> &'r ArtifactSpec {
    registry
        .valid_artifacts()
        .find(|s| s.id.as_str() == id)
        .unwrap_or_else(|| panic!("no valid artifact {id}"))
}

/// Every message of a registry, whether it loaded (artifact errors) or not.
fn messages(text: &str) -> Vec<String> {
    match parse(text) {
        Ok(registry) => registry.artifact_errors().map(|e| e.to_string()).collect(),
        Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
    }
}

const DEFAULTS: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
";

#[test]
fn defaults_fill_in_what_an_artifact_does_not_set() {
    let registry = valid(&format!(
        "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    ));
    let a = spec(&registry, "a");
    assert_eq!(&*a.s3_bucket, "research-bucket");
    assert_eq!(a.severity, Severity::Warning);
    assert_eq!(&*a.owner_repo, "data-platform");
    assert_eq!(a.created_at, NaiveDate::from_ymd_opt(2026, 1, 5).unwrap());
}

#[test]
fn an_artifacts_own_keys_win_over_the_defaults() {
    let registry = valid(&format!(
        "{DEFAULTS}  grace_period_cycles: 5
  calendar_aware: false
  recovery_key_template: \"recovery/{{date}}.json\"
artifacts:
  - artifact_id: a
    s3_bucket: other-bucket
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    severity: critical
    owner_repo: backtester
    created_at: 2026-05-27
    grace_period_cycles: 0
    calendar_aware: true
    recovery_key_template: null
  - artifact_id: b
    s3_key_template: \"b/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    ));
    let a = spec(&registry, "a");
    assert_eq!(&*a.s3_bucket, "other-bucket");
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(&*a.owner_repo, "backtester");
    assert_eq!(a.created_at, NaiveDate::from_ymd_opt(2026, 5, 27).unwrap());
    assert_eq!(a.grace_period_cycles, 0);
    assert!(a.calendar_aware);
    // An explicit null wins over a default template: no recovery key at all.
    assert_eq!(a.recovery_key_template(), None);

    let b = spec(&registry, "b");
    assert_eq!(b.grace_period_cycles, 5);
    assert!(!b.calendar_aware);
    assert_eq!(
        b.recovery_key_template().map(|t| t.source()),
        Some("recovery/{date}.json")
    );
}

#[test]
fn grace_period_defaults_to_two_cycles_and_calendar_awareness_to_true() {
    let registry = valid(&format!(
        "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    ));
    let a = spec(&registry, "a");
    assert_eq!(a.grace_period_cycles, 2);
    assert!(a.calendar_aware);
    assert_eq!(a.recovery_key_template(), None);
}

#[test]
fn recovery_key_template_null_means_none() {
    for null in ["null", "~", ""] {
        let registry = valid(&format!(
            "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    recovery_key_template: {null}
"
        ));
        assert_eq!(
            spec(&registry, "a").recovery_key_template(),
            None,
            "{null:?}"
        );
    }
}

#[test]
fn an_invalid_artifact_does_not_stop_the_others() {
    let registry = parse(&format!(
        "{DEFAULTS}artifacts:
  - artifact_id: first
    s3_key_template: \"first/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
  - artifact_id: broken
    s3_key_template: \"broken/{{date}}.json\"
    cadence: weekly
    sla_minutes_after_cron: 60
  - artifact_id: last
    s3_key_template: \"last/{{date}}.json\"
    cadence: continuous
    interval_minutes: 15
    sla_minutes_after_cron: 5
"
    ))
    .expect("one bad artifact does not make the registry unusable");
    let labels: Vec<(&str, bool)> = registry
        .entries
        .iter()
        .map(|e| (e.label(), matches!(e, RegistryEntry::Valid(_))))
        .collect();
    assert_eq!(
        labels,
        vec![("first", true), ("broken", false), ("last", true)]
    );
    assert_eq!(
        spec(&registry, "last").cadence,
        Cadence::Continuous {
            interval_minutes: 15
        }
    );
    let RegistryEntry::Invalid(broken) = &registry.entries[1] else {
        unreachable!()
    };
    assert_eq!(
        broken.reason(),
        "invalid registry entry: ARTIFACT_REGISTRY.yaml:14: artifact broken: field cadence: \
         unknown cadence \"weekly\"; known cadences: saturday_sf, weekday_sf, eod_sf, continuous"
    );
    // What could be read of the bad entry is kept for its report row.
    assert_eq!(broken.s3_bucket.as_deref(), Some("research-bucket"));
    assert_eq!(broken.cadence.as_deref(), Some("weekly"));
}

#[test]
fn a_misspelled_field_is_reported_once_and_never_falls_back_to_the_default() {
    let text = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
  sla_minutes_after_cron: 60
artifacts:
  - artifact_id: a
    s3_key_template: \"a/{date}.json\"
    cadence: weekday_sf
    sla_minute_after_cron: 180
  - artifact_id: b
    s3_key_template: \"b/{date}.json\"
    cadence: weekday_sf
    severty: critical
";
    assert_eq!(
        messages(text),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field sla_minute_after_cron: unknown field; \
             did you mean `sla_minutes_after_cron`?",
            "ARTIFACT_REGISTRY.yaml:16: artifact b: field severty: unknown field; did you mean \
             `severity`?",
        ]
    );
}

#[test]
fn a_bad_own_value_does_not_fall_back_to_the_default() {
    // `continous` must not become the default `weekday_sf` and then draw a second, misleading
    // complaint about interval_minutes.
    let text = format!(
        "{DEFAULTS}  cadence: weekday_sf
artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: continous
    interval_minutes: 5
    sla_minutes_after_cron: 60
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:11: artifact a: field cadence: unknown cadence \"continous\"; \
             did you mean `continuous`? known cadences: saturday_sf, weekday_sf, eod_sf, \
             continuous"
        ]
    );
}

#[test]
fn an_artifact_relying_on_a_bad_default_says_so() {
    let text = "\
schema_version: 1
defaults:
  severity: urgent
artifacts:
  - artifact_id: own_severity
    s3_bucket: bucket-b
    s3_key_template: \"a/{date}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    severity: critical
    owner_repo: r
    created_at: 2026-01-05
  - artifact_id: default_severity
    s3_bucket: bucket-b
    s3_key_template: \"b/{date}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    owner_repo: r
    created_at: 2026-01-05
";
    let err = parse(text).expect_err("a bad default makes the registry unusable");
    let lines: Vec<String> = err.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        lines,
        vec![
            "ARTIFACT_REGISTRY.yaml:3: field defaults.severity: expected `warning` or \
             `critical`, found \"urgent\"",
            "ARTIFACT_REGISTRY.yaml:13: artifact default_severity: field severity: its default \
             (defaults.severity, line 3) is invalid; fix the default or set the field on the \
             artifact",
        ]
    );
}

#[test]
fn an_artifact_naming_a_broken_user_cadence_is_told_it_is_broken_not_unknown() {
    let text = format!(
        "{DEFAULTS}cadences:
  monthly: {{cron: \"0 14 1 * *\", timezone: Europe/Londn}}
artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: monthly
    sla_minutes_after_cron: 60
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:8: field cadences.monthly.timezone: unknown time zone \
             \"Europe/Londn\"; did you mean `Europe/London`?",
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field cadence: cadence `monthly` is defined \
             under `cadences:` at line 8 but that definition is invalid (see its error)",
        ]
    );
}

#[test]
fn an_artifacts_errors_come_in_file_order() {
    let text = format!(
        "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: continuous
    sla_minutes_after_cron: -1
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:8: artifact a: field interval_minutes: missing: the \
             `continuous` cadence needs interval_minutes > 0",
            "ARTIFACT_REGISTRY.yaml:11: artifact a: field sla_minutes_after_cron: must be >= 0, \
             found -1",
        ]
    );
}

#[test]
fn a_misspelled_artifacts_section_is_not_also_reported_missing() {
    assert_eq!(
        messages("schema_version: 1\nartifact: []\n"),
        vec!["ARTIFACT_REGISTRY.yaml:2: field artifact: unknown field; did you mean `artifacts`?"]
    );
    assert_eq!(
        messages("schema_version: 1\n"),
        vec![
            "ARTIFACT_REGISTRY.yaml:1: field artifacts: missing: the registry must list its \
             artifacts under `artifacts:`"
        ]
    );
}

#[test]
fn python_style_merge_keys_and_unquoted_dates_load() {
    let registry = valid(
        "\
schema_version: 1
defaults: &defaults
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
artifacts:
  - <<: *defaults
    artifact_id: a
    s3_key_template: backtest/{date}/a.json
    cadence: saturday_sf
    sla_minutes_after_cron: 180
    severity: critical
    created_at: 2026-05-27
",
    );
    let a = spec(&registry, "a");
    assert_eq!(a.severity, Severity::Critical);
    assert_eq!(&*a.s3_bucket, "research-bucket");
    assert_eq!(a.created_at, NaiveDate::from_ymd_opt(2026, 5, 27).unwrap());
}

#[test]
fn a_duplicate_cadence_name_points_at_the_first_even_when_that_one_is_broken() {
    let text = format!(
        "{DEFAULTS}cadences:
  monthly: {{cron: \"0 99 1 * *\"}}
  monthly: {{cron: \"0 14 1 * *\"}}
artifacts: []
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:8: field cadences.monthly.cron: cron expression \
             \"0 99 1 * *\": hour field: 99 is outside 0-23",
            "ARTIFACT_REGISTRY.yaml:9: field cadences.monthly: duplicate cadence name (first \
             defined at line 8)",
        ]
    );
}

#[test]
fn calendar_aware_reads_pyyaml_booleans_but_not_quoted_text() {
    let with = |value: &str| {
        format!(
            "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    calendar_aware: {value}
"
        )
    };
    for (value, expected) in [
        ("true", true),
        ("False", false),
        ("yes", true),
        ("No", false),
        ("on", true),
        ("OFF", false),
    ] {
        assert_eq!(
            spec(&valid(&with(value)), "a").calendar_aware,
            expected,
            "{value}"
        );
    }
    assert_eq!(
        messages(&with("\"no\"")),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field calendar_aware: expected true or false, \
             found the text \"no\""
        ]
    );
    assert_eq!(
        messages(&with("maybe")),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field calendar_aware: expected true or false, \
             found the text \"maybe\""
        ]
    );
}

/// Entries are read while the YAML streams in, with the `defaults:` and `cadences:` seen so
/// far. A registry that puts them after `artifacts:` must read exactly as one that puts them
/// first, errors and all.
#[test]
fn sections_after_the_artifacts_read_as_if_they_came_first() {
    let artifacts = "\
artifacts:
  - artifact_id: a
    s3_key_template: a/{date}.json
    cadence: nightly
  - artifact_id: b
    s3_key_template: b.json
    cadence: continuous
    interval_minutes: 15
  - artifact_id: bad
    s3_key_template: c.json
    cadence: nightly
    severity: loud
  - artifact_id: a
    s3_key_template: d.json
";
    let sections = "\
defaults:
  s3_bucket: bucket-x
  owner_repo: team/repo
  created_at: 2025-01-01
  sla_minutes_after_cron: 45
  severity: warning
cadences:
  nightly: {cron: \"0 2 * * *\", timezone: America/New_York}
";
    let first = format!("schema_version: 1\n{sections}{artifacts}");
    let last = format!("schema_version: 1\n{artifacts}{sections}");
    let (first, last) = (parse(&first).unwrap(), parse(&last).unwrap());
    let summary = |registry: &Registry| -> Vec<String> {
        registry
            .entries
            .iter()
            .map(|entry| match entry {
                RegistryEntry::Valid(spec) => format!(
                    "{} {} {} {} {}",
                    spec.id.as_str(),
                    spec.s3_bucket,
                    spec.owner_repo,
                    spec.cadence.name(),
                    spec.sla_minutes_after_cron
                ),
                RegistryEntry::Invalid(bad) => format!(
                    "invalid {}: {}",
                    bad.label,
                    bad.errors
                        .iter()
                        // The entries sit on other lines in the two files.
                        .map(|e| regex::Regex::new(r"line \d+")
                            .unwrap()
                            .replace_all(&e.message, "line N")
                            .into_owned())
                        .collect::<Vec<_>>()
                        .join("; ")
                ),
            })
            .collect()
    };
    let expected = summary(&first);
    assert_eq!(expected.len(), 4);
    assert_eq!(expected[0], "a bucket-x team/repo nightly 45");
    assert_eq!(expected[1], "b bucket-x team/repo continuous 45");
    assert!(expected[2].starts_with("invalid bad: "), "{expected:?}");
    assert!(expected[3].starts_with("invalid a: "), "{expected:?}");
    assert_eq!(summary(&last), expected);
}

/// Errors in a section read while streaming are reported once, not once per reading.
#[test]
fn a_bad_default_read_while_streaming_is_reported_once() {
    let text = "\
schema_version: 1
defaults:
  sla_minutes_after_cron: soon
artifacts:
  - artifact_id: a
    s3_bucket: bucket-b
    s3_key_template: a.json
    cadence: continuous
    interval_minutes: 15
    owner_repo: o
    created_at: 2025-01-01
    severity: warning
";
    let all = messages(text);
    let about_default = all
        .iter()
        .filter(|m| m.starts_with(&format!("{FILE}:3: field defaults.sla_minutes_after_cron")))
        .count();
    assert_eq!(about_default, 1, "{all:#?}");
}

/// One artifact on top of [`DEFAULTS`], with `extra` lines added to its entry.
fn one_artifact(extra: &str) -> String {
    format!(
        "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    sla_minutes_after_cron: 60
{extra}"
    )
}

#[test]
fn a_grace_period_ending_after_the_year_9999_is_refused_with_its_bound() {
    // 2026-01-05 00:00 to 9999-12-31 23:59:59 holds 416,062 weeks.
    let weekly = |grace: u32| {
        one_artifact(&format!(
            "    cadence: saturday_sf\n    grace_period_cycles: {grace}\n"
        ))
    };
    valid(&weekly(416_062));
    assert_eq!(
        messages(&weekly(99_999_999)),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field grace_period_cycles: 99999999 is too \
             large (at most 416062): 99999999 cycles of 7d from created_at 2026-01-05 end after \
             the year 9999"
        ]
    );
    assert_eq!(
        messages(&weekly(416_063)),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field grace_period_cycles: 416063 is too \
             large (at most 416062): 416063 cycles of 7d from created_at 2026-01-05 end after \
             the year 9999"
        ]
    );
}

#[test]
fn a_grace_period_from_the_defaults_is_bounded_for_each_artifact() {
    let text = format!(
        "{DEFAULTS}  grace_period_cycles: 3000000
artifacts:
  - artifact_id: minutely
    s3_key_template: \"m/{{date}}.json\"
    cadence: continuous
    interval_minutes: 1
    sla_minutes_after_cron: 1
  - artifact_id: daily
    s3_key_template: \"d/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:7: artifact daily: field grace_period_cycles: 3000000 (from \
             defaults.grace_period_cycles) is too large (at most 2912438): 3000000 cycles of 1d \
             from created_at 2026-01-05 end after the year 9999"
        ]
    );
}

#[test]
fn a_grace_period_on_a_cron_cadence_is_bounded_by_its_longest_gap() {
    // Fires on 29 February only: cycles of up to 8 years (2096 to 2104: 2100 has no 29
    // February), 2921 days, plus the two days a time zone's history may add.
    let text = |grace: u32| {
        format!(
            "{DEFAULTS}cadences:
  leap_day: {{cron: \"0 12 29 2 *\", timezone: America/New_York}}
artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: leap_day
    sla_minutes_after_cron: 60
    grace_period_cycles: {grace}
"
        )
    };
    assert_eq!(
        messages(&text(70_000)),
        vec![
            "ARTIFACT_REGISTRY.yaml:14: artifact a: field grace_period_cycles: 70000 is too \
             large (at most 996): 70000 cycles of up to 2923d from created_at 2026-01-05 end \
             after the year 9999"
        ]
    );
    valid(&text(996));
    // A cron cadence firing often is not held to the rare cadences' bound.
    valid(
        &one_artifact("    cadence: nightly\n    grace_period_cycles: 100000\n").replace(
            "artifacts:",
            "cadences:\n  nightly: {cron: \"0 2 * * *\"}\nartifacts:",
        ),
    );
}

#[test]
fn an_interval_longer_than_a_century_is_refused() {
    let continuous = |interval: u64, grace: u32| {
        one_artifact(&format!(
            "    cadence: continuous\n    interval_minutes: {interval}\n    \
             grace_period_cycles: {grace}\n"
        ))
    };
    valid(&continuous(52_596_000, 79));
    assert_eq!(
        messages(&continuous(4_294_967_295, 40)),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field interval_minutes: 4294967295 is too \
             large (at most 52596000, a century)"
        ]
    );
    // A century-long interval still bounds the grace period: 79 centuries fit before 9999.
    assert_eq!(
        messages(&continuous(52_596_000, 80)),
        vec![
            "ARTIFACT_REGISTRY.yaml:13: artifact a: field grace_period_cycles: 80 is too large \
             (at most 79): 80 cycles of 36525d from created_at 2026-01-05 end after the year 9999"
        ]
    );
}

#[test]
fn numbers_beyond_any_integer_type_are_too_large_not_of_the_wrong_kind() {
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    grace_period_cycles: 99999999999999999999999\n"
        )),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field grace_period_cycles: \
             99999999999999999999999 is too large (at most 4294967295)"
        ]
    );
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    grace_period_cycles: -99999999999999999999999\n"
        )),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field grace_period_cycles: must be >= 0, \
             found -99999999999999999999999"
        ]
    );
}

#[test]
fn s3_bucket_names_follow_s3s_rules_and_say_which_one_failed() {
    let with = |bucket: &str| {
        one_artifact(&format!(
            "    cadence: weekday_sf\n    s3_bucket: \"{bucket}\"\n"
        ))
    };
    for (bucket, rule) in [
        (
            "ab",
            "S3 bucket names are 3 to 63 characters long; this one has 2",
        ),
        (
            &"a".repeat(64),
            "S3 bucket names are 3 to 63 characters long; this one has 64",
        ),
        (
            "Research-Bucket",
            "uppercase letters are not allowed in S3 bucket names",
        ),
        (
            "research_bucket",
            "underscores are not allowed in S3 bucket names",
        ),
        (
            "research bucket",
            "' ' is not allowed in S3 bucket names (only lowercase letters, digits, `.` and `-`)",
        ),
        (
            "-research",
            "S3 bucket names must start and end with a letter or digit",
        ),
        (
            "research.",
            "S3 bucket names must start and end with a letter or digit",
        ),
        (
            "research..bucket",
            "S3 bucket names must not contain two adjacent periods",
        ),
        (
            "192.168.5.4",
            "S3 bucket names must not be formatted as an IP address",
        ),
        ("xn--bucket", "S3 bucket names must not start with `xn--`"),
        (
            "bucket-s3alias",
            "S3 bucket names must not end with `-s3alias`",
        ),
    ] {
        assert_eq!(
            messages(&with(bucket)),
            vec![format!(
                "ARTIFACT_REGISTRY.yaml:12: artifact a: field s3_bucket: {}: {rule}",
                crate::text::quote_short(bucket)
            )],
            "{bucket}"
        );
    }
    for bucket in ["abc", "my.bucket-2", "0-research", &"a".repeat(63)] {
        valid(&with(bucket));
    }
}

#[test]
fn a_bad_default_bucket_is_reported_at_the_default() {
    let text = DEFAULTS.replace("research-bucket", "Research_Bucket")
        + "artifacts:
  - artifact_id: a
    s3_key_template: \"a/{date}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
";
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:3: field defaults.s3_bucket: \"Research_Bucket\": uppercase \
             letters are not allowed in S3 bucket names",
            "ARTIFACT_REGISTRY.yaml:8: artifact a: field s3_bucket: its default \
             (defaults.s3_bucket, line 3) is invalid; fix the default or set the field on the \
             artifact",
        ]
    );
}

#[test]
fn a_key_template_that_can_render_past_1024_bytes_is_refused() {
    let long = "k".repeat(1000);
    let with = |template: &str| {
        one_artifact("    cadence: saturday_sf\n")
            .replace("\"a/{date}.json\"", &format!("\"{template}\""))
    };
    // 1000 + 1 + 10 + 5 = 1016 bytes; with `%a %B` at its longest ("Wed September"), 1019.
    valid(&with(&format!("{long}/{{date}}.json")));
    valid(&with(&format!("{long}/{{date:%a %B}}.json")));
    // "Wednesday September 10": 1028.
    assert_eq!(
        messages(&with(&format!("{long}/{{date:%A %B %d}}.json"))),
        vec![
            "ARTIFACT_REGISTRY.yaml:9: artifact a: field s3_key_template: the rendered key can \
             be 1028 bytes long; S3 keys are at most 1024 bytes"
        ]
    );
    // `{cycle_label}` counts at its longest for the artifact's cadence: a date for
    // `weekday_sf`, `continuous_1m_-1036120320` (the minute bucket of year 0) here.
    let labelled = format!("{long}/{{cycle_label}}");
    valid(&with(&labelled).replace("saturday_sf", "weekday_sf"));
    assert_eq!(
        messages(&with(&labelled).replace("saturday_sf", "continuous\n    interval_minutes: 1")),
        vec![
            "ARTIFACT_REGISTRY.yaml:9: artifact a: field s3_key_template: the rendered key can \
             be 1026 bytes long (with `{cycle_label}` at its longest for cadence `continuous`, \
             25 bytes); S3 keys are at most 1024 bytes"
        ]
    );
    // The recovery key too: 1000 + 1 + 10 + 1 + 9 = 1021 fits, 1031 does not.
    let recovery = |template: &str| {
        one_artifact(&format!(
            "    cadence: weekday_sf\n    recovery_key_template: \"{long}/{template}\"\n"
        ))
    };
    valid(&recovery("{date}/{trading_day:%A}"));
    assert_eq!(
        messages(&recovery("{date}/{trading_day:%A}/{trading_day:%B}")),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field recovery_key_template: the rendered key \
             can be 1031 bytes long; S3 keys are at most 1024 bytes"
        ]
    );
}

#[test]
fn a_recovery_key_identical_to_the_canonical_one_is_refused() {
    let message = "the recovery key is the canonical key; remove it or point it elsewhere";
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    recovery_key_template: \"a/{date}.json\"\n"
        )),
        vec![format!(
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field recovery_key_template: {message}"
        )]
    );
    // From the defaults, against an artifact's own canonical key.
    let text = format!(
        "{DEFAULTS}  recovery_key_template: \"a/{{date}}.json\"
artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
  - artifact_id: b
    s3_key_template: \"b/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    );
    assert_eq!(
        messages(&text),
        vec![format!(
            "ARTIFACT_REGISTRY.yaml:7: artifact a: field recovery_key_template: {message} \
             (defaults.recovery_key_template)"
        )]
    );
    // Both under `defaults:`: one error, at the defaults.
    let text = format!(
        "{DEFAULTS}  s3_key_template: \"x/{{date}}.json\"
  recovery_key_template: \"x/{{date}}.json\"
artifacts: []
"
    );
    assert_eq!(
        messages(&text),
        vec![format!(
            "ARTIFACT_REGISTRY.yaml:8: field defaults.recovery_key_template: {message}"
        )]
    );
}

#[test]
fn extra_closures_on_weekends_or_listed_twice_are_warnings() {
    let registry = valid(&format!(
        "{DEFAULTS}calendar:
  extra_closures:
    - 2025-01-09
    - 2025-01-11
    - 2025-01-09
artifacts: []
"
    ));
    let warnings: Vec<String> = registry.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(
        warnings,
        vec![
            "ARTIFACT_REGISTRY.yaml:10: field calendar.extra_closures[1]: 2025-01-11 is a \
             Saturday; the market is closed on weekends anyway",
            "ARTIFACT_REGISTRY.yaml:11: field calendar.extra_closures[2]: 2025-01-09 is listed \
             twice (first as extra_closures[0], line 9)",
        ]
    );
    assert_eq!(
        registry.warnings[0].as_warning().to_string(),
        "ARTIFACT_REGISTRY.yaml:10: warning: field calendar.extra_closures[1]: 2025-01-11 is a \
         Saturday; the market is closed on weekends anyway"
    );
}

#[test]
fn a_created_at_beyond_tomorrow_is_a_warning_naming_the_end_of_the_grace_period() {
    let registry = valid(&one_artifact(
        "    cadence: saturday_sf\n    created_at: 2026-03-01\n    grace_period_cycles: 3\n",
    ));
    let day = |s: &str| s.parse::<NaiveDate>().unwrap();
    assert!(registry.warnings_on(day("2026-02-28")).is_empty());
    assert!(registry.warnings_on(day("2026-03-05")).is_empty());
    let warnings: Vec<String> = registry
        .warnings_on(day("2026-02-27"))
        .iter()
        .map(|w| w.to_string())
        .collect();
    assert_eq!(
        warnings,
        vec![
            "ARTIFACT_REGISTRY.yaml:8: artifact a: field created_at: 2026-03-01 is 2 days after \
             today (2026-02-27): the artifact will sit in its grace period until \
             2026-03-22T00:00:00Z"
        ]
    );
}

#[test]
fn an_empty_artifact_item_is_reported_at_its_own_line() {
    let text = format!(
        "{DEFAULTS}artifacts:
  -
  - artifact_id: b
    s3_key_template: \"b/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
  -   # nothing here either

  -
"
    );
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:8: artifact artifacts[0]: expected a mapping of artifact \
             fields, found nothing (null)",
            "ARTIFACT_REGISTRY.yaml:13: artifact artifacts[2]: expected a mapping of artifact \
             fields, found nothing (null)",
            "ARTIFACT_REGISTRY.yaml:15: artifact artifacts[3]: expected a mapping of artifact \
             fields, found nothing (null)",
        ]
    );
}

#[test]
fn a_cadence_naming_nyse_gets_the_registrys_extra_closures_and_any_order_of_sections_works() {
    // `cadences:` before `calendars:` and `calendar:` after `artifacts:`: the file is read
    // the plain way, with the same result.
    let registry = valid(
        "cadences:
  ny: {cron: \"0 10 * * *\", timezone: America/New_York, calendar: nyse}
  desk: {cron: \"0 10 * * *\", calendar: desk}
calendars:
  desk: {weekend: [friday, saturday], closures: [2026-03-12]}
artifacts:
  - {artifact_id: a, s3_bucket: b-bucket, s3_key_template: \"k/{date}\", cadence: ny,
     sla_minutes_after_cron: 1, severity: warning, owner_repo: o, created_at: 2026-01-01}
  - {artifact_id: d, s3_bucket: b-bucket, s3_key_template: \"k/{date}\", cadence: desk,
     sla_minutes_after_cron: 1, severity: warning, owner_repo: o, created_at: 2026-01-01}
calendar:
  extra_closures: [2026-03-11]
",
    );
    let at = |s: &str| s.parse::<chrono::DateTime<chrono::Utc>>().unwrap();
    let ny = spec(&registry, "a")
        .cadence
        .cycle_at(at("2026-03-11T15:00:00Z"), &registry.calendar);
    assert_eq!(
        ny.unwrap().closure.as_deref(),
        Some("market closed on 2026-03-11: closure listed in calendar.extra_closures")
    );
    let desk = &spec(&registry, "d").cadence;
    let closed = desk.cycle_at(at("2026-03-12T11:00:00Z"), &registry.calendar);
    assert_eq!(
        closed.unwrap().closure.as_deref(),
        Some("desk closed on 2026-03-12: closure listed in calendars.desk.closures")
    );
    let friday = desk.cycle_at(at("2026-03-13T11:00:00Z"), &registry.calendar);
    assert_eq!(
        friday.unwrap().closure.as_deref(),
        Some("desk closed on 2026-03-13: weekend (Friday)")
    );
    assert_eq!(registry.calendars.names(), ["nyse", "lse", "xetr", "desk"]);
}

#[test]
fn reverify_minutes_is_read_per_artifact_from_defaults_and_through_a_merge_key() {
    let registry = valid(&format!(
        "{DEFAULTS}  reverify_minutes: 60
x_rewritten: &rewritten {{reverify_minutes: 20}}
artifacts:
  - artifact_id: own
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    reverify_minutes: 30
  - artifact_id: inherited
    s3_key_template: \"b/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
  - artifact_id: merged
    <<: *rewritten
    s3_key_template: \"c/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    ));
    let minutes = |id: &str| spec(&registry, id).reverify_minutes().copied();
    assert_eq!(
        (minutes("own"), minutes("inherited"), minutes("merged")),
        (Some(30), Some(60), Some(20))
    );
    let unset = valid(&one_artifact("    cadence: weekday_sf\n"));
    assert_eq!(spec(&unset, "a").reverify_minutes(), None);
}

#[test]
fn a_bad_reverify_minutes_names_its_line_and_field() {
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    reverify_minutes: 0\n"
        )),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field reverify_minutes: must be >= 1, found 0"
        ]
    );
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    reverify_minutes: hourly\n"
        )),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field reverify_minutes: expected a whole \
             number >= 1, found the text \"hourly\""
        ]
    );
    assert_eq!(
        messages(&one_artifact(
            "    cadence: weekday_sf\n    reverify_minute: 30\n"
        )),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field reverify_minute: unknown field; did \
             you mean `reverify_minutes`?"
        ]
    );
    let text = one_artifact("    cadence: weekday_sf\n")
        .replace("defaults:\n", "defaults:\n  reverify_minutes: 99999999\n");
    assert_eq!(
        messages(&text),
        vec![
            "ARTIFACT_REGISTRY.yaml:3: field defaults.reverify_minutes: 99999999 is too large \
             (at most 52596000, a century)"
        ]
    );
}

/// The duplicate check holds entry indices and reads the ids from the entries: the first
/// definition is found whether it loaded or not, wherever its `artifact_id` line is, and
/// past the size the list was guessed at (quoted keys are not counted).
#[test]
fn every_duplicate_names_the_line_of_the_first_definition() {
    let mut text = format!("{DEFAULTS}artifacts:\n");
    for i in 0..40 {
        text.push_str(&format!(
            "  - cadence: weekday_sf\n    \"artifact_id\": a{i}\n    s3_key_template: \"a/{i}\"\n    \
             sla_minutes_after_cron: 60\n"
        ));
    }
    // The first `dup` fails for its cadence; its id still counts as defined.
    text.push_str(
        "  - artifact_id: dup\n    s3_key_template: \"d/1\"\n    cadence: weekly_sf\n    \
         sla_minutes_after_cron: 60\n",
    );
    for copy in 2..5 {
        text.push_str(&format!(
            "  - s3_key_template: \"d/{copy}\"\n    artifact_id: dup\n    cadence: weekday_sf\n    \
             sla_minutes_after_cron: 60\n"
        ));
    }
    let first_line = 7 + 40 * 4 + 1;
    let duplicates: Vec<String> = messages(&text)
        .into_iter()
        .filter(|m| m.contains("field artifact_id"))
        .collect();
    let expected: Vec<String> = (0..3)
        .map(|n| {
            format!(
                "{FILE}:{}: artifact dup: field artifact_id: duplicate artifact_id (first \
                 defined at line {first_line})",
                first_line + 4 + 4 * n + 1
            )
        })
        .collect();
    assert_eq!(duplicates, expected);
    let registry = parse(&text).expect("artifact errors only");
    assert_eq!(registry.valid_artifacts().count(), 40);
    assert_eq!(spec(&registry, "a39").line(), first_line - 4);
}

#[test]
fn runbook_url_is_carried_to_the_rows_from_the_entry_or_from_defaults() {
    let registry = valid(&format!(
        "{DEFAULTS}  runbook_url: https://wiki.example/runbooks/default
artifacts:
  - artifact_id: own
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    runbook_url: https://wiki.example/runbooks/own?step=1
  - artifact_id: inherited
    s3_key_template: \"b/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    x_team: risk
"
    ));
    let url = |id: &str| {
        (spec(&registry, id).carried())
            .and_then(|c| c.runbook_url.as_deref())
            .map(str::to_string)
    };
    assert_eq!(
        url("own").as_deref(),
        Some("https://wiki.example/runbooks/own?step=1")
    );
    assert_eq!(
        url("inherited").as_deref(),
        Some("https://wiki.example/runbooks/default")
    );
    let inherited = spec(&registry, "inherited");
    assert_eq!(
        inherited.extensions(),
        Some(&serde_json::json!({"x_team": "risk"})),
        "the x_ keys and the table's fields share one box"
    );
    assert_eq!(spec(&registry, "own").extensions(), None);
}

#[test]
fn an_entry_that_carries_nothing_to_its_row_allocates_nothing_for_it() {
    let registry = valid(&format!(
        "{DEFAULTS}artifacts:
  - artifact_id: a
    s3_key_template: \"a/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
"
    ));
    let a = spec(&registry, "a");
    assert!(a.carried().is_none());
    assert!(a.optional.is_none(), "no optional field set: no box at all");
    // A registry holds a million specs for a pass (issue 17): a field carried to the row
    // lives in the shared box, never here, so this size does not grow with such fields.
    // (8 bytes of it are `depends_on`'s pointer, beside the box: issue 27.)
    assert_eq!(size_of::<ArtifactSpec>(), 128);
    // An invalid entry is held in the list unboxed (every member of a ring is one): it must
    // not make every entry larger.
    assert_eq!(size_of::<crate::registry::InvalidArtifact>(), 120);
    assert_eq!(size_of::<RegistryEntry>(), 128);
}

#[test]
fn a_link_alone_allocates_no_optional_fields_and_shares_its_targets_id() {
    let registry = valid(&format!(
        "{DEFAULTS}artifacts:
  - artifact_id: up
    s3_key_template: \"up/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
  - artifact_id: down
    s3_key_template: \"down/{{date}}.json\"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    depends_on: [up]
"
    ));
    let (up, down) = (spec(&registry, "up"), spec(&registry, "down"));
    assert!(
        down.optional.is_none(),
        "a chain of millions pays no box per link"
    );
    assert_eq!(down.depends_on(), std::slice::from_ref(&up.id));
    assert!(
        std::sync::Arc::ptr_eq(&down.depends_on()[0].shared(), &up.id.shared()),
        "the link is the target's own id, not a copy"
    );
}

#[test]
fn a_runbook_url_that_is_not_a_link_names_its_line_and_field() {
    let entry = |line: &str| {
        format!(
            "{DEFAULTS}artifacts:\n  - artifact_id: a\n    s3_key_template: \"a/{{date}}.json\"\n    \
             cadence: weekday_sf\n    sla_minutes_after_cron: 60\n{line}"
        )
    };
    assert_eq!(
        messages(&entry("    runbook_url: \"javascript:alert(1)\"\n")),
        vec![
            "ARTIFACT_REGISTRY.yaml:12: artifact a: field runbook_url: expected an http:// or \
             https:// link without spaces, at most 2,048 bytes; found \"javascript:alert(1)\""
        ]
    );
    let misspelled = messages(&entry("    runbook_uri: https://wiki.example/r\n"));
    assert!(
        misspelled.len() == 1 && misspelled[0].contains("did you mean `runbook_url`"),
        "{misspelled:?}"
    );
}
