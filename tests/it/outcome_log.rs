//! The outcome log (issue 24): the built binary as a Lambda on moto closes a cycle, writes its
//! records under `outcomes/`, and an analyst reads them back with DuckDB's `read_json` after
//! downloading them with the AWS CLI; a pass that cannot write them keeps them in the ledger
//! and the next writes them; the history scan answers from the log what the passes saw land,
//! probes the rest, and names an unreadable log object in its warnings.
//!
//! Passes are scheduled events at chosen times; the objects are written "now" (moto sets
//! LastModified), so a cycle the passes saw land reads as late. The history scan judges the
//! clock's now, so the passes' days are the last two NYSE sessions before today.

use std::path::Path;
use std::process::Command;

use chrono::{Days, NaiveDate, Utc};
use serde_json::{Value, json};

use freshness_monitor::calendar::TradingCalendar;
use freshness_monitor::history::from_log::recheck_due;

use crate::support::aws::{create_bucket, get_json, keys_in, put, s3 as moto_client};
use crate::support::function::Function;
use crate::support::loopback::{Fault, FaultProxy};
use crate::support::results::REGISTRY_KEY;
use crate::support::{self, moto};

const LEDGER_KEY: &str = "_freshness_monitor/ledger.json";
const HISTORY_KEY: &str = "_freshness_monitor/history.json";
const LOG_DIR: &str = "_freshness_monitor/outcomes/";

/// The schema of docs/outputs.md#the-outcome-log, in order, then DuckDB's `filename` and
/// partition columns.
const COLUMNS: [&str; 20] = [
    "schema_version",
    "artifact_id",
    "cadence",
    "cycle_label",
    "tick",
    "due_at",
    "expected",
    "outcome",
    "landed_at",
    "on_time",
    "minutes_late",
    "alerted",
    "known_by",
    "s3_bucket",
    "s3_key",
    "recorded_at",
    "set_total",
    "set_written",
    "filename",
    "date",
];

/// The last two NYSE sessions (weekdays the market was open) before today, oldest first.
fn last_two_sessions() -> (NaiveDate, NaiveDate) {
    let calendar = TradingCalendar::nyse([]);
    let today = Utc::now().date_naive();
    let mut sessions = (1..30).map(|back| today - Days::new(back)).filter(|d| {
        use chrono::Datelike;
        !matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun)
            && calendar.weekday_closure(*d).is_none()
    });
    let newer = sessions.next().unwrap();
    (sessions.next().unwrap(), newer)
}

fn registry(bucket: &str) -> String {
    format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: critical\n  \
         created_at: 2020-01-01\n  grace_period_cycles: 0\n  sla_minutes_after_cron: 60\n  \
         cadence: weekday_sf\n  owner_repo: team\nartifacts:\n\
         \x20 - artifact_id: landed\n    s3_key_template: \"landed/{{date}}.json\"\n\
         \x20 - artifact_id: never\n    s3_key_template: \"never/{{date}}.json\"\n\
         \x20 - artifact_id: shards\n    s3_key_template: \"shards/{{date}}/{{partition}}.json\"\n    \
         partitions: [a, b, c]\n"
    )
}

/// Downloads the log with the AWS CLI, as an analyst would, into `dir`.
fn download_log(bucket: &str, dir: &Path) {
    let out = Command::new("aws")
        .envs(moto::shared().env())
        .args(["s3", "cp", "--recursive", "--only-show-errors"])
        .arg(format!("s3://{bucket}/{LOG_DIR}"))
        .arg(dir)
        .output()
        .expect("the AWS CLI (scripts/test.sh installs it)");
    assert!(out.status.success(), "{}", support::stderr(&out));
}

/// `SELECT * … ORDER BY artifact_id` over the downloaded log with DuckDB's `read_json`:
/// (columns, rows as JSON objects).
fn duckdb_read(dir: &Path) -> (Vec<String>, Vec<Value>) {
    let script = r#"
import duckdb, json, sys
rel = duckdb.sql(f"SELECT * FROM read_json('{sys.argv[1]}/**/*.ndjson.gz', hive_partitioning = true, filename = true) ORDER BY artifact_id")
cols = rel.columns
print(json.dumps({"columns": cols, "rows": [dict(zip(cols, r)) for r in rel.fetchall()]}, default=str))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "python3 with duckdb (scripts/test.sh installs it): {}",
        support::stderr(&out)
    );
    let read: Value = serde_json::from_slice(&out.stdout).unwrap();
    let columns = read["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    (columns, read["rows"].as_array().unwrap().clone())
}

/// The cycle of `artifact` labelled `day` in a history.json.
fn cycle_of(history: &Value, artifact: &str, day: NaiveDate) -> Value {
    let cycles = history["artifacts"][artifact]["history"]
        .as_array()
        .unwrap();
    let label = day.to_string();
    let cycle = cycles.iter().find(|c| c["cycle_label"] == label.as_str());
    cycle
        .unwrap_or_else(|| panic!("{artifact} has no cycle {label}"))
        .clone()
}

async fn log_keys(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    keys_in(s3, bucket)
        .await
        .into_iter()
        .filter(|k| k.starts_with(LOG_DIR))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn outcome_log_is_written_when_a_cycle_closes_kept_when_it_cannot_be_and_read_by_duckdb() {
    let s3 = moto_client().await;
    let bucket = moto::unique_bucket("outlog");
    create_bucket(&s3, &bucket).await;
    put(&s3, &bucket, REGISTRY_KEY, &registry(&bucket)).await;
    let (d1, d2) = last_two_sessions();
    put(&s3, &bucket, &format!("landed/{d1}.json"), "{}").await;
    // The set's D1 is partial: 2 of its 3 keys.
    for value in ["a", "b"] {
        put(&s3, &bucket, &format!("shards/{d1}/{value}.json"), "{}").await;
    }
    let moto_addr = format!("127.0.0.1:{}", moto::shared().port)
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(moto_addr, |request| {
        if request.method == "PUT" && request.target.contains("/outcomes/") {
            Fault::s3_error(403, "Forbidden", "AccessDenied", "Access Denied")
        } else {
            Fault::Forward
        }
    });
    let env = [("REGISTRY_BUCKET", bucket.as_str())];
    let direct = Function::start(&moto::shared().endpoint(), &env);
    let denied = Function::start(&proxy.endpoint(), &env);

    // D1: judged, nothing closed yet (a first pass has no cycle to close).
    direct.pass(format!("{d1}T15:00:00Z")).response();
    assert!(log_keys(&s3, &bucket).await.is_empty(), "nothing closed");
    // D2, with the log's PUT denied: D1 closes, its records stay in the ledger.
    denied.pass(format!("{d2}T15:00:00Z")).response();
    assert!(
        log_keys(&s3, &bucket).await.is_empty(),
        "the PUT was denied"
    );
    let ledger = get_json(&s3, &bucket, LEDGER_KEY).await.unwrap();
    let kept = ledger["unrecorded_outcomes"].as_array().expect("kept");
    assert_eq!(kept.len(), 3, "{ledger:#}");
    // The next pass (same cycle: closes nothing itself) writes them, and the ledger lets go.
    direct.pass(format!("{d2}T15:15:00Z")).response();
    let keys = log_keys(&s3, &bucket).await;
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with(&format!("{LOG_DIR}date={d2}/")) && keys[0].ends_with(".ndjson.gz"),
        "partitioned by the writing pass's day: {keys:?}"
    );
    let ledger = get_json(&s3, &bucket, LEDGER_KEY).await.unwrap();
    assert!(ledger.get("unrecorded_outcomes").is_none(), "{ledger:#}");

    let dir = tempfile::tempdir().unwrap();
    download_log(&bucket, dir.path());
    let (columns, rows) = duckdb_read(dir.path());
    assert_eq!(columns, COLUMNS, "the documented schema, in order");
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let (landed, never, shards) = (&rows[0], &rows[1], &rows[2]);
    for row in [landed, never, shards] {
        assert_eq!(row["schema_version"], 1);
        assert_eq!(row["cycle_label"], d1.to_string());
        assert_eq!(row["cadence"], "weekday_sf");
        assert_eq!(row["expected"], true);
        assert_eq!(row["date"], d2.to_string(), "the partition column");
        assert!(
            row["due_at"]
                .as_str()
                .unwrap()
                .starts_with(&format!("{d1} 14:00:00")),
            "{row}"
        );
    }
    assert_eq!(landed["artifact_id"], "landed");
    assert_eq!(
        landed["outcome"], "late",
        "moto's LastModified is now: {landed}"
    );
    assert_eq!(landed["on_time"], false);
    assert!(landed["minutes_late"].as_i64().unwrap() > 0);
    assert!(!landed["landed_at"].is_null());
    assert_eq!(landed["s3_key"], format!("landed/{d1}.json"));
    assert_eq!(never["outcome"], "missing");
    assert!(
        never["landed_at"].is_null() && never["on_time"].is_null(),
        "{never}"
    );
    assert_eq!(never["known_by"], "pass");
    assert!(
        never["set_total"].is_null() && never["set_written"].is_null(),
        "not a set: {never}"
    );
    assert_eq!(
        (
            &shards["outcome"],
            &shards["set_total"],
            &shards["set_written"]
        ),
        (&json!("missing"), &json!(3), &json!(2)),
        "a partial set's cycle, counted: {shards}"
    );

    // The history answers `landed`'s D1 and `never`'s D1 (a gap, not yet due for a recheck)
    // from the log, probes the cycles before it, and names a log object it cannot read
    // without failing.
    let corrupt = format!("{LOG_DIR}date={d2}/zz-corrupt.ndjson.gz");
    put(&s3, &bucket, &corrupt, "not gzip at all").await;
    let event = json!({"mode": "historical", "lookback": {"weekday_sf": 10}});
    // `never`'s D1 was recorded missing by the pass at D2 15:00: the scan answers it from the
    // log as a gap until its first recheck, a day after that look, then probes it once. The
    // scan runs at the clock's now, so which of the two it is depends on the time of day.
    let looked = format!("{d2}T15:00:00Z").parse().unwrap();
    let due = format!("{d1}T14:00:00Z").parse().unwrap();
    let rechecked = u64::from(recheck_due(looked, due, Utc::now()));
    let response = direct.invoke(&event).response().clone();
    assert_eq!(
        response["n_cycles_from_log"],
        6 - 2 * rechecked,
        "landed's D1, never's and shards' D1 as gaps unless their recheck is due, and the three \
         D2s, not closed yet, from the ledger's current cycle: {response:#}"
    );
    assert_eq!(
        response["probes_by_reason"]["recorded_missing"],
        2 * rechecked
    );
    // The three artifacts share the cadence, so a third of the cycles not in the log are
    // shards'; those and its D1 when rechecked are one LIST each (the other two artifacts'
    // keys are too few a directory for a listing).
    let not_in_log = response["probes_by_reason"]["not_in_log"].as_u64().unwrap();
    assert_eq!(
        response["n_list_requests"],
        not_in_log / 3 + rechecked,
        "{response:#}"
    );
    assert_eq!(response["warnings"], 1, "{response:#}");
    let history = get_json(&s3, &bucket, HISTORY_KEY).await.unwrap();
    let warning = history["warnings"][0].as_str().unwrap();
    assert!(warning.contains(&corrupt), "{warning}");
    let cell = cycle_of(&history, "landed", d1);
    assert_eq!(cell["present"], true, "{cell}");
    assert_eq!(cell["size"], Value::Null, "the log has no size: not probed");
    assert_eq!(cell["on_time"], false);
    let probed: u64 = history["probes_by_reason"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(history["n_cycles_probed"], probed, "{history:#}");
    let never = cycle_of(&history, "never", d1);
    assert_eq!(never["present"], false, "{never}");
    let shards = cycle_of(&history, "shards", d1);
    assert_eq!(
        shards["set"],
        json!({"total": 3, "written": 2, "fraction": 0.6667, "complete": false}),
        "from the log, or the scan's own listing when its recheck was due: {shards}"
    );
    assert_eq!(shards["present"], false, "partial, no min_complete: a gap");

    // The scan left its compacted log: the next scan reads it and the one object it has
    // not read, and probes nothing the first one learned.
    let again = direct.invoke(&event).response().clone();
    assert_eq!(again["n_head_requests"], 0, "{again:#}");
    assert_eq!(
        again["n_list_requests"], 0,
        "no set cycle listed again: {again:#}"
    );
    assert_eq!(again["n_cycles_probed"], 0, "{again:#}");
    assert_eq!(again["gap_count"], response["gap_count"], "{again:#}");
    assert_eq!(again["sla"], response["sla"], "the same answer: {again:#}");
    assert_eq!(
        again["n_log_requests"], 4,
        "the compacted log's GET and PUT, the ledger's GET, one LIST; no passes' object is \
         new: {again:#}"
    );
    // The set's counts came back from the compacted log, not from a listing.
    let history = get_json(&s3, &bucket, HISTORY_KEY).await.unwrap();
    let shards_again = cycle_of(&history, "shards", d1);
    assert_eq!(shards_again["set"], shards["set"], "{shards_again}");
}
