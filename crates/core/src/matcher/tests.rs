use chrono::{DateTime, Utc};
use proptest::prelude::*;

use super::*;
use crate::registry::parse_registry;

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A registry of `artifacts` (YAML list items, indented by two) in bucket `bkt`, daily at
/// 06:00 UTC by default.
fn registry(artifacts: &str) -> Registry {
    let yaml = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: warning\n  \
         owner_repo: team\n  created_at: 2025-01-01\n  grace_period_cycles: 0\n  \
         sla_minutes_after_cron: 60\n  cadence: daily\n\
         cadences:\n  daily: {{cron: \"0 6 * * *\", timezone: UTC}}\n  \
         hourly: {{cron: \"0 * * * *\", timezone: UTC}}\n  \
         weekly: {{cron: \"0 9 * * 6\", timezone: America/New_York}}\nartifacts:\n{artifacts}"
    );
    parse_registry("test.yaml", yaml.as_bytes()).unwrap()
}

/// What `key` in `bucket` matches at `now`: (artifact id, kind, cycle).
fn matched(
    registry: &Registry,
    bucket: &str,
    key: &str,
    now: &str,
) -> Vec<(String, KeyKind, CycleOfKey)> {
    let matcher = Matcher::new(registry);
    matcher
        .match_key(registry, bucket, key, t(now))
        .into_iter()
        .map(|m| (m.spec.id.as_str().to_string(), m.kind, m.cycle))
        .collect()
}

fn current_label(found: &[(String, KeyKind, CycleOfKey)]) -> Vec<(&str, KeyKind, &str)> {
    found
        .iter()
        .map(|(id, kind, cycle)| {
            let label = match cycle {
                CycleOfKey::Current(c) => c.label.as_str(),
                CycleOfKey::Previous(label) => label.as_str(),
                CycleOfKey::Other => "other",
            };
            (id.as_str(), *kind, label)
        })
        .collect()
}

const ARTIFACTS: &str = "\
- artifact_id: dated
  s3_key_template: \"signals/{date}/dated.csv\"
  recovery_key_template: \"signals/{date}/recovery/dated.csv\"
- artifact_id: formatted
  s3_key_template: \"raw/{date:%Y/%m/%d}/formatted.parquet\"
- artifact_id: pointer
  s3_key_template: \"state/latest.json\"
- artifact_id: suffixed
  s3_key_template: \"{date:%Y%m%d}_prices_for_the_desk.csv\"
- artifact_id: trading
  cadence: weekday_sf
  s3_key_template: \"eod/{trading_day}/trading.csv\"
- artifact_id: labelled
  cadence: weekly
  s3_key_template: \"weekly/{cycle_label}/labelled.json\"
- artifact_id: elsewhere
  s3_bucket: other
  s3_key_template: \"signals/{date}/dated.csv\"
";

#[test]
fn a_key_gives_back_its_artifact_and_cycle() {
    let registry = registry(ARTIFACTS);
    let now = "2026-06-03T08:00:00Z"; // a Wednesday
    for (bucket, key, expected) in [
        (
            "bkt",
            "signals/2026-06-03/dated.csv",
            ("dated", KeyKind::Canonical, "2026-06-03T06:00"),
        ),
        (
            "bkt",
            "signals/2026-06-03/recovery/dated.csv",
            ("dated", KeyKind::Recovery, "2026-06-03T06:00"),
        ),
        (
            "bkt",
            "raw/2026/06/03/formatted.parquet",
            ("formatted", KeyKind::Canonical, "2026-06-03T06:00"),
        ),
        (
            "bkt",
            "state/latest.json",
            ("pointer", KeyKind::Canonical, "2026-06-03T06:00"),
        ),
        (
            "bkt",
            "20260603_prices_for_the_desk.csv",
            ("suffixed", KeyKind::Canonical, "2026-06-03T06:00"),
        ),
        (
            "other",
            "signals/2026-06-03/dated.csv",
            ("elsewhere", KeyKind::Canonical, "2026-06-03T06:00"),
        ),
    ] {
        let found = matched(&registry, bucket, key, now);
        assert_eq!(current_label(&found), [expected], "{bucket}/{key}");
        assert!(matches!(found[0].2, CycleOfKey::Current(_)), "{key}");
    }
}

#[test]
fn a_trading_day_and_a_cycle_label_match_the_cycle_that_renders_them() {
    let registry = registry(ARTIFACTS);
    // weekday_sf ticks at 13:00 New York; at 20:00 UTC on Wednesday its trading day is
    // Tuesday's session.
    let now = "2026-06-03T20:00:00Z";
    let cycle = registry
        .valid_artifacts()
        .find(|s| s.id.as_str() == "trading")
        .unwrap()
        .cycle_at(t(now), &registry.calendar)
        .unwrap();
    let key = format!("eod/{}/trading.csv", cycle.trading_day);
    let found = matched(&registry, "bkt", &key, now);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].2, CycleOfKey::Current(cycle));

    let weekly = registry
        .valid_artifacts()
        .find(|s| s.id.as_str() == "labelled")
        .unwrap()
        .cycle_at(t(now), &registry.calendar)
        .unwrap();
    let key = format!("weekly/{}/labelled.json", weekly.label);
    let found = matched(&registry, "bkt", &key, now);
    assert_eq!(
        current_label(&found),
        [("labelled", KeyKind::Canonical, weekly.label.as_str())]
    );
}

#[test]
fn yesterdays_key_is_the_previous_cycle_and_older_ones_are_no_cycle() {
    let registry = registry(ARTIFACTS);
    let now = "2026-06-03T08:00:00Z";
    let found = matched(&registry, "bkt", "signals/2026-06-02/dated.csv", now);
    assert_eq!(found[0].2, CycleOfKey::Previous("2026-06-02T06:00".into()));
    let found = matched(&registry, "bkt", "signals/2026-05-01/dated.csv", now);
    assert_eq!(found[0].2, CycleOfKey::Other);
    // Before today's 06:00 tick, today's key is ahead of its cycle.
    let found = matched(
        &registry,
        "bkt",
        "signals/2026-06-03/dated.csv",
        "2026-06-03T05:00:00Z",
    );
    assert_eq!(found[0].2, CycleOfKey::Other);
}

#[test]
fn keys_of_no_artifact_match_nothing() {
    let registry = registry(ARTIFACTS);
    let now = "2026-06-03T08:00:00Z";
    for (bucket, key) in [
        ("bkt", "signals/2026-06-03/dated.csv.tmp"),
        ("bkt", "signals/2026-06-03/other.csv"),
        ("bkt", "state/latest.json.bak"),
        ("bkt", "unrelated/file"),
        ("bkt", ""),
        ("unknown-bucket", "signals/2026-06-03/dated.csv"),
        ("bkt", &"x".repeat(10_000)),
    ] {
        assert_eq!(
            matched(&registry, bucket, key, now),
            [],
            "{bucket}/{key:.40}"
        );
    }
    let matcher = Matcher::new(&registry);
    assert!(matcher.knows_bucket("other"));
    assert!(!matcher.knows_bucket("unknown-bucket"));
    assert_eq!(matcher.templates(), 8);
}

#[test]
fn off_cycle_and_invalid_artifacts_are_not_indexed() {
    let registry = registry(
        "- artifact_id: early\n  s3_key_template: \"b/{date}/early.csv\"\n  off_cycle: true\n\
         - artifact_id: broken\n  s3_key_template: \"b/{nope}/broken.csv\"\n",
    );
    let matcher = Matcher::new(&registry);
    assert_eq!(matcher.templates(), 0);
    assert_eq!(
        matched(
            &registry,
            "bkt",
            "b/2026-06-03/early.csv",
            "2026-06-03T08:00:00Z"
        ),
        []
    );
}

/// A set's member completes nothing on its own, and an artifact with content checks needs
/// its probe's size and ETag: an event settles neither (the pass lists or probes them).
#[test]
fn sets_and_artifacts_with_content_checks_are_not_indexed() {
    let registry = registry(
        "- artifact_id: prices\n  s3_key_template: \"b/{date}/{partition}.csv\"\n  \
         partitions: [AAPL, MSFT]\n\
         - artifact_id: report\n  s3_key_template: \"b/{date}/report.csv\"\n  \
         min_size_bytes: 100\n\
         - artifact_id: plain\n  s3_key_template: \"b/{date}/plain.csv\"\n",
    );
    let matcher = Matcher::new(&registry);
    assert_eq!(matcher.templates(), 1, "only plain");
    let at = "2026-06-03T08:00:00Z";
    assert_eq!(matched(&registry, "bkt", "b/2026-06-03/AAPL.csv", at), []);
    assert_eq!(matched(&registry, "bkt", "b/2026-06-03/report.csv", at), []);
    assert_eq!(
        matched(&registry, "bkt", "b/2026-06-03/plain.csv", at).len(),
        1
    );
}

/// One generated template: a literal head, one or two placeholders, a literal tail.
fn template_strategy() -> impl Strategy<Value = String> {
    let placeholder = prop_oneof![
        Just("{date}"),
        Just("{date:%Y/%m/%d}"),
        Just("{date:%Y%m%d}"),
        Just("{trading_day}"),
        Just("{trading_day:%d-%m-%Y}"),
        Just("{cycle_label}"),
    ];
    let literal = "[a-z]{0,6}(/[a-z_]{1,5}){0,2}";
    (
        literal,
        placeholder.clone(),
        prop::option::of(("[-/_]{1}", placeholder)),
        "[a-z]{0,3}\\.(csv|json)",
    )
        .prop_map(|(head, first, second, tail)| {
            let second = second
                .map(|(sep, p)| format!("{sep}{p}"))
                .unwrap_or_default();
            format!("{head}/{first}{second}/{tail}")
        })
}

fn cadence_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("daily"),
        Just("hourly"),
        Just("weekly"),
        Just("weekday_sf"),
        Just("saturday_sf"),
        Just("eod_sf"),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// For generated registries, rendering an artifact's templates for its cycle at `now` and
    /// matching the key gives back that artifact, that key kind and that cycle.
    #[test]
    fn rendering_then_matching_gives_back_the_artifact_and_cycle(
        artifacts in prop::collection::vec(
            (template_strategy(), prop::option::of(template_strategy()), cadence_strategy()),
            1..12,
        ),
        pointers in 0usize..3,
        seconds in 0i64..(3 * 365 * 86_400),
    ) {
        let mut yaml = String::new();
        for (i, (template, recovery, cadence)) in artifacts.iter().enumerate() {
            yaml.push_str(&format!(
                "- artifact_id: a{i}\n  cadence: {cadence}\n  s3_key_template: \"{template}\"\n"
            ));
            if let Some(recovery) = recovery.as_ref().filter(|r| *r != template) {
                yaml.push_str(&format!("  recovery_key_template: \"{recovery}\"\n"));
            }
        }
        for i in 0..pointers {
            yaml.push_str(&format!("- artifact_id: p{i}\n  s3_key_template: \"latest/p{i}.json\"\n"));
        }
        let registry = registry(&yaml);
        let matcher = Matcher::new(&registry);
        let now = t("2025-01-01T00:00:00Z") + Duration::seconds(seconds);
        for spec in registry.valid_artifacts() {
            let Some(cycle) = spec.cycle_at(now, &registry.calendar) else { continue };
            let keys = ResolvedKeys::resolve(spec, &cycle);
            let rendered = [
                Some((KeyKind::Canonical, keys.canonical_key.clone())),
                keys.recovery_key.clone().map(|k| (KeyKind::Recovery, k)),
            ];
            for (kind, key) in rendered.into_iter().flatten() {
                let found = matcher.match_key(&registry, "bkt", &key, now);
                let hit = found.iter().find(|m| m.spec.id == spec.id && m.kind == kind);
                prop_assert!(hit.is_some(), "{key} for {} not matched: {found:?}", spec.id.as_str());
                prop_assert_eq!(&hit.unwrap().cycle, &CycleOfKey::Current(cycle.clone()));
                // Every match is exact: its own cycle renders the key.
                for m in &found {
                    if let CycleOfKey::Current(c) = &m.cycle {
                        let k = ResolvedKeys::resolve(m.spec, c);
                        let own = match m.kind {
                            KeyKind::Canonical => Some(k.canonical_key),
                            KeyKind::Recovery => k.recovery_key,
                        };
                        prop_assert_eq!(own.as_deref(), Some(key.as_str()));
                    }
                }
                let changed = format!("{key}~");
                prop_assert!(matcher.match_key(&registry, "bkt", &changed, now).is_empty());
            }
        }
    }
}
