//! The handler in-process, as the runtime's examples test theirs: [`handle`] called with a
//! `LambdaEvent` against a container over the in-memory store, no binary, no Runtime API, no
//! moto (the end-to-end tests through the binary are `tests/it/lambda.rs`).

use chrono::{DateTime, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::container::Container;
use super::handler::handle;
use crate::alert::{Alerter, StdoutChannel};
use crate::settings::{DEFAULT_REGISTRY_KEY, Settings};
use crate::store::memory::MemoryStore;

mod awaiting_event;

const BUCKET: &str = "data-bucket";
/// Where the outputs go by default (`RESULTS_PREFIX`).
const RESULTS: &str = "_freshness_monitor/";

/// Three hourly artifacts, each at a fixed key: fresh, stale and missing at [`now`] (the last
/// two critical, so the cycle is incomplete).
const REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: data-bucket
  cadence: continuous
  interval_minutes: 60
  sla_minutes_after_cron: 0
  severity: warning
  owner_repo: producer
  created_at: 2026-01-01
artifacts:
  - artifact_id: fresh_feed
    s3_key_template: feeds/fresh.json
  - artifact_id: stale_feed
    s3_key_template: feeds/stale.json
    severity: critical
  - artifact_id: missing_feed
    s3_key_template: feeds/missing.json
    severity: critical
";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// The pass's moment: half an hour after the 12:00 tick.
fn now() -> DateTime<Utc> {
    t("2026-06-03T12:30:00Z")
}

/// The bucket with the registry (unless `registry` is `None`) and the artifacts' objects.
fn store(registry: Option<&str>) -> MemoryStore {
    let store = MemoryStore::new();
    store.create_bucket(BUCKET);
    if let Some(yaml) = registry {
        store.insert(
            BUCKET,
            DEFAULT_REGISTRY_KEY,
            yaml,
            t("2026-06-01T00:00:00Z"),
        );
    }
    store.insert(BUCKET, "feeds/fresh.json", "{}", t("2026-06-03T12:10:00Z"));
    store.insert(BUCKET, "feeds/stale.json", "{}", t("2026-06-03T10:00:00Z"));
    store
}

/// A container over `store` with the env `vars` (REGISTRY_BUCKET set) and a stdout channel.
fn container(store: MemoryStore, vars: &[(&str, &str)]) -> Container<MemoryStore> {
    let settings = Settings::from_lookup(|name| {
        let given = vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v);
        match name {
            "REGISTRY_BUCKET" => Some(BUCKET.to_string()),
            _ => given.map(|v| v.to_string()),
        }
    });
    let alerter = settings.as_ref().ok().map(|s| {
        let channels: Vec<Box<dyn crate::alert::AlertChannel>> = vec![Box::new(StdoutChannel)];
        Alerter::new(channels, s.dedup_bucket(), s.dedup_prefix.clone())
    });
    Container::new(settings, store, alerter)
}

/// An invocation as the runtime hands it over, with a minute to its deadline.
/// The runtime hands the handler the payload unparsed, as the Runtime API sent it.
fn event(payload: Value) -> LambdaEvent<Box<RawValue>> {
    let mut context = Context::default();
    context.request_id = "in-process".to_string();
    let deadline = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
    let since_epoch = deadline.duration_since(std::time::UNIX_EPOCH).unwrap();
    context.deadline = since_epoch.as_millis() as u64;
    let raw = RawValue::from_string(payload.to_string()).unwrap();
    LambdaEvent::new(raw, context)
}

fn scheduled(time: DateTime<Utc>) -> Value {
    json!({
        "version": "0",
        "id": "89a1c2f0-3b5e-4f47-9c1e-0c4f4d0f6a1b",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": crate::text::rfc3339(time),
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/freshness-monitor-every-15m"],
        "detail": {}
    })
}

/// An output file as JSON.
fn output(container: &Container<MemoryStore>, name: &str) -> Option<Value> {
    let body = container.store.body(BUCKET, &format!("{RESULTS}{name}"))?;
    Some(serde_json::from_slice(&body).expect("an output is JSON"))
}

fn state_of<'a>(results: &'a Value, id: &str) -> &'a Value {
    let rows = results["results"].as_array().expect("rows");
    let row = rows.iter().find(|r| r["artifact_id"] == id);
    &row.unwrap_or_else(|| panic!("no row {id} in {results:#}"))["state"]
}

#[tokio::test]
async fn a_scheduled_event_pass_writes_its_outputs_into_the_store() {
    let container = container(store(Some(REGISTRY)), &[]);
    let response = handle(&container, event(scheduled(now()))).await.unwrap();

    let counts = json!({"fresh": 1, "stale": 1, "missing": 1, "probe_failed": 0, "grace_period": 0, "suspect": 0});
    assert_eq!(response["counts"], counts, "{response:#}");
    assert_eq!(response["n_entries_checked"], 3);
    assert_eq!(response["alerts_enabled"], false, "observe mode by default");
    assert_eq!(response["would_alert"], 2);
    assert_eq!(response["alerted"], 0);
    assert_eq!(
        response["cycle_verdicts"],
        json!({"continuous": "incomplete"})
    );
    assert!(
        response.get("results").is_none(),
        "results only on dry runs"
    );

    let results = output(&container, "check_results.json").expect("check_results.json");
    assert_eq!(
        results["run_at"], "2026-06-03T12:30:00Z",
        "the event's time"
    );
    assert_eq!(state_of(&results, "fresh_feed"), "fresh");
    assert_eq!(state_of(&results, "stale_feed"), "stale");
    assert_eq!(state_of(&results, "missing_feed"), "missing");
    let heartbeat = output(&container, "heartbeat.json").expect("heartbeat.json");
    assert_eq!(heartbeat["last_run"], "2026-06-03T12:30:00Z");
    assert_eq!(heartbeat["registry_error"], Value::Null);
    let verdicts = output(&container, "cycle_verdict.json").expect("cycle_verdict.json");
    assert_eq!(
        verdicts["verdicts"][0]["state"], "incomplete",
        "{verdicts:#}"
    );
    assert_eq!(verdicts["verdicts"][0]["missing"], json!(["missing_feed"]));
    let page = container
        .store
        .body(BUCKET, &format!("{RESULTS}status.html"));
    let page = String::from_utf8(page.expect("status.html")).unwrap();
    assert!(page.contains("missing_feed"), "the page names the rows");
    assert!(
        output(&container, "ledger.json").is_some(),
        "the ledger is kept"
    );
    // Observe mode claims no dedup marker.
    let markers = container.store.keys(BUCKET);
    assert!(
        !markers.iter().any(|k| k.starts_with("_alerts/")),
        "{markers:?}"
    );
}

#[tokio::test]
async fn with_alerts_on_the_pass_claims_its_markers_in_the_store_and_a_retry_is_deduplicated() {
    let vars = [("FRESHNESS_MONITOR_ENABLED", "true")];
    let container = container(store(Some(REGISTRY)), &vars);
    let first = handle(&container, event(scheduled(now()))).await.unwrap();
    assert_eq!(first["alerted"], 2, "both sent to stdout: {first:#}");
    let markers: Vec<String> = (container.store.keys(BUCKET).into_iter())
        .filter(|k| k.starts_with("_alerts/_dedup/"))
        .collect();
    assert_eq!(markers.len(), 2, "a marker per alerting row: {markers:?}");
    // EventBridge delivers the same event again: the same moment, nothing sent twice.
    let retry = handle(&container, event(scheduled(now()))).await.unwrap();
    assert_eq!(retry["alerted"], 0, "{retry:#}");
    assert_eq!(retry["deduplicated"], 2, "{retry:#}");
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_answers_with_the_results() {
    let container = container(store(Some(REGISTRY)), &[]);
    let before = container.store.keys(BUCKET);
    let payload = json!({"dry_run": true, "now": "2026-06-03T12:30:00Z", "only": ["stale_feed"]});
    let response = handle(&container, event(payload)).await.unwrap();
    assert_eq!(container.store.keys(BUCKET), before, "nothing written");
    assert_eq!(response["dry_run"], true);
    assert_eq!(response["n_entries_checked"], 1);
    assert_eq!(state_of(&response, "stale_feed"), "stale");
}

#[tokio::test]
async fn an_invalid_event_is_freshness_monitor_invalid_event_and_writes_nothing() {
    let container = container(store(Some(REGISTRY)), &[]);
    let before = container.store.keys(BUCKET);
    let err = handle(&container, event(json!({"dryrun": true})))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.InvalidEvent");
    let message = err.to_string();
    assert!(message.contains("dry_run"), "says what it meant: {message}");
    assert_eq!(container.store.keys(BUCKET), before, "nothing written");
}

#[tokio::test]
async fn a_missing_registry_fails_the_invocation_and_the_heartbeat_says_why() {
    let container = container(store(None), &[]);
    let err = handle(&container, event(scheduled(now())))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.RegistryError");
    let expected = format!(
        "registry s3://{BUCKET}/{DEFAULT_REGISTRY_KEY} not found: upload it there or set \
         REGISTRY_KEY"
    );
    assert_eq!(err.to_string(), expected);
    let heartbeat = output(&container, "heartbeat.json").expect("heartbeat.json");
    assert_eq!(heartbeat["registry_error"], expected.as_str());
    assert_eq!(heartbeat["last_run"], "2026-06-03T12:30:00Z");
    for kept in ["check_results.json", "cycle_verdict.json", "status.html"] {
        let key = format!("{RESULTS}{kept}");
        assert!(container.store.body(BUCKET, &key).is_none(), "{kept}");
    }
}

#[tokio::test]
async fn invalid_settings_fail_every_invocation_with_the_variable_named() {
    let vars = [("PROBE_CONCURRENCY", "lots")];
    let container = container(store(Some(REGISTRY)), &vars);
    let err = handle(&container, event(scheduled(now())))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.InvalidConfiguration");
    assert!(err.to_string().contains("PROBE_CONCURRENCY"), "{err}");
}

#[tokio::test]
async fn a_results_bucket_that_does_not_exist_is_output_write_failed() {
    let vars = [("RESULTS_BUCKET", "no-such-bucket")];
    let container = container(store(Some(REGISTRY)), &vars);
    let err = handle(&container, event(scheduled(now())))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.OutputWriteFailed");
    let message = err.to_string();
    assert!(
        message.starts_with("writing the results to s3://no-such-bucket/_freshness_monitor/"),
        "{message}"
    );
    assert!(
        message.contains("bucket no-such-bucket does not exist"),
        "{message}"
    );
}

#[tokio::test]
async fn a_historical_event_writes_history_json_and_answers_with_its_summary() {
    let container = container(store(Some(REGISTRY)), &[]);
    let payload = json!({"mode": "historical", "only": ["fresh_feed"]});
    let response = handle(&container, event(payload)).await.unwrap();
    assert_eq!(response["mode"], "historical", "{response:#}");
    assert_eq!(response["n_artifacts"], 1);
    let expected = format!("s3://{BUCKET}/{RESULTS}history.json");
    assert_eq!(response["history_file"], expected.as_str());
    let history = output(&container, "history.json").expect("history.json");
    assert!(history.is_object(), "{history:#}");
    assert!(
        output(&container, "heartbeat.json").is_none(),
        "the heartbeat is the pass's"
    );
}

/// `sla50`: hourly, at one key, due 50 minutes after each tick (alerting from :51).
const NOT_YET_DUE_REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: data-bucket
  severity: critical
  owner_repo: producer
  created_at: 2026-01-01
  grace_period_cycles: 0
artifacts:
  - artifact_id: sla50
    s3_key_template: feeds/sla50.json
    cadence: continuous
    interval_minutes: 60
    sla_minutes_after_cron: 50
";

/// The row of `artifact_id` in the `check_results.json` of a scheduled pass at `at`.
async fn row_after_pass(container: &Container<MemoryStore>, at: &str, artifact_id: &str) -> Value {
    handle(container, event(scheduled(t(at)))).await.unwrap();
    let results = output(container, "check_results.json").expect("check_results.json");
    let rows = results["results"].as_array().expect("rows");
    rows.iter()
        .find(|r| r["artifact_id"] == artifact_id)
        .unwrap()
        .clone()
}

#[tokio::test]
async fn with_object_events_on_a_pass_before_the_deadline_does_not_probe_what_this_cycle_found_missing()
 {
    let on = container(
        store(Some(NOT_YET_DUE_REGISTRY)),
        &[("OBJECT_EVENTS", "on")],
    );
    let off = container(store(Some(NOT_YET_DUE_REGISTRY)), &[]);
    for container in [&on, &off] {
        // No event from the bucket has reached the ledger: the cycle's first probe is made
        // (tests/awaiting_event.rs: once one has, it is not).
        let row = row_after_pass(container, "2026-06-03T12:15:00Z", "sla50").await;
        assert_eq!(row["state"], "missing", "the cycle's first probe: {row:#}");
        // It lands; its event is lost (none is sent here).
        (container.store).insert(BUCKET, "feeds/sla50.json", "{}", t("2026-06-03T12:20:00Z"));
    }

    // Events on: 12:30 keeps the 12:15 verdict without a probe, and says so.
    let row = row_after_pass(&on, "2026-06-03T12:30:00Z", "sla50").await;
    assert_eq!(
        (&row["state"], &row["last_probed_at"]),
        (&json!("missing"), &json!("2026-06-03T12:15:00Z")),
        "{row:#}"
    );
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.ends_with(
            "(missing when last probed at 2026-06-03T12:15:00Z; not yet due (alerts from \
             2026-06-03T12:51:00Z), object events report its landing, so this pass did not \
             probe it)"
        ),
        "{reason}"
    );
    // Events off: 12:30 probes and finds it.
    let row = row_after_pass(&off, "2026-06-03T12:30:00Z", "sla50").await;
    assert_eq!(row["state"], "fresh", "{row:#}");

    // Once it can alert, the pass probes again: the lost event cost only latency.
    let row = row_after_pass(&on, "2026-06-03T12:52:00Z", "sla50").await;
    assert_eq!(
        (&row["state"], &row["last_probed_at"]),
        (&json!("fresh"), &json!("2026-06-03T12:52:00Z")),
        "{row:#}"
    );
}

/// `daily`: one key a day, due at 06:00 (alerting from 06:01).
const OVERDUE_REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: data-bucket
  severity: critical
  owner_repo: producer
  created_at: 2026-01-01
  grace_period_cycles: 0
cadences:
  early: {cron: \"0 5 * * *\", timezone: UTC}
artifacts:
  - artifact_id: daily
    s3_key_template: \"daily/{date}.json\"
    cadence: early
    sla_minutes_after_cron: 60
";

#[tokio::test]
async fn with_object_events_on_an_alerting_artifact_is_probed_every_pass_for_an_hour_then_every_other()
 {
    let on = container(store(Some(OVERDUE_REGISTRY)), &[("OBJECT_EVENTS", "on")]);
    let off = container(store(Some(OVERDUE_REGISTRY)), &[]);
    for container in [&on, &off] {
        // Yesterday's object: missing is missing, not never written.
        (container.store).insert(
            BUCKET,
            "daily/2026-06-02.json",
            "{}",
            t("2026-06-02T05:50:00Z"),
        );
        for at in ["06:15", "06:30", "06:45", "07:00"] {
            let row = row_after_pass(container, &format!("2026-06-03T{at}:00Z"), "daily").await;
            assert_eq!(
                (&row["state"], &row["alerting"], &row["last_probed_at"]),
                (
                    &json!("missing"),
                    &json!(true),
                    &json!(format!("2026-06-03T{at}:00Z"))
                ),
                "the first hour after the alert: every pass probes it: {row:#}"
            );
        }
    }
    // Events on: 07:15 keeps the 07:00 verdict, alerting as before, and says so.
    let row = row_after_pass(&on, "2026-06-03T07:15:00Z", "daily").await;
    assert_eq!(
        (
            &row["state"],
            &row["alerting"],
            &row["sla_violated_by_minutes"],
            &row["last_probed_at"]
        ),
        (
            &json!("missing"),
            &json!(true),
            &json!(75),
            &json!("2026-06-03T07:00:00Z")
        ),
        "{row:#}"
    );
    let reason = row["reason"].as_str().unwrap();
    assert!(
        reason.ends_with(
            "; not probed by this pass: missing when last probed at 2026-06-03T07:00:00Z, \
             object events report its landing, next probe by 2026-06-03T07:30:00Z"
        ),
        "{reason}"
    );
    // Events off: every pass probes.
    let row = row_after_pass(&off, "2026-06-03T07:15:00Z", "daily").await;
    assert_eq!(row["last_probed_at"], "2026-06-03T07:15:00Z", "{row:#}");

    // It lands and its event is lost: the next probe, 30 minutes after the last, finds it.
    (on.store).insert(
        BUCKET,
        "daily/2026-06-03.json",
        "{}",
        t("2026-06-03T07:20:00Z"),
    );
    let row = row_after_pass(&on, "2026-06-03T07:30:00Z", "daily").await;
    assert_eq!(
        (&row["state"], &row["last_probed_at"]),
        (&json!("fresh"), &json!("2026-06-03T07:30:00Z")),
        "{row:#}"
    );
}

/// The futures the runtime holds and moves stay small: a pass's steps are built on the heap
/// (`crate::boxed`), so no poll frame holds a copy of one and `block_on` moves a few KiB, not
/// tens (BENCHMARKS.md, "A small pass's memory, fifth round": the main thread's stack 444 →
/// 168 KiB). Unboxed, these were 65,144, 62,192 and 30,328 bytes in this (dev) profile.
#[test]
fn the_futures_a_runtime_moves_keep_the_pass_on_the_heap() {
    use super::event::Invocation;
    use super::handler::{run_invocation, run_invocation_from_env, serve};
    let container = container(store(Some(REGISTRY)), &[]);
    let invocation = Invocation::Manual;
    let sizes = [
        ("serve", size_of_val(&serve()), 4096),
        (
            "run_invocation_from_env",
            size_of_val(&run_invocation_from_env(&invocation)),
            4096,
        ),
        (
            "run_invocation",
            size_of_val(&run_invocation(&container, &invocation, None, "x")),
            1024,
        ),
    ];
    for (future, bytes, most) in sizes {
        assert!(
            bytes <= most,
            "{future}'s future is {bytes} bytes, over {most}"
        );
    }
}
