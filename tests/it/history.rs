//! The history scan (issue 12): the built binary as a Lambda receiving `{"mode":
//! "historical"}` against moto (directly, or through a proxy that fails chosen keys), and the
//! `history` command on a local store. Each test reads `history.json` back from the bucket.
//!
//! The scan judges the clock's now (the event carries no time), so the tests place their
//! objects relative to the clock: the holiday is the most recent NYSE closure before today,
//! and every object moto holds was written "now" (after any past cycle's due time, so past
//! cycles read as present but late).

use std::net::SocketAddr;
use std::time::Duration;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use serde_json::{Value, json};

use freshness_monitor::cadence::Cadence;
use freshness_monitor::calendar::TradingCalendar;
use freshness_monitor::history::cycles::{settled_at, walk_back};

use crate::support::aws::{create_bucket, get_json, keys_in, put, s3 as moto_client};
use crate::support::function::Function;
use crate::support::loopback::{Fault, FaultProxy};
use crate::support::results::REGISTRY_KEY;
use crate::support::{self, moto};

const HISTORY_KEY: &str = "_freshness_monitor/history.json";

fn moto_addr() -> SocketAddr {
    format!("127.0.0.1:{}", moto::shared().port)
        .parse()
        .unwrap()
}

fn is_weekday(date: NaiveDate) -> bool {
    !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// The most recent weekday before today on which the NYSE was closed.
fn last_holiday(today: NaiveDate) -> NaiveDate {
    let calendar = TradingCalendar::nyse([]);
    (1..400)
        .map(|back| today - Days::new(back))
        .find(|d| calendar.weekday_closure(*d).is_some())
        .expect("a closure within 400 days")
}

/// A registry of `artifacts` (YAML list items) in `bucket`, with one invalid entry.
fn registry(bucket: &str, artifacts: &str) -> String {
    format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: critical\n  \
         created_at: 2020-01-01\n  grace_period_cycles: 0\n  sla_minutes_after_cron: 60\n\
         artifacts:\n{artifacts}  - artifact_id: broken\n    s3_key_template: b.json\n    \
         cadence: weekday_sf\n    owner_repo: typos\n    sla_minute_after_cron: 5\n"
    )
}

fn cells(history: &Value, id: &str) -> Vec<Value> {
    history["artifacts"][id]["history"]
        .as_array()
        .unwrap_or_else(|| panic!("no history for {id}: {history:#}"))
        .clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lambda_scan_across_a_holiday_writes_history_json() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history");
    create_bucket(&s3, &bucket).await;
    let now = Utc::now();
    let today = now.date_naive();
    let holiday = last_holiday(today);
    // Enough weekday cycles to reach the weekday before the holiday, which is left missing.
    let weekdays_since = (0..=(today - holiday).num_days())
        .filter(|back| is_weekday(today - Days::new(*back as u64)))
        .count();
    let lookback = weekdays_since + 1;
    let gap = (1..10)
        .map(|back| holiday - Days::new(back))
        .find(|d| is_weekday(*d))
        .unwrap();
    let mut day = gap - Days::new(7);
    while day <= today {
        if is_weekday(day) && day != gap {
            put(
                &s3,
                &bucket,
                &format!("daily/{day}/report.json"),
                "{\"ok\":1}",
            )
            .await;
        }
        day = day + Days::new(1);
    }
    // `{cycle_label}`: the last three settled Saturdays, the oldest left missing.
    let weeks = walk_back(
        &Cadence::SaturdaySf,
        &TradingCalendar::nyse([]),
        settled_at(now, 60).unwrap(),
        3,
    );
    for week in &weeks[..2] {
        put(
            &s3,
            &bucket,
            &format!("weekly/{}/signals.json", week.label),
            "{}",
        )
        .await;
    }
    put(&s3, &bucket, "pointers/latest.json", "{}").await;
    let artifacts = "  - artifact_id: daily\n    s3_key_template: \"daily/{date}/report.json\"\n    \
         cadence: weekday_sf\n    owner_repo: team-a\n\
         \x20 - artifact_id: weekly\n    s3_key_template: \"weekly/{cycle_label}/signals.json\"\n    \
         cadence: saturday_sf\n    owner_repo: team-b\n\
         \x20 - artifact_id: latest\n    s3_key_template: pointers/latest.json\n    \
         cadence: weekday_sf\n    owner_repo: team-a\n";
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, artifacts)).await;
    let function = Function::start(&moto::shared().endpoint(), &[("REGISTRY_BUCKET", &bucket)]);

    let event =
        json!({"mode": "historical", "lookback": {"weekday_sf": lookback, "saturday_sf": 3}});
    let response = function.invoke(&event).response().clone();
    assert_eq!(response["mode"], "historical", "{response:#}");
    assert_eq!(response["n_artifacts"], 3);
    assert_eq!(response["skipped_unsupported"], 1, "the invalid entry");
    assert_eq!(response["truncated"], false);
    assert_eq!(response["n_not_scanned"], 0);
    assert_eq!(
        response["history_file"],
        format!("s3://{bucket}/{HISTORY_KEY}")
    );
    assert_eq!(
        response["gap_count"], 2,
        "one weekday, one week: {response:#}"
    );

    let history = get_json(&s3, &bucket, HISTORY_KEY)
        .await
        .expect("history.json written under the results prefix");
    assert_eq!(history["lookback"]["weekday_sf"], lookback);
    assert_eq!(history["lookback"]["saturday_sf"], 3);
    assert_eq!(history["n_artifacts"], 3);
    let daily = cells(&history, "daily");
    assert_eq!(daily.len(), lookback);
    let dates: Vec<&str> = daily.iter().map(|c| c["date"].as_str().unwrap()).collect();
    let of = |date: NaiveDate| {
        daily
            .iter()
            .find(|c| c["date"] == date.to_string())
            .unwrap_or_else(|| panic!("no cycle {date} in {dates:?}"))
    };
    let closed = of(holiday);
    assert_eq!(closed["expected"], false, "{closed}");
    assert_eq!(
        closed["present"], false,
        "the closed day is not probed (its key exists): {closed}"
    );
    assert!(
        closed["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("market closed on {holiday}: "))
    );
    assert_eq!(of(gap)["present"], false);
    assert_eq!(of(gap)["expected"], true);
    for cell in &daily {
        if cell["date"] != holiday.to_string() && cell["date"] != gap.to_string() {
            assert_eq!(cell["present"], true, "{cell}");
            assert_eq!(cell["size"], 8, "the HEAD's Content-Length: {cell}");
            assert!(cell["last_modified"].is_string());
        }
    }
    assert_eq!(history["artifacts"]["daily"]["gap_count"], 1);
    let sla = &history["sla"]["artifacts"]["daily"];
    assert_eq!(sla["expected"], lookback - 1, "the holiday is not expected");
    assert_eq!(sla["missing"], 1);

    let weekly = cells(&history, "weekly");
    let labels: Vec<&str> = weekly
        .iter()
        .map(|c| c["cycle_label"].as_str().unwrap())
        .collect();
    let expected_labels: Vec<&str> = weeks.iter().map(|w| w.label.as_str()).collect();
    assert_eq!(labels, expected_labels);
    assert_eq!(weekly[0]["present"], true);
    assert_eq!(weekly[1]["present"], true);
    assert_eq!(weekly[2]["present"], false);

    let latest = &history["artifacts"]["latest"];
    assert_eq!(latest["is_latest_pointer"], true);
    assert_eq!(latest["lookback_cycles"], 1);
    assert_eq!(latest["history"][0]["present"], true);
    assert_eq!(
        history["n_head_requests"],
        (lookback - 1) + 3 + 1,
        "every expected daily cycle, three weeks, the pointer once"
    );
    assert_eq!(history["sla"]["owners"]["team-a"]["expected"], lookback);
    assert!(
        !keys_in(&s3, &bucket)
            .await
            .contains(&"_freshness_monitor/heartbeat.json".to_string()),
        "the scan leaves the pass's heartbeat alone"
    );
    let lines = function.log_lines("history scan complete");
    assert_eq!(lines.len(), 1, "{}", function.all_logs());
    assert_eq!(lines[0]["gap_count"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lambda_a_failed_probe_is_that_cycles_error_code() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history-faults");
    create_bucket(&s3, &bucket).await;
    let artifacts = "  - artifact_id: flaky\n    s3_key_template: \"flaky/{cycle_label}.json\"\n    \
         cadence: saturday_sf\n    owner_repo: team\n\
         \x20 - artifact_id: denied\n    s3_key_template: \"denied/{cycle_label}.json\"\n    \
         cadence: saturday_sf\n    owner_repo: team\n";
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, artifacts)).await;
    let newest = walk_back(
        &Cadence::SaturdaySf,
        &TradingCalendar::nyse([]),
        settled_at(Utc::now(), 60).unwrap(),
        1,
    )[0]
    .label
    .clone();
    let failing = format!("/flaky/{newest}.json");
    let proxy = FaultProxy::start(moto_addr(), move |request| {
        if request.target.contains(&failing) {
            Fault::s3_error(500, "Internal Server Error", "InternalError", "boom")
        } else if request.target.contains("/denied/") {
            Fault::s3_error(403, "Forbidden", "AccessDenied", "Access Denied")
        } else {
            Fault::Forward
        }
    });
    let function = Function::start(&proxy.endpoint(), &[("REGISTRY_BUCKET", &bucket)]);

    let event = json!({"mode": "historical", "lookback": {"saturday_sf": 2}});
    let response = function.invoke(&event).response().clone();
    assert_eq!(
        response["sla"],
        json!({"expected": 4, "on_time": 0, "late": 0, "missing": 3, "unknown": 1, "hit_rate": 0.0}),
        "{response:#}"
    );
    let history = get_json(&s3, &bucket, HISTORY_KEY).await.unwrap();
    let flaky = cells(&history, "flaky");
    assert_eq!(flaky[0]["cycle_label"], newest);
    assert_eq!(flaky[0]["error_code"], "500");
    assert_eq!(
        flaky[0]["error"],
        "S3 server error (HTTP 500) after retries"
    );
    assert_eq!(flaky[0]["present"], false);
    assert!(flaky[1].get("error_code").is_none(), "{}", flaky[1]);
    assert_eq!(
        history["artifacts"]["flaky"]["gap_count"], 1,
        "an error is no gap"
    );
    for cell in cells(&history, "denied") {
        assert_eq!(cell["present"], false, "403 reads as not present: {cell}");
        assert!(cell.get("error_code").is_none(), "{cell}");
    }
    assert_eq!(history["artifacts"]["denied"]["gap_count"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lambda_invalid_history_events_are_rejected_naming_the_field() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history-events");
    create_bucket(&s3, &bucket).await;
    let artifacts = "  - artifact_id: daily\n    s3_key_template: \"d/{date}.json\"\n    \
         cadence: weekday_sf\n    owner_repo: team\n";
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, artifacts)).await;
    let function = Function::start(&moto::shared().endpoint(), &[("REGISTRY_BUCKET", &bucket)]);

    let range = "must be a whole number of cycles from 1 to 1000";
    let cases = [
        (
            json!({"mode": "historical", "lookback": {"weekday_sf": 2.5}}),
            format!("\"lookback\".\"weekday_sf\" {range}, got a number 2.5"),
        ),
        (
            json!({"mode": "historical", "lookback": {"weekday_sf": 5000}}),
            format!("\"lookback\".\"weekday_sf\" {range}, got 5000"),
        ),
        (
            json!({"mode": "historical", "lookback": {"weekdy_sf": 5}}),
            "\"lookback\" names cadences the registry does not have: \"weekdy_sf\" (did you \
             mean \"weekday_sf\"?); known cadences: saturday_sf, weekday_sf, eod_sf, continuous"
                .to_string(),
        ),
        (
            json!({"mode": "history"}),
            "\"mode\" \"history\" is not a mode; the modes are \"historical\" (the history \
             scan) and \"deadline\" (the deadline schedule's pass)"
                .to_string(),
        ),
        (
            json!({"mode": "historical", "only": ["daily", "nope"]}),
            "\"only\" names artifact ids the registry does not have: nope".to_string(),
        ),
    ];
    for (event, problem) in cases {
        let (error_type, message) = function.invoke(&event).error();
        assert_eq!(error_type, "FreshnessMonitor.InvalidEvent", "{event}");
        assert!(
            message.starts_with(&format!("unsupported event: {problem}")),
            "{event}: {message}"
        );
        assert!(message.contains("{\"mode\": \"historical\"}"), "{message}");
    }
    assert_eq!(
        keys_in(&s3, &bucket).await,
        [REGISTRY_KEY],
        "a rejected event writes nothing"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_lambda_near_its_deadline_writes_what_it_has_truncated() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history-deadline");
    create_bucket(&s3, &bucket).await;
    let artifacts = "  - artifact_id: a\n    s3_key_template: \"a/{date}.json\"\n    \
         cadence: weekday_sf\n    owner_repo: team\n\
         \x20 - artifact_id: b\n    s3_key_template: \"b/{date}.json\"\n    \
         cadence: eod_sf\n    owner_repo: team\n";
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, artifacts)).await;
    let function = Function::start(
        &moto::shared().endpoint(),
        &[("REGISTRY_BUCKET", &bucket), ("PROBE_TIMEOUT_SECONDS", "2")],
    );

    // Less than the write reserve: no probe may start.
    let id = function.api.invoke(
        json!({"mode": "historical"}).to_string(),
        Duration::from_secs(10),
    );
    let response = function.api.wait(&id).response().clone();
    assert_eq!(response["truncated"], true, "{response:#}");
    assert_eq!(response["n_not_scanned"], 2);
    assert_eq!(response["n_head_requests"], 0);
    let history = get_json(&s3, &bucket, HISTORY_KEY)
        .await
        .expect("written before the deadline");
    assert_eq!(history["truncated"], true);
    assert_eq!(history["not_scanned"], json!(["a", "b"]));
    assert_eq!(history["artifacts"], json!({}));
}

#[test]
fn history_cli_prints_the_sla_table_and_the_gaps_from_a_local_store() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store");
    let put_file = |key: &str, at: &str| {
        let path = store.join("bucket").join(key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{}").unwrap();
        let at: DateTime<Utc> = at.parse().unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_modified(at.into()).unwrap();
    };
    put_file("d/2026-07-02.json", "2026-07-02T13:30:00Z");
    put_file("d/2026-07-06.json", "2026-07-06T16:30:00Z");
    let artifacts = "  - artifact_id: daily\n    s3_key_template: \"d/{date}.json\"\n    \
         cadence: weekday_sf\n    owner_repo: team\n";
    std::fs::write(dir.path().join("r.yaml"), registry("bucket", artifacts)).unwrap();
    let history = |extra: &[&str]| {
        let mut args = vec![
            "history",
            "--registry",
            "r.yaml",
            "--store",
            "store",
            "--now",
            "2026-07-07T15:00:00Z",
        ];
        args.extend_from_slice(extra);
        support::run_in(dir.path(), &args)
    };

    let out = history(&["--lookback", "weekday_sf=5"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let text = support::stdout(&out);
    assert!(
        text.contains("ARTIFACT  OWNER  CADENCE     CYCLES  EXPECTED  ON TIME  LATE  MISSING  UNKNOWN  HIT RATE"),
        "{text}"
    );
    // 07-07 missing, 07-06 late, 07-03 closed, 07-02 on time, 07-01 missing.
    assert!(
        text.contains(
            "daily     team   weekday_sf  5       4         1        1     2        0        25.0%"
        ),
        "{text}"
    );
    assert!(text.contains("  daily: 2026-07-07, 2026-07-01\n"), "{text}");
    assert!(text.contains("1 entries skipped"), "{text}");

    let out = history(&["--lookback", "weekday_sf=5", "--json"]);
    let file: Value = serde_json::from_str(&support::stdout(&out)).unwrap();
    assert_eq!(file["artifacts"]["daily"]["history"][2]["expected"], false);
    assert_eq!(
        file["artifacts"]["daily"]["history"][1]["minutes_late"],
        150
    );

    let out = history(&["--lookback", "weekdays=5"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out)
            .contains("--lookback names cadences the registry does not have: weekdays"),
        "{}",
        support::stderr(&out)
    );
    let out = history(&["--lookback", "weekday_sf=0"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
    assert!(
        support::stderr(&out)
            .contains("must be a whole number of cycles from 1 to 1000, got \"0\""),
        "{}",
        support::stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn history_cli_run_historical_writes_history_json_like_the_lambda() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history-run");
    create_bucket(&s3, &bucket).await;
    let artifacts = "  - artifact_id: weekly\n    s3_key_template: \"w/{cycle_label}.json\"\n    \
         cadence: saturday_sf\n    owner_repo: team\n";
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, artifacts)).await;
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = support::command_in(dir.path());
        for (name, value) in moto::shared().env() {
            cmd.env(name, value);
        }
        cmd.env("REGISTRY_BUCKET", &bucket)
            .env("RESULTS_PREFIX", "monitor")
            .args(args)
            .output()
            .expect("run freshness-monitor")
    };

    let out = run(&["run", "--historical", "--lookback", "saturday_sf=2"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let response: Value = serde_json::from_str(&support::stdout(&out)).unwrap();
    assert_eq!(response["mode"], "historical");
    assert_eq!(
        response["history_file"],
        format!("s3://{bucket}/monitor/history.json")
    );
    let history = get_json(&s3, &bucket, "monitor/history.json")
        .await
        .expect("written under RESULTS_PREFIX");
    assert_eq!(history["artifacts"]["weekly"]["lookback_cycles"], 2);
    assert_eq!(history["artifacts"]["weekly"]["gap_count"], 2);
    assert!(
        support::stderr(&out).contains("\"message\":\"history scan complete\""),
        "{}",
        support::stderr(&out)
    );

    let out = run(&["run", "--historical", "--lookback", "sunday_sf=2"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains("\"lookback\" names cadences the registry does not have"),
        "{}",
        support::stderr(&out)
    );
    let out = run(&["run", "--only", "weekly"]);
    assert_eq!(out.status.code(), Some(2), "--only needs --historical");
}

/// Issue 24: the cycles a scan probes go through the pass's listing planner. Fifteen weekly
/// artifacts write under one directory a week: each week's fifteen keys are one LIST page
/// on moto, not fifteen HEADs, and the listing answers present and absent keys as HEADs would.
#[tokio::test(flavor = "multi_thread")]
async fn history_lambda_lists_a_directory_of_probed_cycles_instead_of_heading_each_key() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("history-listed");
    create_bucket(&s3, &bucket).await;
    let calendar = TradingCalendar::nyse([]);
    let start = settled_at(Utc::now(), 60).unwrap();
    let weeks = walk_back(&Cadence::SaturdaySf, &calendar, start, 2);
    let mut artifacts = String::new();
    for i in 0..15 {
        artifacts.push_str(&format!(
            "  - artifact_id: w{i:02}\n    s3_key_template: \"weekly/{{cycle_label}}/w{i:02}.json\"\n    \
             cadence: saturday_sf\n    owner_repo: team\n"
        ));
    }
    // The newest week: all but w14; the week before: none.
    for i in 0..14 {
        let key = format!("weekly/{}/w{i:02}.json", weeks[0].label);
        put(&s3, &bucket, &key, "{}").await;
    }
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket, &artifacts)).await;
    let function = Function::start(&moto::shared().endpoint(), &[("REGISTRY_BUCKET", &bucket)]);

    let event = json!({"mode": "historical", "lookback": {"saturday_sf": 2}});
    let response = function.invoke(&event).response().clone();
    assert_eq!(response["n_cycles_probed"], 30, "{response:#}");
    assert_eq!(
        (&response["n_list_requests"], &response["n_head_requests"]),
        (&json!(2), &json!(0)),
        "one page a week: {response:#}"
    );
    assert_eq!(
        response["gap_count"], 16,
        "w14's newest week and all of the week before"
    );
    let history = get_json(&s3, &bucket, HISTORY_KEY).await.unwrap();
    let newest = |id: &str| cells(&history, id)[0].clone();
    assert_eq!(newest("w00")["present"], true);
    assert_eq!(
        newest("w00")["size"],
        2,
        "the listing's Size: {}",
        newest("w00")
    );
    assert_eq!(newest("w14")["present"], false);
}
