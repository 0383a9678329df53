//! The history scan with a fixed clock and an in-memory store: the cycle walk (across an NYSE
//! holiday, for `{cycle_label}` templates, for pointers), the default lookbacks, the per-cycle
//! rules, the SLA roll-up, the deadline and the file's shape.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::cell::{self, CellOutcome, Landed, NotExpected};
use super::cycles::{settled_at, walk_back};
use super::lookback::{self, Lookback, default_lookback};
use super::*;
use crate::cadence::Cadence;
use crate::calendar::TradingCalendar;
use crate::outcome_log::by_place::RUN_RECORDS;
use crate::registry::{Registry, parse_registry};
use crate::store::{FetchedObject, ObjectMeta, ObjectStore, StoreError};

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn nyse() -> TradingCalendar {
    TradingCalendar::nyse([])
}

/// A store answering HEADs from a table (absent otherwise), recording every key asked.
#[derive(Default)]
struct TableStore {
    objects: HashMap<String, Result<ObjectMeta, StoreError>>,
    heads: Mutex<Vec<String>>,
}

impl TableStore {
    fn with(mut self, key: &str, last_modified: &str, size: u64) -> Self {
        let meta = ObjectMeta {
            last_modified: at(last_modified),
            size: Some(size),
            etag: None,
        };
        self.objects.insert(key.to_string(), Ok(meta));
        self
    }

    fn failing(mut self, key: &str, error: StoreError) -> Self {
        self.objects.insert(key.to_string(), Err(error));
        self
    }

    fn heads(&self) -> Vec<String> {
        self.heads.lock().unwrap().clone()
    }
}

impl ObjectStore for TableStore {
    async fn head(&self, _: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        self.heads.lock().unwrap().push(key.to_string());
        match self.objects.get(key) {
            Some(Ok(meta)) => Ok(Some(*meta)),
            Some(Err(e)) => Err(e.clone()),
            None => Ok(None),
        }
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
}

/// A registry of the given artifact entries (YAML list items) with plain defaults.
fn registry(artifacts: &str) -> Registry {
    let yaml = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: warning\n  owner_repo: team\n  \
         created_at: 2025-01-01\n  grace_period_cycles: 0\n  sla_minutes_after_cron: 60\n\
         cadences:\n  ny_open: {{cron: \"30 9 * * 1-5\", timezone: America/New_York, calendar: nyse}}\n  \
         daily_utc: {{cron: \"0 6 * * *\", timezone: UTC}}\n  weekly: {{cron: \"0 6 * * 1\", timezone: UTC}}\n  \
         hourly: {{cron: \"0 * * * *\", timezone: UTC}}\nartifacts:{}\n{artifacts}",
        if artifacts.is_empty() { " []" } else { "" }
    );
    parse_registry("test.yaml", yaml.as_bytes()).unwrap()
}

async fn scan<'r>(
    store: &TableStore,
    registry: &'r Registry,
    lookback: &[(&str, usize)],
    now: &str,
) -> History<'r> {
    let mut settings = ScanSettings::default();
    for (name, n) in lookback {
        settings.lookback.set(name.to_string(), *n);
    }
    scan_history(store, registry, &settings, at(now)).await
}

fn labels(artifact: &ArtifactHistory<'_>) -> Vec<String> {
    artifact.cycles().map(|(c, _)| c.label.clone()).collect()
}

fn json(history: &History<'_>) -> Value {
    serde_json::to_value(HistoryFile(history)).unwrap()
}

#[test]
fn the_walk_starts_at_the_newest_cycle_past_its_due_time_and_goes_back_newest_first() {
    // Wednesday 2026-07-08 13:30: today's 13:00 cycle is due at 14:00 (60 min SLA), not yet.
    let start = settled_at(at("2026-07-08T13:30:00Z"), 60).unwrap();
    let cycles = walk_back(&Cadence::WeekdaySf, &nyse(), start, 5);
    let labels: Vec<&str> = cycles.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "2026-07-07",
            "2026-07-06",
            "2026-07-03",
            "2026-07-02",
            "2026-07-01"
        ],
        "weekends are no cycle of weekday_sf; the holiday is"
    );
    assert_eq!(
        cycles[2].closure.as_deref(),
        Some("market closed on 2026-07-03: Independence Day (observed)")
    );
    assert!(
        cycles
            .iter()
            .filter(|c| c.label != "2026-07-03")
            .all(|c| c.closure.is_none())
    );
}

#[tokio::test]
async fn a_closed_market_day_is_not_expected_not_probed_and_never_a_gap() {
    let reg = registry(
        "  - artifact_id: daily\n    s3_key_template: \"d/{date}.json\"\n    cadence: weekday_sf\n\
         \x20 - artifact_id: daily_all_days\n    s3_key_template: \"e/{date}.json\"\n    \
         cadence: weekday_sf\n    calendar_aware: false\n",
    );
    let store = TableStore::default()
        .with("d/2026-07-07.json", "2026-07-07T13:30:00Z", 10)
        .with("d/2026-07-06.json", "2026-07-06T13:10:00Z", 11)
        .with("d/2026-07-03.json", "2026-07-03T13:10:00Z", 12)
        .with("d/2026-07-02.json", "2026-07-02T15:05:00Z", 13);
    let history = scan(&store, &reg, &[("weekday_sf", 4)], "2026-07-08T13:30:00Z").await;
    let daily = &history.artifacts[0];
    assert_eq!(
        labels(daily),
        ["2026-07-07", "2026-07-06", "2026-07-03", "2026-07-02"]
    );
    assert_eq!(
        daily.cells[2],
        CellOutcome::NotExpected(NotExpected::MarketClosed)
    );
    assert!(
        !store.heads().contains(&"d/2026-07-03.json".to_string()),
        "the closed day is not probed: {:?}",
        store.heads()
    );
    assert_eq!(daily.gap_count(), 0);
    assert!(matches!(
        daily.cells[3],
        CellOutcome::Landed(Landed {
            on_time: false,
            minutes_late: 65,
            ..
        })
    ));
    // calendar_aware: false probes the closed day like any other, and misses it.
    let all_days = &history.artifacts[1];
    assert!(store.heads().contains(&"e/2026-07-03.json".to_string()));
    assert_eq!(all_days.gap_count(), 4);

    let file = json(&history);
    let cell = &file["artifacts"]["daily"]["history"][2];
    assert_eq!(cell["date"], "2026-07-03");
    assert_eq!(cell["expected"], false);
    assert_eq!(cell["present"], false);
    assert_eq!(cell["size"], Value::Null);
    assert_eq!(
        cell["reason"],
        "market closed on 2026-07-03: Independence Day (observed)"
    );
    assert_eq!(file["artifacts"]["daily"]["gap_count"], 0);
    assert_eq!(file["sla"]["artifacts"]["daily"]["expected"], 3);
    assert_eq!(file["sla"]["artifacts"]["daily"]["late"], 1);
    assert_eq!(file["sla"]["artifacts"]["daily"]["hit_rate"], 0.6667);
}

#[tokio::test]
async fn cycle_label_templates_render_for_every_past_cycle() {
    let reg = registry(
        "  - artifact_id: weekly\n    s3_key_template: \"w/{cycle_label}/{date}.json\"\n    \
         cadence: saturday_sf\n    recovery_key_template: \"w/{cycle_label}/recovery.json\"\n",
    );
    // Wednesday 2026-06-03: the last four Saturdays are 05-30, 05-23, 05-16, 05-09.
    let store = TableStore::default()
        .with("w/2026-W22/2026-05-30.json", "2026-05-30T09:30:00Z", 1)
        .with("w/2026-W21/recovery.json", "2026-05-23T11:00:00Z", 2)
        .with("w/2026-W20/2026-05-16.json", "2026-05-01T00:00:00Z", 3);
    let history = scan(&store, &reg, &[("saturday_sf", 4)], "2026-06-03T12:00:00Z").await;
    let weekly = &history.artifacts[0];
    assert_eq!(
        labels(weekly),
        ["2026-W22", "2026-W21", "2026-W20", "2026-W19"]
    );
    assert!(
        store
            .heads()
            .contains(&"w/2026-W19/2026-05-09.json".to_string())
    );
    let file = json(&history);
    let cells = file["artifacts"]["weekly"]["history"].as_array().unwrap();
    assert_eq!(cells[0]["present"], true);
    assert_eq!(cells[0]["size"], 1);
    assert_eq!(cells[0]["on_time"], true);
    assert_eq!(cells[0]["minutes_late"], 0);
    assert_eq!(cells[1]["present"], true, "through its recovery key");
    assert_eq!(cells[1]["recovery_substituted"], true);
    assert_eq!(cells[2]["present"], false, "an object older than the tick");
    assert_eq!(cells[2]["last_modified"], "2026-05-01T00:00:00Z");
    assert_eq!(cells[2]["on_time"], false);
    assert!(
        cells[2]["reason"]
            .as_str()
            .unwrap()
            .contains("before the cycle's tick")
    );
    assert_eq!(cells[3]["present"], false);
    assert_eq!(cells[3]["cycle_label"], "2026-W19");
    assert_eq!(file["artifacts"]["weekly"]["gap_count"], 2);
    assert_eq!(file["lookback"]["saturday_sf"], 4);
}

#[tokio::test]
async fn a_pointer_is_probed_once_for_its_newest_expected_cycle() {
    let reg = registry(
        "  - artifact_id: latest\n    s3_key_template: pointers/latest.json\n    \
         cadence: weekday_sf\n",
    );
    let store = TableStore::default().with("pointers/latest.json", "2026-07-06T13:20:00Z", 7);
    // Tuesday 2026-07-07 10:00: the newest settled cycle is Monday 07-06.
    let history = scan(&store, &reg, &[], "2026-07-07T10:00:00Z").await;
    assert_eq!(store.heads(), ["pointers/latest.json"]);
    let file = json(&history);
    let latest = &file["artifacts"]["latest"];
    assert_eq!(latest["is_latest_pointer"], true);
    assert_eq!(latest["lookback_cycles"], 1);
    assert_eq!(latest["history"].as_array().unwrap().len(), 1);
    assert_eq!(latest["history"][0]["cycle_label"], "2026-07-06");
    assert_eq!(latest["history"][0]["present"], true);
    // The original's shape: one probe of one key tells no gaps; `continuous` is "found".
    assert_eq!(latest["gap_count"], Value::Null);
    assert_eq!(latest["continuous"], true);
    assert_eq!(file["n_cycles_probed"], 1);
    assert_eq!(file["n_head_requests"], 1);

    // A pointer whose key is gone: still no gap count, and not found.
    let empty = TableStore::default();
    let file = json(&scan(&empty, &reg, &[], "2026-07-07T10:00:00Z").await);
    assert_eq!(file["artifacts"]["latest"]["gap_count"], Value::Null);
    assert_eq!(file["artifacts"]["latest"]["continuous"], false);

    // On the day after a holiday, the pointer's cycle is the last open day, not the holiday.
    let history = scan(&store, &reg, &[], "2026-07-06T10:00:00Z").await;
    assert_eq!(labels(&history.artifacts[0]), ["2026-07-02"]);
}

#[test]
fn default_lookbacks_for_every_kind_of_cadence() {
    let now = at("2026-06-03T12:00:00Z");
    let cal = nyse();
    let reg = registry("");
    let user = |name: &str| {
        let cadence = reg.user_cadences.iter().find(|c| c.name == name).unwrap();
        Cadence::User(cadence.clone())
    };
    let continuous = |interval_minutes| Cadence::Continuous { interval_minutes };
    for (cadence, expected) in [
        (Cadence::SaturdaySf, 12),
        (Cadence::WeekdaySf, 30),
        (Cadence::EodSf, 30),
        (continuous(1440), 30),
        (continuous(60), 168),
        (continuous(5), 168),
        (continuous(10080), 12),
        (continuous(u32::MAX), 12),
        (user("daily_utc"), 30),
        (user("weekly"), 12),
        (user("hourly"), 168),
        // Weekdays 09:30 New York: the fire times of the last 30 days, weekends being none.
        (user("ny_open"), 22),
    ] {
        assert_eq!(
            default_lookback(&cadence, &cal, now),
            expected,
            "{}",
            cadence.name()
        );
    }
}

#[tokio::test]
async fn the_lookback_says_what_was_walked_per_schedule() {
    let reg = registry(
        "  - artifact_id: fast\n    s3_key_template: \"f/{cycle_label}\"\n    cadence: continuous\n    \
         interval_minutes: 60\n\
         \x20 - artifact_id: slow\n    s3_key_template: \"s/{cycle_label}\"\n    cadence: continuous\n    \
         interval_minutes: 1440\n\
         \x20 - artifact_id: open\n    s3_key_template: \"o/{date}\"\n    cadence: ny_open\n",
    );
    let store = TableStore::default();
    let history = scan(&store, &reg, &[], "2026-06-03T12:00:00Z").await;
    let file = json(&history);
    assert_eq!(
        file["lookback"],
        serde_json::json!({"continuous_1440m": 30, "continuous_60m": 168, "ny_open": 22})
    );
    assert_eq!(file["artifacts"]["fast"]["continuous"], true);
    assert_eq!(file["artifacts"]["fast"]["lookback_cycles"], 168);
    assert_eq!(file["artifacts"]["open"]["continuous"], false);
    // An override by cadence name covers every interval.
    let history = scan(&store, &reg, &[("continuous", 3)], "2026-06-03T12:00:00Z").await;
    assert_eq!(json(&history)["lookback"]["continuous_60m"], 3);
    assert_eq!(json(&history)["lookback"]["continuous_1440m"], 3);
}

#[test]
fn lookback_counts_and_names_are_checked() {
    assert_eq!(lookback::checked_count(1), Ok(1));
    assert_eq!(lookback::checked_count(1000), Ok(1000));
    for bad in [0, 1001, u64::MAX] {
        assert_eq!(
            lookback::checked_count(bad).unwrap_err().to_string(),
            format!("must be a whole number of cycles from 1 to 1000, got {bad}")
        );
    }
    let reg = registry("");
    let mut lookback = Lookback::default();
    for name in ["weekday_sf", "continuous", "ny_open", "weekdy_sf"] {
        lookback.set(name.to_string(), 3);
    }
    assert_eq!(lookback.unknown_names(&reg), ["weekdy_sf"]);
}

#[tokio::test]
async fn cycles_before_the_grace_period_ended_are_not_expected() {
    let reg = registry(
        "  - artifact_id: young\n    s3_key_template: \"y/{date}\"\n    cadence: weekday_sf\n    \
         created_at: 2026-06-01\n    grace_period_cycles: 1\n",
    );
    let store = TableStore::default();
    let history = scan(&store, &reg, &[("weekday_sf", 5)], "2026-06-04T15:00:00Z").await;
    let young = &history.artifacts[0];
    assert_eq!(
        labels(young),
        [
            "2026-06-04",
            "2026-06-03",
            "2026-06-02",
            "2026-06-01",
            "2026-05-29"
        ]
    );
    // Grace ends 2026-06-02 00:00: Monday's and the previous Friday's cycles are before it.
    assert_eq!(young.gap_count(), 3);
    assert_eq!(
        young.cells[3],
        CellOutcome::NotExpected(NotExpected::BeforeGraceEnd)
    );
    assert_eq!(store.heads().len(), 3);
    let reason = json(&history)["artifacts"]["young"]["history"][4]["reason"].clone();
    assert_eq!(
        reason,
        "before the artifact's grace period ended at 2026-06-02T00:00:00Z (created 2026-06-01)"
    );
}

#[tokio::test]
async fn a_failed_probe_is_that_cycles_error_code_and_403_is_not_present() {
    let reg = registry(
        "  - artifact_id: flaky\n    s3_key_template: \"k/{date}\"\n    cadence: weekday_sf\n    \
         recovery_key_template: \"r/{date}\"\n",
    );
    let denied = StoreError::AccessDenied {
        bucket: "b".into(),
        key: "k".into(),
    };
    let store = TableStore::default()
        .failing("k/2026-06-03", StoreError::Server { status: 500 })
        .failing("k/2026-06-02", denied)
        .with("r/2026-06-02", "2026-06-02T13:05:00Z", 4)
        .failing("k/2026-06-01", StoreError::Timeout { seconds: 10.0 });
    let history = scan(&store, &reg, &[("weekday_sf", 3)], "2026-06-04T12:00:00Z").await;
    assert!(!history.truncated());
    let file = json(&history);
    let cells = &file["artifacts"]["flaky"]["history"];
    assert_eq!(cells[0]["error_code"], "500");
    assert_eq!(
        cells[0]["error"],
        "S3 server error (HTTP 500) after retries"
    );
    assert_eq!(cells[0]["present"], false);
    assert_eq!(cells[0]["on_time"], Value::Null);
    assert!(
        !store.heads().contains(&"r/2026-06-03".to_string()),
        "a failed probe never falls through to recovery"
    );
    assert_eq!(
        cells[1]["present"], true,
        "403 reads as absent, so recovery is asked"
    );
    assert!(cells[1].get("error_code").is_none());
    assert_eq!(cells[2]["error_code"], "Timeout");
    assert_eq!(
        file["artifacts"]["flaky"]["gap_count"], 0,
        "an error is no gap"
    );
    let sla = &file["sla"]["artifacts"]["flaky"];
    assert_eq!(sla["expected"], 3);
    assert_eq!(sla["unknown"], 2);
    assert_eq!(sla["hit_rate"], 1.0, "errors are left out of the rate");
}

#[tokio::test]
async fn near_the_deadline_what_was_not_probed_is_not_scanned() {
    let reg = registry(
        "  - artifact_id: a\n    s3_key_template: \"a/{date}\"\n    cadence: saturday_sf\n\
         \x20 - artifact_id: b\n    s3_key_template: \"b/{date}\"\n    cadence: saturday_sf\n\
         \x20 - artifact_id: bad\n    s3_key_template: \"c/{date}\"\n    cadence: saturday_sff\n",
    );
    let store = TableStore::default();
    let settings = ScanSettings {
        probe_deadline: Some(tokio::time::Instant::now()),
        ..ScanSettings::default()
    };
    let history = scan_history(&store, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    assert!(store.heads().is_empty());
    assert!(history.truncated());
    assert_eq!(history.not_scanned, ["a", "b"]);
    assert_eq!(history.skipped_unsupported, 1, "the invalid entry");
    let file = json(&history);
    assert_eq!(file["truncated"], true);
    assert_eq!(file["not_scanned"], serde_json::json!(["a", "b"]));
    assert_eq!(file["artifacts"], serde_json::json!({}));
    assert_eq!(file["n_artifacts"], 0);
}

#[tokio::test]
async fn only_and_the_owner_roll_up() {
    let reg = registry(
        "  - artifact_id: a\n    s3_key_template: \"a/{date}\"\n    cadence: saturday_sf\n\
         \x20 - artifact_id: b\n    s3_key_template: \"b/{date}\"\n    cadence: saturday_sf\n    \
         owner_repo: other\n\
         \x20 - artifact_id: c\n    s3_key_template: \"c/{date}\"\n    cadence: saturday_sf\n",
    );
    let store = TableStore::default()
        .with("a/2026-05-30", "2026-05-30T09:10:00Z", 1)
        .with("c/2026-05-30", "2026-05-30T12:00:00Z", 1);
    let mut settings = ScanSettings {
        only: vec!["a".into(), "c".into()],
        ..ScanSettings::default()
    };
    settings.lookback.set("saturday_sf".into(), 2);
    let history = scan_history(&store, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    let report = history.sla();
    assert_eq!(report.artifacts.len(), 2);
    let team = report.owners["team"];
    assert_eq!(
        (team.expected, team.on_time, team.late, team.missing),
        (4, 1, 1, 2)
    );
    assert_eq!(team.hit_rate(), Some(0.25));
    assert!(!report.owners.contains_key("other"));
    assert_eq!(report.overall, team);
    assert_eq!(SlaCounts::default().hit_rate(), None);
}

#[test]
fn the_recovery_key_is_asked_only_when_the_canonical_does_not_count() {
    let tick = at("2026-06-01T13:00:00Z");
    let meta = |t: &str| {
        Ok(Some(ObjectMeta {
            last_modified: at(t),
            size: None,
            etag: None,
        }))
    };
    assert!(cell::needs_recovery(&Ok(None), tick));
    assert!(cell::needs_recovery(&meta("2026-06-01T12:59:59Z"), tick));
    assert!(!cell::needs_recovery(&meta("2026-06-01T13:00:00Z"), tick));
    let denied = Err(StoreError::AccessDenied {
        bucket: "b".into(),
        key: "k".into(),
    });
    assert!(cell::needs_recovery(&denied, tick));
    assert!(!cell::needs_recovery(
        &Err(StoreError::Server { status: 503 }),
        tick
    ));
    let due = tick + Duration::minutes(60);
    let late = cell::judge(meta("2026-06-01T14:01:30Z"), None, tick, due);
    assert!(matches!(
        late,
        CellOutcome::Landed(Landed {
            on_time: false,
            minutes_late: 1,
            ..
        })
    ));
}

#[tokio::test]
async fn the_file_has_the_originals_fields_and_ours() {
    let reg = registry(
        "  - artifact_id: a\n    s3_key_template: \"a/{date}\"\n    cadence: eod_sf\n    \
         severity: critical\n",
    );
    let store = TableStore::default().with("a/2026-06-02", "2026-06-02T21:30:00Z", 42);
    let history = scan(&store, &reg, &[("eod_sf", 2)], "2026-06-03T23:00:00Z").await;
    let file = json(&history);
    let keys = |v: &Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&file),
        [
            "artifacts",
            "duration_seconds",
            "generated_at",
            "lookback",
            "n_artifacts",
            "n_cycles_from_log",
            "n_cycles_probed",
            "n_head_requests",
            "n_list_requests",
            "n_log_requests",
            "not_scanned",
            "probes_by_reason",
            "skipped_unsupported",
            "sla",
            "truncated",
            "warnings"
        ]
    );
    assert_eq!(file["generated_at"], "2026-06-03T23:00:00Z");
    let a = &file["artifacts"]["a"];
    assert_eq!(
        keys(a),
        [
            "cadence",
            "continuous",
            "gap_count",
            "history",
            "is_latest_pointer",
            "lookback_cycles",
            "owner_repo",
            "s3_key_template",
            "severity"
        ]
    );
    assert_eq!(a["severity"], "critical");
    assert_eq!(a["s3_key_template"], "a/{date}");
    assert_eq!(
        keys(&a["history"][1]),
        [
            "cycle_label",
            "date",
            "expected",
            "last_modified",
            "minutes_late",
            "on_time",
            "present",
            "size"
        ]
    );
    assert_eq!(a["history"][1]["date"], "2026-06-02");
    assert_eq!(a["history"][1]["size"], 42);
    assert_eq!(a["history"][0]["minutes_late"], Value::Null);
    assert_eq!(file["sla"]["owners"]["team"]["expected"], 2);
    assert_eq!(file["sla"]["overall"]["missing"], 1);
}

#[tokio::test]
async fn a_feeds_buckets_outside_its_active_windows_are_not_expected_and_the_first_is_judged_from_the_opening()
 {
    let reg = registry(
        "  - artifact_id: quotes\n    s3_key_template: \"q/{cycle_label}.json\"\n    \
         cadence: continuous\n    interval_minutes: 60\n    sla_minutes_after_cron: 10\n    \
         active_windows:\n      - {calendar: nyse, from: \"09:30\", to: \"16:00\", \
         timezone: America/New_York}\n",
    );
    let bucket = |t: &str| format!("q/continuous_60m_{}.json", at(t).timestamp() / 3600);
    // Monday 2026-06-01: the window opens at 13:30Z. Written 13:35Z and 14:05Z.
    let store = TableStore::default()
        .with(&bucket("2026-06-01T13:00:00Z"), "2026-06-01T13:35:00Z", 1)
        .with(&bucket("2026-06-01T14:00:00Z"), "2026-06-01T14:05:00Z", 1);
    let history = scan(&store, &reg, &[("continuous", 4)], "2026-06-01T15:00:00Z").await;
    let quotes = &history.artifacts[0];
    let on_time = |cell: &CellOutcome| matches!(cell, CellOutcome::Landed(l) if l.on_time);
    assert!(on_time(&quotes.cells[0]), "{:?}", quotes.cells[0]);
    // Due 13:40Z (from the opening), not 13:10Z (from the bucket).
    assert!(on_time(&quotes.cells[1]), "{:?}", quotes.cells[1]);
    for cell in &quotes.cells[2..] {
        assert_eq!(*cell, CellOutcome::NotExpected(NotExpected::OutsideWindows));
    }
    assert_eq!(quotes.gap_count(), 0);
    assert_eq!(store.heads().len(), 2, "the night's buckets are not probed");
    let file = json(&history);
    let reason = file["artifacts"]["quotes"]["history"][3]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.starts_with("outside its active windows (09:30-16:00 America/New_York on nyse sessions: none open from"),
        "{file}"
    );
}

#[tokio::test]
async fn a_sets_cycles_are_listed_once_each_and_counted_complete_or_partial() {
    let reg = registry(
        "  - artifact_id: shards\n    s3_key_template: \"s/{date}/{partition}.json\"\n    \
         partitions: [a, b]\n    cadence: daily_utc\n\
         \x20 - artifact_id: listed\n    s3_key_template: \"t/{date}/{partition}.json\"\n    \
         partitions_from: s3://bkt/lists/t.txt\n    cadence: daily_utc\n",
    );
    let store = crate::store::memory::MemoryStore::new();
    for key in [
        "s/2026-06-03/a.json",
        "s/2026-06-03/b.json",
        "s/2026-06-02/a.json",
        "t/2026-06-03/x.json",
        "t/2026-06-03/y.json",
        "t/2026-06-03/z.json",
        "t/2026-06-01/y.json",
    ] {
        let day = &key[2..12];
        store.insert("bkt", key, "x", at(&format!("{day}T06:30:00Z")));
    }
    store.insert(
        "bkt",
        "lists/t.txt",
        "x\ny\nz\n",
        at("2026-05-01T00:00:00Z"),
    );
    let counting = crate::store::counting::CountingStore::new(&store);
    let mut settings = ScanSettings::default();
    settings.lookback.set("daily_utc".into(), 3);
    let history = scan_history(&counting, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    assert_eq!(
        history.skipped_unsupported, 0,
        "a set read from S3 is scanned too"
    );
    let counts = counting.counts();
    assert_eq!(
        (counts.list, counts.head, counts.get),
        (6, 1, 1),
        "one listing a cycle of each set; the list object read once"
    );
    assert_eq!((history.n_list_requests, history.n_head_requests), (6, 1));
    let file = json(&history);
    let cells = &file["artifacts"]["shards"]["history"];
    let set = |i: usize| cells[i]["set"].clone();
    assert_eq!(
        set(0),
        serde_json::json!({"total": 2, "written": 2, "fraction": 1.0, "complete": true})
    );
    assert_eq!(cells[0]["present"], true);
    assert_eq!(cells[0]["on_time"], true);
    assert_eq!(
        set(1),
        serde_json::json!({"total": 2, "written": 1, "fraction": 0.5, "complete": false})
    );
    assert_eq!(
        cells[1]["present"], false,
        "partial is a gap without min_complete"
    );
    assert_eq!(set(2)["written"], 0);
    assert_eq!(file["artifacts"]["shards"]["gap_count"], 2);

    // The set whose values are the list object's (x, y, z), counted the same way.
    let listed = &file["artifacts"]["listed"]["history"];
    let counted = |i: usize| {
        (
            listed[i]["set"]["total"].clone(),
            listed[i]["set"]["written"].clone(),
        )
    };
    assert_eq!(counted(0), (3.into(), 3.into()));
    assert_eq!(listed[0]["present"], true);
    assert_eq!(counted(1), (3.into(), 0.into()));
    assert_eq!(counted(2), (3.into(), 1.into()));
    assert_eq!(file["artifacts"]["listed"]["gap_count"], 2);
}

#[tokio::test]
async fn a_set_whose_list_cannot_be_read_has_that_reason_as_each_probed_cycles_error() {
    let reg = registry(
        "  - artifact_id: listed\n    s3_key_template: \"t/{date}/{partition}.json\"\n    \
         partitions_from: s3://bkt/lists/gone.txt\n    cadence: daily_utc\n",
    );
    let store = crate::store::memory::MemoryStore::new();
    store.insert(
        "bkt",
        "t/2026-06-03/x.json",
        "x",
        at("2026-06-03T06:30:00Z"),
    );
    let counting = crate::store::counting::CountingStore::new(&store);
    let mut settings = ScanSettings::default();
    settings.lookback.set("daily_utc".into(), 2);
    let history = scan_history(&counting, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    assert_eq!(
        counting.counts().list,
        0,
        "nothing to list without the values"
    );
    assert!(history.not_scanned.is_empty());
    let file = json(&history);
    let cells = &file["artifacts"]["listed"]["history"];
    for i in 0..2 {
        assert_eq!(cells[i]["error_code"], "Error", "{file:#}");
        let said = cells[i]["error"].as_str().unwrap_or_default();
        assert!(
            said.contains("partitions_from s3://bkt/lists/gone.txt: not found"),
            "{file:#}"
        );
    }
}

/// `n` weekly artifacts writing under one directory a date (`w/{date}/aN.json`), the
/// first two with a recovery key.
fn one_directory_a_date(n: usize) -> Registry {
    let mut artifacts = String::new();
    for i in 0..n {
        artifacts.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: \"w/{{date}}/a{i}.json\"\n    \
             cadence: saturday_sf\n"
        ));
        if i < 2 {
            artifacts.push_str(&format!(
                "    recovery_key_template: \"r/a{i}/{{date}}.json\"\n"
            ));
        }
    }
    registry(&artifacts)
}

#[tokio::test]
async fn a_directorys_cycles_are_answered_by_one_listing_page_and_the_few_others_headed() {
    let reg = one_directory_a_date(20);
    let store = crate::store::memory::MemoryStore::new();
    // Saturday 2026-05-30's objects: a0..a9 on time; a10 a day before its tick (older); the
    // rest never. a0's recovery key is never asked (its canonical counts); a1's neither.
    for i in 0..10 {
        let key = format!("w/2026-05-30/a{i}.json");
        store.insert("bkt", &key, "x", at("2026-05-30T09:10:00Z"));
    }
    store.insert(
        "bkt",
        "w/2026-05-30/a10.json",
        "x",
        at("2026-05-29T09:10:00Z"),
    );
    let counting = crate::store::counting::CountingStore::new(&store);
    let mut settings = ScanSettings::default();
    settings.lookback.set("saturday_sf".into(), 1);
    let history = scan_history(&counting, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    let counts = counting.counts();
    assert_eq!((counts.list, counts.head), (1, 0), "{counts:?}");
    assert_eq!((history.n_list_requests, history.n_head_requests), (1, 0));
    let file = json(&history);
    assert_eq!(file["n_list_requests"], 1);
    assert_eq!(file["n_cycles_probed"], 20);
    let present = |i: usize| file["artifacts"][format!("a{i}")]["history"][0]["present"].clone();
    assert!((0..10).all(|i| present(i) == true));
    assert!((10..20).all(|i| present(i) == false));
    assert_eq!(history.gap_count(), 10);
}

#[tokio::test]
async fn below_thirteen_keys_a_directory_is_headed_and_a_recovery_key_asked_when_needed() {
    let reg = one_directory_a_date(12);
    let store = crate::store::memory::MemoryStore::new();
    store.insert(
        "bkt",
        "r/a0/2026-05-30.json",
        "x",
        at("2026-05-30T09:10:00Z"),
    );
    let counting = crate::store::counting::CountingStore::new(&store);
    let mut settings = ScanSettings::default();
    settings.lookback.set("saturday_sf".into(), 1);
    let history = scan_history(&counting, &reg, &settings, at("2026-06-03T12:00:00Z")).await;
    let counts = counting.counts();
    // 12 canonical HEADs (a listing would cost more) and a0's and a1's recovery keys.
    assert_eq!((counts.list, counts.head), (0, 14), "{counts:?}");
    let file = json(&history);
    assert_eq!(
        file["artifacts"]["a0"]["history"][0]["recovery_substituted"],
        true
    );
    assert_eq!(history.gap_count(), 11);
}

#[tokio::test]
async fn history_json_written_a_piece_at_a_time_is_the_same_bytes_as_whole() {
    let reg = registry(
        "  - artifact_id: flaky\n    s3_key_template: \"k/{date}\"\n    cadence: weekday_sf\n    \
         owner_repo: research\n\
         \x20 - artifact_id: pointer\n    s3_key_template: \"p/latest.json\"\n    cadence: weekday_sf\n\
         \x20 - artifact_id: weekly_q\n    s3_key_template: \"q/{date}\"\n    cadence: weekly\n",
    );
    let store = TableStore::default()
        .failing("k/2026-06-03", StoreError::Server { status: 500 })
        .with("k/2026-06-02", "2026-06-02T23:05:00Z", 4)
        .with("p/latest.json", "2026-06-03T13:05:00Z", 9)
        .with("q/2026-06-01", "2026-06-01T06:30:00Z", 7);
    let history = scan(&store, &reg, &[("weekday_sf", 3)], "2026-06-04T12:00:00Z").await;
    assert_eq!(history.artifacts.len(), 3);
    let mut pieces = CompactPieces::new(&history);
    let (mut out, mut n) = (Vec::new(), 0);
    while pieces.write_next(&mut out) {
        n += 1;
    }
    assert_eq!(
        String::from_utf8(out).unwrap(),
        serde_json::to_string(&HistoryFile(&history)).unwrap()
    );
    assert_eq!(
        n,
        1 + 3 + 1 + 3 + 1,
        "head, each artifact, totals, each count, end"
    );
    let none = registry("");
    let empty = scan(&store, &none, &[], "2026-06-04T12:00:00Z").await;
    let (mut pieces, mut out) = (CompactPieces::new(&empty), Vec::new());
    while pieces.write_next(&mut out) {}
    assert_eq!(out, serde_json::to_vec(&HistoryFile(&empty)).unwrap());
}

#[tokio::test]
async fn the_pages_digest_object_reads_back_as_the_digest_of_the_scan() {
    use crate::page::HistoryDigest;
    use crate::page::digest_file::{read_digest, write_artifact, write_header};
    let reg = registry(
        "  - artifact_id: flaky\n    s3_key_template: \"k/{date}\"\n    cadence: weekday_sf\n\
         \x20 - artifact_id: hourly_feed\n    s3_key_template: \"h/{cycle_label}\"\n    cadence: hourly\n",
    );
    let store = TableStore::default()
        .failing("k/2026-06-03", StoreError::Server { status: 500 })
        .with("k/2026-06-02", "2026-06-02T23:05:00Z", 4);
    let history = scan(&store, &reg, &[("weekday_sf", 3)], "2026-06-04T12:00:00Z").await;
    let mut lines = Vec::new();
    write_header(&mut lines, &history);
    for artifact in &history.artifacts {
        write_artifact(&mut lines, artifact);
    }
    let digest = read_digest(&lines[..]).unwrap();
    assert_eq!(digest, HistoryDigest::of(&history));
    assert_eq!(
        digest.artifacts["hourly_feed"].cells.len(),
        12,
        "the newest 12 of 24+"
    );
    assert!(
        digest.artifacts["hourly_feed"].sla.expected > 12,
        "counts cover the window"
    );
}

/// A store that answers HEADs from a table, keeps what is written in memory and uploads in
/// parts the way S3 does: the parts of an upload make the object in part-number order,
/// whatever order they were sent in.
struct PartsStore {
    table: TableStore,
    objects: crate::store::memory::MemoryStore,
    parts: Mutex<Vec<(String, i32, Vec<u8>)>>,
}

impl PartsStore {
    fn new(table: TableStore) -> Self {
        let objects = crate::store::memory::MemoryStore::new();
        objects.create_bucket("results");
        PartsStore {
            table,
            objects,
            parts: Mutex::default(),
        }
    }

    async fn body(&self, key: &str) -> Vec<u8> {
        self.objects.get("results", key).await.unwrap().body
    }

    async fn unzipped(&self, key: &str) -> String {
        use std::io::Read;
        let body = self.body(key).await;
        let mut text = String::new();
        let mut members = flate2::read::MultiGzDecoder::new(&body[..]);
        members.read_to_string(&mut text).unwrap();
        text
    }
}

impl ObjectStore for PartsStore {
    async fn head(&self, b: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        match b {
            "results" => self.objects.head(b, key).await,
            _ => self.table.head(b, key).await,
        }
    }
    async fn get(&self, b: &str, k: &str) -> Result<FetchedObject, StoreError> {
        self.objects.get(b, k).await
    }
    async fn put(&self, b: &str, k: &str, body: Vec<u8>, t: &str) -> Result<(), StoreError> {
        self.objects.put(b, k, body, t).await
    }
    async fn list_page(
        &self,
        b: &str,
        prefix: &str,
        token: Option<&str>,
        max: u16,
    ) -> Result<crate::store::ListPage, StoreError> {
        self.objects.list_page(b, prefix, token, max).await
    }
    async fn start_upload(&self, _: &str, k: &str, _: &str) -> Result<Option<String>, StoreError> {
        Ok(Some(k.to_string()))
    }
    async fn upload_part(
        &self,
        _: &str,
        _: &str,
        id: &str,
        n: i32,
        body: Vec<u8>,
    ) -> Result<String, StoreError> {
        self.parts.lock().unwrap().push((id.to_string(), n, body));
        Ok(format!("{id}#{n}"))
    }
    async fn complete_upload(
        &self,
        b: &str,
        k: &str,
        id: &str,
        etags: Vec<String>,
        _: u64,
    ) -> Result<(), StoreError> {
        let mut parts: Vec<_> = std::mem::take(&mut *self.parts.lock().unwrap());
        let (mut mine, others): (Vec<_>, Vec<_>) = parts.drain(..).partition(|p| p.0 == id);
        *self.parts.lock().unwrap() = others;
        mine.sort_by_key(|p| p.1);
        let numbers: Vec<String> = mine.iter().map(|p| format!("{id}#{}", p.1)).collect();
        assert_eq!(etags, numbers, "every part, numbered 1.. in order");
        let body = mine.into_iter().flat_map(|p| p.2).collect();
        self.objects.put(b, k, body, "").await
    }
}

/// 1,203 artifacts (past the 1,000 that are written indented and whole): weekday, weekly
/// and pointer entries, some landed, one failing.
fn many_artifacts() -> (Registry, TableStore) {
    let mut entries = String::new();
    let mut store = TableStore::default();
    for i in 0..1_203 {
        let (template, cadence) = match i % 3 {
            0 => (format!("d/{i}/{{date}}"), "weekday_sf"),
            1 => (format!("w/{i}/{{date}}"), "weekly"),
            _ => (format!("p/{i}/latest.json"), "weekday_sf"),
        };
        entries.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: \"{template}\"\n    cadence: {cadence}\n    \
             owner_repo: team{}\n",
            i % 7
        ));
        if i % 5 == 0 {
            store = store.with(&format!("d/{i}/2026-06-03"), "2026-06-03T13:30:00Z", i);
            store = store.with(&format!("p/{i}/latest.json"), "2026-06-03T15:00:00Z", i);
        }
    }
    let store = store.failing("d/9/2026-06-02", StoreError::Server { status: 500 });
    (registry(&entries), store)
}

#[tokio::test]
async fn a_scan_written_batch_by_batch_writes_the_same_files_as_the_whole_scan() {
    use super::files::HistoryFiles;
    use super::write::{put_digest, put_history_json};
    let (reg, table) = many_artifacts();
    let now = at("2026-06-04T12:00:00Z");
    let mut settings = ScanSettings {
        log_location: Some(crate::settings::OutputLocation {
            bucket: "results".into(),
            prefix: "r/".into(),
        }),
        ..ScanSettings::default()
    };
    settings.lookback.set("weekday_sf".into(), 3);
    settings.lookback.set("weekly".into(), 2);
    let whole_store = PartsStore::new(table);
    let mut whole = scan_history(&whole_store, &reg, &settings, now).await;
    assert_eq!(whole.artifacts.len(), 1_203);
    whole.duration = std::time::Duration::ZERO;
    put_history_json(&whole_store, "results", "r/history.json", &whole)
        .await
        .unwrap();
    put_digest(&whole_store, "results", "r/digest.gz", &whole)
        .await
        .unwrap();
    let expected = (
        whole_store.body("r/history.json").await,
        whole_store.unzipped("r/digest.gz").await,
        whole_store.unzipped("r/history_outcomes.ndjson.gz").await,
    );
    assert!(expected.0.len() > 3 * 4096, "several parts of 4 KiB");
    // 1: an artifact a batch; 7 and 100 (of 5 times as many planned cycles): batches that
    // do not divide the count.
    for batch_cycles in [1, 7, 100] {
        // A store of its own: no compacted log of an earlier scan to read.
        let store = PartsStore::new(many_artifacts().1);
        let settings = ScanSettings {
            batch_cycles,
            ..settings.clone()
        };
        let mut files = HistoryFiles::new(&store, "results", "r/history.json", "r/digest.gz")
            .with_part_bytes(4096);
        let mut history = scan_writing(&store, &reg, &settings, now, Some(&mut files)).await;
        assert!(history.artifacts.is_empty(), "none kept: {batch_cycles}");
        history.duration = std::time::Duration::ZERO;
        files.finish(&mut history).await.unwrap();
        let json = store.body("r/history.json").await;
        assert!(
            json == expected.0,
            "history.json differs at batches of {batch_cycles}"
        );
        assert_eq!(
            store.unzipped("r/digest.gz").await,
            expected.1,
            "{batch_cycles}"
        );
        let log = store.unzipped("r/history_outcomes.ndjson.gz").await;
        assert_eq!(
            log, expected.2,
            "compacted log at batches of {batch_cycles}"
        );
        assert_eq!(history.gap_count(), whole.gap_count());
        assert_eq!(history.n_head_requests, whole.n_head_requests);
    }
}

/// The compacted log's lines after its header, as `edit` leaves them, gzipped again.
fn edited_log(unzipped: &str, edit: impl FnOnce(&mut Vec<&str>)) -> Vec<u8> {
    use std::io::Write;
    let mut lines: Vec<&str> = unzipped.lines().collect();
    let header = lines.remove(0);
    edit(&mut lines);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    for line in std::iter::once(header).chain(lines) {
        writeln!(gz, "{line}").unwrap();
    }
    gz.finish().unwrap()
}

/// What a scan that reads `compacted` (the last scan's log) writes: `history.json`, the
/// digest and the compacted log unzipped, and the scan.
async fn scan_after<'r>(
    reg: &'r Registry,
    settings: &ScanSettings,
    compacted: Vec<u8>,
    now: DateTime<Utc>,
) -> ((Vec<u8>, String, String), History<'r>) {
    scan_after_passes(reg, settings, compacted, &[], now).await
}

/// As [`scan_after`], the passes' objects `passes` (key, gzipped body) beside the compacted log.
async fn scan_after_passes<'r>(
    reg: &'r Registry,
    settings: &ScanSettings,
    compacted: Vec<u8>,
    passes: &[(String, Vec<u8>)],
    now: DateTime<Utc>,
) -> ((Vec<u8>, String, String), History<'r>) {
    use super::files::HistoryFiles;
    let store = PartsStore::new(many_artifacts().1);
    let key = "r/history_outcomes.ndjson.gz";
    if !compacted.is_empty() {
        store.objects.insert("results", key, compacted, now);
    }
    for (key, body) in passes {
        store.objects.insert("results", key, body.clone(), now);
    }
    let mut files =
        HistoryFiles::new(&store, "results", "r/history.json", "r/digest.gz").with_part_bytes(4096);
    let mut history = scan_writing(&store, reg, settings, now, Some(&mut files)).await;
    history.duration = std::time::Duration::ZERO;
    history.phases = Default::default();
    files.finish(&mut history).await.unwrap();
    let written = (
        store.body("r/history.json").await,
        store.unzipped("r/digest.gz").await,
        store.unzipped(key).await,
    );
    (written, history)
}

/// Scan settings with the log at `s3://results/r/`, batches of 7 cycles and short lookbacks:
/// many batches over `many_artifacts`, so reading in step crosses batch ends.
fn small_batches_logged() -> ScanSettings {
    let mut settings = ScanSettings {
        log_location: Some(crate::settings::OutputLocation {
            bucket: "results".into(),
            prefix: "r/".into(),
        }),
        batch_cycles: 7,
        ..ScanSettings::default()
    };
    settings.lookback.set("weekday_sf".into(), 3);
    settings.lookback.set("weekly".into(), 2);
    settings
}

#[tokio::test]
async fn the_compacted_log_read_in_step_answers_as_the_whole_log_did() {
    let (reg, _) = many_artifacts();
    let settings = small_batches_logged();
    let first = at("2026-06-04T12:00:00Z");
    let (written, _) = scan_after(&reg, &settings, Vec::new(), first).await;
    let log = written.2;
    // A day later the log answers most cycles; the newest is not in it.
    let now = at("2026-06-05T12:00:00Z");
    let in_order = edited_log(&log, |_| {});
    let nothing_ahead = ScanSettings {
        log_read_ahead: 0,
        ..settings.clone()
    };
    let (expected, scan) = scan_after(&reg, &nothing_ahead, in_order, now).await;
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    assert!(scan.n_cycles_from_log > 1_000, "{}", scan.n_cycles_from_log);
    let in_order_probes = scan.probes_by_reason;

    // Reversed, every line is read ahead while looking for the first artifact: the whole
    // index, as before the in-step reading.
    let reversed = edited_log(&log, |lines| lines.reverse());
    let whole = ScanSettings {
        log_read_ahead: usize::MAX,
        ..settings.clone()
    };
    let (got, scan) = scan_after(&reg, &whole, reversed.clone(), now).await;
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    assert!(
        got.0 == expected.0,
        "history.json differs from the whole log's"
    );
    assert_eq!(got.1, expected.1, "digest");
    assert_eq!(got.2, expected.2, "compacted log");

    // Reversed past the read-ahead: what is not found is probed, and said.
    let (_, scan) = scan_after(&reg, &nothing_ahead, reversed, now).await;
    assert!(
        scan.probes_by_reason[0] > in_order_probes[0],
        "not_in_log {:?} against {:?}",
        scan.probes_by_reason,
        in_order_probes
    );
    let warnings = scan.warnings.join("\n");
    assert!(
        warnings.contains("line(s) of artifacts already judged"),
        "{warnings}"
    );

    // Lines missing (every tenth artifact's): those artifacts' cycles are probed, the rest
    // answered; no warning (a new artifact has no line either).
    let missing = edited_log(&log, |lines| {
        *lines = (lines.iter().enumerate())
            .filter(|(i, _)| i % 10 != 0)
            .map(|(_, l)| *l)
            .collect();
    });
    let (_, scan) = scan_after(&reg, &nothing_ahead, missing, now).await;
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    assert!(scan.probes_by_reason[0] > in_order_probes[0]);

    // Cut short: named, and the artifacts after the cut probed.
    let mut cut = edited_log(&log, |_| {});
    cut.truncate(cut.len() / 2);
    let (_, scan) = scan_after(&reg, &settings, cut, now).await;
    let warnings = scan.warnings.join("\n");
    assert!(warnings.contains("not a whole gzip stream"), "{warnings}");
    assert!(scan.probes_by_reason[0] > in_order_probes[0]);
}

/// The passes' records of `reg`'s planned cycles at `now` (each landed ten minutes after its
/// tick, or missing where `missing` says), in registry order, one object's lines per `object`
/// of `objects` (by cycle), as a pass writes them.
fn passes_lines(
    reg: &Registry,
    settings: &ScanSettings,
    now: DateTime<Utc>,
    objects: usize,
    missing: impl Fn(usize, usize) -> bool,
) -> Vec<Vec<String>> {
    use crate::ledger::LedgerTime;
    use crate::outcome_log::{KnownBy, Outcome, OutcomeRecord, SCHEMA_VERSION};
    let t = LedgerTime::saturating_from;
    let plan = super::plan::plan(reg, &[], &settings.lookback, now);
    let mut lines = vec![Vec::new(); objects];
    for (a, target) in plan.artifacts.iter().enumerate() {
        for c in 0..target.len {
            let cycle = target.cycle(c);
            let keys = crate::classify::ResolvedKeys::resolve(target.spec, cycle);
            let landed = (!missing(a, c)).then(|| cycle.tick + Duration::minutes(10));
            let record = OutcomeRecord {
                schema_version: SCHEMA_VERSION,
                artifact_id: target.spec.id.as_str().into(),
                cadence: target.spec.cadence.name().into(),
                cycle_label: cycle.label.as_str().into(),
                tick: t(cycle.tick),
                due_at: t(keys.due_at),
                expected: true,
                outcome: landed.map_or(Outcome::Missing, |_| Outcome::OnTime),
                landed_at: landed.map(t),
                on_time: landed.map(|_| true),
                minutes_late: landed.map(|_| 0),
                alerted: false,
                known_by: KnownBy::Pass,
                s3_bucket: target.spec.s3_bucket.as_ref().into(),
                s3_key: keys.canonical_key.as_str().into(),
                recorded_at: t(now - Duration::hours(1)),
                set_total: None,
                set_written: None,
            };
            lines[(a + c) % objects].push(record.to_line().into());
        }
    }
    lines
}

/// One passes' object: its key (a pass at `hour` of 2026-06-05) and its lines gzipped.
fn passes_object(hour: u32, lines: &[String]) -> (String, Vec<u8>) {
    let pass_at = at(&format!("2026-06-05T{hour:02}:00:00Z"));
    let key = crate::outcome_log::object_key("r/", pass_at, hour);
    let lines: Vec<Box<str>> = lines.iter().map(|l| l.as_str().into()).collect();
    (key, crate::outcome_log::write::gzip(&lines).unwrap())
}

#[tokio::test]
async fn the_passes_objects_merged_in_runs_answer_as_the_whole_index_did() {
    let (reg, _) = many_artifacts();
    let settings = small_batches_logged();
    let first = at("2026-06-04T12:00:00Z");
    let (written, _) = scan_after(&reg, &settings, Vec::new(), first).await;
    let compacted = edited_log(&written.2, |_| {});
    let now = at("2026-06-05T12:00:00Z");
    // Three passes' objects: the second's lines reversed, the third's rotated (not in
    // registry order); a fourth that repeats some cycles as missing (the landings win) and
    // one cut short (named, the records before the cut kept).
    let mut lines = passes_lines(&reg, &settings, now, 3, |_, _| false);
    lines[1].reverse();
    let half = lines[2].len() / 2;
    lines[2].rotate_left(half);
    let repeats = passes_lines(&reg, &settings, now, 2, |a, c| a % 4 == 0 || c == 1).remove(0);
    let mut cut = passes_object(9, &repeats[..repeats.len() / 2]);
    cut.1.truncate(cut.1.len() * 2 / 3);
    let passes = [
        passes_object(1, &lines[0]),
        passes_object(2, &lines[1]),
        passes_object(3, &lines[2]),
        passes_object(4, &repeats),
        cut,
    ];
    let whole = ScanSettings {
        log_run_records: 0,
        ..settings.clone()
    };
    let (expected, scan) = scan_after_passes(&reg, &whole, compacted.clone(), &passes, now).await;
    let warnings = scan.warnings.join("\n");
    assert_eq!(scan.warnings.len(), 1, "{warnings}");
    assert!(warnings.contains("not a whole gzip stream"), "{warnings}");
    let (_, without) = scan_after(&reg, &settings, compacted.clone(), now).await;
    assert!(
        scan.n_cycles_from_log > without.n_cycles_from_log,
        "the passes' records answer cycles: {} against {}",
        scan.n_cycles_from_log,
        without.n_cycles_from_log
    );
    for run_records in [1, 5, 1_000, RUN_RECORDS] {
        let runs = ScanSettings {
            log_run_records: run_records,
            ..settings.clone()
        };
        let (got, scan) = scan_after_passes(&reg, &runs, compacted.clone(), &passes, now).await;
        assert_eq!(scan.warnings.join("\n"), warnings, "runs of {run_records}");
        assert!(
            got.0 == expected.0,
            "history.json differs from the whole index's at runs of {run_records}"
        );
        assert_eq!(got.1, expected.1, "digest at runs of {run_records}");
        assert_eq!(got.2, expected.2, "compacted log at runs of {run_records}");
    }
}
