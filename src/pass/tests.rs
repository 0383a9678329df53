//! No registry that validation accepts can make a pass panic: arbitrary accepted values and an
//! arbitrary `now` from 1900 to 9999 go through parsing, classification (cycles, grace, key
//! rendering, judging), result rows, the report files and the alert digest.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::calendar::rules::Observance;
use crate::registry::parse_registry;
use crate::report::AlertFigures;
use crate::store::{FetchedObject, ObjectMeta, StoreError};

/// A store whose every key exists with one LastModified (or none exists).
struct OneAnswerStore(Option<DateTime<Utc>>);

impl ObjectStore for OneAnswerStore {
    async fn head(&self, _: &str, _: &str) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.0.map(|last_modified| ObjectMeta {
            last_modified,
            size: None,
            etag: None,
        }))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        Err(StoreError::NotFound {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    async fn put(&self, _: &str, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
        Ok(())
    }

    /// One object under any prefix, with the one LastModified.
    async fn list_page(
        &self,
        _: &str,
        prefix: &str,
        _: Option<&str>,
        _: u16,
    ) -> Result<crate::store::ListPage, StoreError> {
        let objects = (self.0.iter())
            .map(|&last_modified| crate::store::ListedObject {
                key: format!("{prefix}2026-01-01"),
                meta: ObjectMeta {
                    last_modified,
                    size: None,
                    etag: None,
                },
            })
            .collect();
        Ok(crate::store::ListPage {
            objects,
            continuation: None,
        })
    }
}

const TEMPLATES: &[&str] = &[
    "k/{date}.json",
    "k/{date:%Y/%m/%d}/{cycle_label}",
    "k/{trading_day}/{trading_day:%Y%m%d}.parquet",
    "pointer/latest.json",
    "{{literal}}/{cycle_label}/{date:%G-W%V}",
];

const CRONS: &[&str] = &[
    "0 14 1 * *",
    "0 0 29 2 *",
    "0 0 29 2 1",
    "*/5 * * * *",
    "30 9 * * 1-5",
    "59 23 31 12 *",
];

const ZONES: &[&str] = &[
    "UTC",
    "America/New_York",
    "Asia/Kathmandu",
    "Pacific/Chatham",
];

fn cadence() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("cadence: saturday_sf".to_string()),
        Just("cadence: weekday_sf".to_string()),
        Just("cadence: eod_sf".to_string()),
        any::<u32>()
            .prop_map(|n| format!("cadence: continuous\n    interval_minutes: {}", n.max(1))),
        (0..CRONS.len()).prop_map(|i| format!("cadence: c{i}")),
    ]
}

/// A date validation accepts: years 1 to 9999.
fn date() -> impl Strategy<Value = String> {
    (1i32..=9999, 1u32..=12, 1u32..=28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

prop_compose! {
    fn artifact(index: usize)(
        cadence in cadence(),
        template in prop::sample::select(TEMPLATES),
        recovery in prop::option::of(prop::sample::select(TEMPLATES)),
        sla in any::<u32>(),
        grace in any::<u32>(),
        created in date(),
        calendar_aware in any::<bool>(),
        window in prop::option::of((prop::sample::select(ZONES), 0u32..1440, 1u32..=1440, any::<bool>())),
        off_cycle in prop::option::of(prop::option::of(1u32..)),
        depends_on in prop::collection::vec(0usize..4, 0..3),
    ) -> String {
        let window = window
            .map(|(zone, from, to, nyse)| {
                let calendar = if nyse { "nyse" } else { "every_day" };
                let hh_mm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
                format!(
                    "    active_windows: [{{calendar: {calendar}, from: \"{}\", to: \"{}\", \
                     timezone: {zone}}}]\n",
                    hh_mm(from),
                    hh_mm(to)
                )
            })
            .unwrap_or_default();
        let off_cycle = match off_cycle {
            None => String::new(),
            Some(None) => "    off_cycle: true\n".to_string(),
            Some(Some(minutes)) => format!("    off_cycle: {{max_age_minutes: {minutes}}}\n"),
        };
        let recovery = recovery
            .filter(|r| *r != template)
            .map(|r| format!("    recovery_key_template: \"r/{r}\"\n"))
            .unwrap_or_default();
        // Any of the four, itself and cycles included (those entries are invalid, not the
        // registry).
        let depends_on = if depends_on.is_empty() {
            String::new()
        } else {
            let ids: Vec<String> = depends_on.iter().map(|i| format!("a{i}")).collect();
            format!("    depends_on: [{}]\n", ids.join(", "))
        };
        format!(
            "  - artifact_id: a{index}\n    {cadence}\n    s3_key_template: \"{template}\"\n\
             {recovery}    sla_minutes_after_cron: {sla}\n    grace_period_cycles: {grace}\n    \
             created_at: {created}\n    calendar_aware: {calendar_aware}\n{window}{off_cycle}\
             {depends_on}"
        )
    }
}

prop_compose! {
    fn registry()(
        zones in prop::collection::vec(prop::sample::select(ZONES), CRONS.len()),
        calendars in prop::collection::vec(0u8..3, CRONS.len()),
        eventbridge in prop::collection::vec(any::<bool>(), CRONS.len()),
        closures in prop::collection::vec(date(), 0..3),
        desk in calendar(),
        silences in prop::collection::vec(silence(), 0..4),
        policy in alert_policy(),
        a in artifact(0), b in artifact(1), c in artifact(2), d in artifact(3),
    ) -> String {
        let mut text = String::from(
            "schema_version: 1\ndefaults:\n  s3_bucket: research-bucket\n  severity: critical\n  \
             owner_repo: o\n",
        );
        text.push_str(&format!("calendar:\n  extra_closures: [{}]\n", closures.join(", ")));
        text.push_str(&format!("calendars:\n  desk:\n{desk}"));
        text.push_str(&policy);
        if !silences.is_empty() {
            text.push_str(&format!("silences:\n{}", silences.concat()));
        }
        text.push_str("cadences:\n");
        for (i, cron) in CRONS.iter().enumerate() {
            let calendar = [", calendar: nyse", ", calendar: desk", ""][usize::from(calendars[i])];
            let dst = if eventbridge[i] { ", dst: eventbridge" } else { "" };
            text.push_str(&format!(
                "  c{i}: {{cron: \"{cron}\", timezone: {}{calendar}{dst}}}\n",
                zones[i]
            ));
        }
        text.push_str("artifacts:\n");
        for artifact in [a, b, c, d] {
            text.push_str(&artifact);
        }
        text
    }
}

const WEEKDAYS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// One holiday or early-close rule (`close` given for an early close), of any kind, with the
/// extras its kind takes.
fn day_rule(close: Option<&'static str>) -> impl Strategy<Value = String> {
    (
        0u8..4,
        (1u32..=12, 1u32..=28, 0usize..7, prop::option::of(1u8..=5)),
        (-365i32..=365, prop::collection::vec(date(), 1..3)),
        prop::option::of(-365i32..=365),
        prop::option::of(prop::collection::vec(prop::sample::select(WEEKDAYS), 1..4)),
        prop::option::of(prop::sample::select(Observance::NAMES.to_vec())),
        prop::option::of((1i32..=9999, 0i32..50)),
    )
        .prop_map(
            move |(
                kind,
                (month, day, weekday, nth),
                (easter, dates),
                offset,
                only_on,
                observance,
                years,
            )| {
                let mut rule = match kind {
                    0 => format!("{{name: r, month: {month}, day: {day}"),
                    1 => {
                        let nth = nth.map_or("last".to_string(), |n| n.to_string());
                        format!(
                            "{{name: r, month: {month}, weekday: {}, nth: {nth}",
                            WEEKDAYS[weekday]
                        )
                    }
                    2 => format!("{{name: r, easter: {easter}"),
                    _ => format!("{{name: r, dates: [{}]", dates.join(", ")),
                };
                let by_day = kind < 2;
                if let Some(days) = offset.filter(|_| by_day) {
                    rule.push_str(&format!(", offset_days: {days}"));
                }
                if let Some(days) = only_on.filter(|_| kind < 3) {
                    rule.push_str(&format!(", only_on: [{}]", days.join(", ")));
                }
                if let Some(observance) = observance {
                    rule.push_str(&format!(", observance: {observance}"));
                }
                if let Some((from, span)) = years.filter(|_| kind < 3) {
                    rule.push_str(&format!(
                        ", from: {from}, until: {}",
                        (from + span).min(9999)
                    ));
                }
                if let Some(close) = close {
                    rule.push_str(&format!(", close: \"{close}\""));
                }
                rule + "}"
            },
        )
}

/// A `calendars:` entry's body: any zone, close, weekend of up to three days, and rules.
fn calendar() -> impl Strategy<Value = String> {
    (
        prop::sample::select(ZONES),
        prop::sample::select(vec!["13:30", "16:00", "24:00"]),
        prop::collection::vec(prop::sample::select(WEEKDAYS), 0..4),
        prop::collection::vec(day_rule(None), 0..4),
        prop::collection::vec(date(), 0..3),
        prop::collection::vec(day_rule(Some("12:00")), 0..3),
    )
        .prop_map(|(zone, close, weekend, holidays, closures, early)| {
            format!(
                "    timezone: {zone}\n    close: \"{close}\"\n    weekend: [{}]\n    \
                 holidays: [{}]\n    closures: [{}]\n    early_closes: [{}]\n",
                weekend.join(", "),
                holidays.join(", "),
                closures.join(", "),
                early.join(", ")
            )
        })
}

/// One silence: a window (`until`, maybe `from`) or a recurring one (`cron`), over a glob.
fn silence() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["a*", "a0", "?1", "*", "zz*"]),
        0u8..3,
        (1i32..=9990, 1u32..=12),
        prop::sample::select(CRONS),
        1u32..=10_080,
        prop::sample::select(ZONES),
    )
        .prop_map(|(glob, kind, (year, month), cron, minutes, zone)| {
            let window = match kind {
                0 => format!("until: {year:04}-{month:02}-01"),
                1 => format!(
                    "from: {year:04}-{month:02}-01, until: {:04}-01-01",
                    year + 1
                ),
                _ => format!("cron: \"{cron}\", duration_minutes: {minutes}, timezone: {zone}"),
            };
            format!("  - {{artifact_id: \"{glob}\", {window}, reason: r}}\n")
        })
}

/// `alert_policy:`: routes for each channel, escalation and reminders, or none.
fn alert_policy() -> impl Strategy<Value = String> {
    let severities =
        prop::sample::select(vec!["[]", "[warning]", "[critical]", "[warning, critical]"]);
    prop::option::of((severities.clone(), severities, 1u32..=1000, 15u32..=43_200)).prop_map(
        |policy| {
            policy.map_or(String::new(), |(sns, telegram, escalate, remind)| {
                format!(
                    "alert_policy:\n  routes: {{sns: {sns}, telegram: {telegram}}}\n  \
                     escalate_after_cycles: {escalate}\n  remind_every_minutes: {remind}\n"
                )
            })
        },
    )
}

/// Any second from 1900-01-01 to 9999-12-31.
fn now() -> impl Strategy<Value = DateTime<Utc>> {
    (-2_208_988_800i64..253_402_300_799).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
}

fn pass_over(text: &str, now: DateTime<Utc>, last_modified: Option<DateTime<Utc>>) {
    let Ok(registry) = parse_registry("registry.yaml", text.as_bytes()) else {
        return;
    };
    let loaded = LoadedRegistry {
        registry,
        name: "registry.yaml".to_string(),
        etag: None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let store = OneAnswerStore(last_modified);
    let mut outcome = runtime.block_on(run_pass(
        &store,
        &loaded,
        &PassSettings::default(),
        now,
        None,
    ));
    assert_eq!(outcome.rows.len(), loaded.registry.entries.len());
    // Silences, routes, escalation and `depends_on` folding, as a pass with alerts decides.
    let policy = crate::alert::policy::PassPolicy::of(&loaded.registry);
    let inputs = crate::alert::policy::PolicyInputs {
        policy: &policy,
        ledger: None,
        acks: &[],
        channels: &["sns", "telegram"],
        alerts_enabled: true,
    };
    crate::alert::policy::decide(&mut outcome.rows, &inputs, now);
    for row in &outcome.rows {
        assert!(
            !row.reason().contains("internal error"),
            "a panic was caught judging {}: {}",
            row.artifact_id,
            row.reason()
        );
    }
    serde_json::to_vec(&outcome.check_results()).unwrap();
    serde_json::to_vec(&outcome.cycle_verdicts()).unwrap();
    serde_json::to_vec(&outcome.heartbeat(AlertFigures::default())).unwrap();
    let _ = crate::alert::would_send(&outcome, &["sns"]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn no_accepted_registry_makes_a_pass_panic(
        text in registry(),
        now in now(),
        last_modified in prop::option::of(now()),
    ) {
        pass_over(&text, now, last_modified);
    }
}

/// `n` artifacts with `depends_on` links (from, to), each index taken modulo `n`.
fn dependency_registry(n: usize, links: &[(usize, usize)]) -> String {
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(from, to) in links {
        deps[from % n].push(to % n);
    }
    let mut text = String::from(
        "schema_version: 1\ndefaults:\n  s3_bucket: research-bucket\n  severity: critical\n  \
         owner_repo: o\n  cadence: weekday_sf\n  created_at: 2026-01-05\n  \
         sla_minutes_after_cron: 60\nartifacts:\n",
    );
    for (i, up) in deps.iter().enumerate() {
        let ids: Vec<String> = up.iter().map(|u| format!("a{u}")).collect();
        text.push_str(&format!(
            "  - {{artifact_id: a{i}, s3_key_template: \"k/{{date}}/a{i}\", depends_on: [{}]}}\n",
            ids.join(", ")
        ));
    }
    text
}

/// Up to 6,000 artifacts as a chain, a ring, or each on its half and its predecessor (a
/// DAG of many paths), plus up to 30 links anywhere (cycles and self-links included).
fn dependency_links() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (
        1usize..6_000,
        0u8..3,
        prop::collection::vec((any::<usize>(), any::<usize>()), 0..30),
    )
        .prop_map(|(n, shape, extra)| {
            let mut links: Vec<(usize, usize)> = match shape {
                0 => (1..n).map(|i| (i, i - 1)).collect(),
                1 => (0..n).map(|i| (i, (i + n - 1) % n)).collect(),
                _ => (1..n).flat_map(|i| [(i, i / 2), (i, i - 1)]).collect(),
            };
            links.extend(extra);
            (n, links)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn no_dependency_graph_of_thousands_makes_a_pass_panic(
        (n, links) in dependency_links(),
        now in now(),
        last_modified in prop::option::of(now()),
    ) {
        pass_over(&dependency_registry(n, &links), now, last_modified);
    }
}

#[test]
fn most_generated_registries_are_accepted_so_the_property_means_something() {
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = registry();
    let accepted = (0..200)
        .filter(|_| {
            let text = strategy.new_tree(&mut runner).unwrap().current();
            parse_registry("registry.yaml", text.as_bytes()).is_ok()
        })
        .count();
    assert!(
        accepted >= 100,
        "{accepted} of 200 generated registries accepted"
    );
}

#[test]
fn the_registries_of_the_issue_pass_without_a_panic() {
    let header = "schema_version: 1\ncadences:\n  leap: {cron: \"0 0 29 2 *\"}\nartifacts:\n";
    let common = "    s3_bucket: research-bucket\n    s3_key_template: \"k/{date}\"\n    \
                  sla_minutes_after_cron: 0\n    severity: critical\n    owner_repo: o\n    \
                  created_at: 2026-01-01\n";
    for (cadence, grace) in [
        ("saturday_sf", "99999999"),
        ("leap", "70000"),
        ("continuous\n    interval_minutes: 4294967295", "40"),
    ] {
        let text = format!(
            "{header}  - artifact_id: a\n    cadence: {cadence}\n    grace_period_cycles: \
             {grace}\n{common}"
        );
        pass_over(&text, "2026-06-07T12:00:00Z".parse().unwrap(), None);
    }
}

#[test]
fn the_lambdas_pass_settings_are_the_env_contracts() {
    let env = |name: &str| match name {
        "REGISTRY_BUCKET" => Some("bucket"),
        "FRESHNESS_MONITOR_ENABLED" => Some("true"),
        "PROBE_CONCURRENCY" => Some("7"),
        "REVERIFY_MINUTES" => Some("30"),
        "PROBE_LIST_MAX_PAGES" => Some("0"),
        "OBJECT_EVENTS" => Some("on"),
        _ => None,
    };
    let settings = crate::settings::Settings::from_lookup(|n| env(n).map(String::from)).unwrap();
    let pass = PassSettings::from_settings(&settings);
    assert!(pass.alerts_enabled);
    assert_eq!(pass.probe_concurrency, 7);
    assert_eq!(pass.reverify_after, Some(chrono::Duration::minutes(30)));
    assert_eq!(pass.list_max_pages, 0);
    assert!(pass.only.is_empty() && pass.probe_deadline.is_none());
    assert_eq!(pass.listing, ListingLimits::default());
    assert!(pass.object_events && !pass.probe_only_due);
}
