//! The intake in-process, over the in-memory store: what events do to the ledger, the
//! alerts and the requests (the end to end through the binary and moto is
//! `tests/it/events.rs`).

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::*;
use crate::alert::{AlertChannel, Alerter, StdoutChannel};
use crate::lambda::event::Invocation;
use crate::lambda::handler::run_invocation;
use crate::settings::DEFAULT_REGISTRY_KEY;
use crate::store::memory::MemoryStore;

const BUCKET: &str = "data-bucket";
const LEDGER_KEY: &str = "_freshness_monitor/ledger.json";

/// Daily at 06:00 UTC, due at 07:00: a dated artifact and a pointer.
const REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: data-bucket
  cadence: daily
  sla_minutes_after_cron: 60
  grace_period_cycles: 0
  severity: critical
  owner_repo: producer
  created_at: 2026-01-01
cadences:
  daily: {cron: \"0 6 * * *\", timezone: UTC}
artifacts:
  - artifact_id: prices
    s3_key_template: \"prices/{date}/prices.csv\"
  - artifact_id: state
    s3_key_template: \"state/latest.json\"
";

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn container(alerts: bool) -> Container<MemoryStore> {
    let store = MemoryStore::new();
    store.create_bucket(BUCKET);
    store.insert(
        BUCKET,
        DEFAULT_REGISTRY_KEY,
        REGISTRY,
        t("2026-01-01T00:00:00Z"),
    );
    // Earlier cycles' objects: missing is missing, not never written.
    store.insert(
        BUCKET,
        "prices/2026-05-01/prices.csv",
        "",
        t("2026-05-01T06:30:00Z"),
    );
    let settings = crate::settings::Settings::from_lookup(|name| match name {
        "REGISTRY_BUCKET" => Some(BUCKET.to_string()),
        "FRESHNESS_MONITOR_ENABLED" if alerts => Some("true".to_string()),
        _ => None,
    });
    let alerter = settings.as_ref().ok().map(|s| {
        let channels: Vec<Box<dyn AlertChannel>> = vec![Box::new(StdoutChannel)];
        Alerter::new(channels, s.dedup_bucket(), s.dedup_prefix.clone())
    });
    Container::new(settings, store, alerter)
}

fn object_created(key: &str, time: &str) -> Value {
    json!({
        "version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": time, "region": "us-east-1",
        "resources": ["arn:aws:s3:::data-bucket"],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": key, "size": 3, "etag": "e", "sequencer": "01"}}
    })
}

async fn invoke(container: &Container<MemoryStore>, event: Value, now: &str) -> Value {
    let Invocation::ObjectEvents(events) = Invocation::parse(&event).unwrap() else {
        panic!("not object events: {event}");
    };
    run_object_events(container, &events, None, "test", t(now))
        .await
        .unwrap()
}

async fn scheduled_pass(container: &Container<MemoryStore>, now: &str) -> Value {
    let invocation = Invocation::Scheduled { time: t(now) };
    run_invocation(container, &invocation, None, "pass")
        .await
        .unwrap()
}

fn ledger(container: &Container<MemoryStore>) -> Value {
    serde_json::from_slice(&container.store.body(BUCKET, LEDGER_KEY).unwrap()).unwrap()
}

#[tokio::test]
async fn an_event_marks_the_artifact_present_and_the_next_pass_does_not_probe_it() {
    let container = container(false);
    let response = invoke(
        &container,
        object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z"),
        "2026-06-03T06:40:05Z",
    )
    .await;
    assert_eq!(response["marked"], 1, "{response:#}");
    assert_eq!(response["ledger"], "created");
    assert_eq!(
        response["requests"]["put"], 1,
        "one conditional PUT: {response:#}"
    );
    let entry = &ledger(&container)["artifacts"]["prices"];
    assert_eq!(entry["state"], "fresh", "{entry:#}");
    assert_eq!(entry["last_modified"], "2026-06-03T06:40:00Z");

    // The objects are in the store too; the pass judges prices from the ledger, without a
    // HEAD, and probes the pointer no event named.
    container.store.insert(
        BUCKET,
        "prices/2026-06-03/prices.csv",
        "a,b",
        t("2026-06-03T06:40:00Z"),
    );
    container
        .store
        .insert(BUCKET, "state/latest.json", "{}", t("2026-06-03T06:50:00Z"));
    let pass = scheduled_pass(&container, "2026-06-03T07:15:00Z").await;
    assert_eq!(pass["counts"]["fresh"], 2, "{pass:#}");
    let heartbeat: Value = serde_json::from_slice(
        &container
            .store
            .body(BUCKET, "_freshness_monitor/heartbeat.json")
            .unwrap(),
    )
    .unwrap();
    let requests = &heartbeat["requests"];
    assert_eq!(
        (requests["head"].as_u64(), requests["list"].as_u64()),
        (Some(2), Some(0)),
        "the pointer, which no event named, and the page's history digest: {requests:#}"
    );
    let results: Value = serde_json::from_slice(
        &container
            .store
            .body(BUCKET, "_freshness_monitor/check_results.json")
            .unwrap(),
    )
    .unwrap();
    let rows = results["results"].as_array().unwrap();
    let probed = |id: &str| {
        let row = rows.iter().find(|r| r["artifact_id"] == id).unwrap();
        row["last_probed_at"].clone()
    };
    assert_eq!(
        probed("prices"),
        "2026-06-03T06:40:00Z",
        "the event, not a HEAD"
    );
    assert_eq!(probed("state"), "2026-06-03T07:15:00Z");
}

#[tokio::test]
async fn duplicates_cost_one_ledger_read_and_write_nothing() {
    let container = container(false);
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    invoke(&container, event.clone(), "2026-06-03T06:41:00Z").await;
    let again = invoke(&container, event, "2026-06-03T06:42:00Z").await;
    assert_eq!(
        (again["marked"].as_u64(), again["already_known"].as_u64()),
        (Some(0), Some(1))
    );
    assert_eq!(again["ledger"], "unchanged");
    assert_eq!(again["requests"]["put"], 0, "{again:#}");
}

#[tokio::test]
async fn bad_and_foreign_events_are_counted_and_cost_only_the_registry() {
    let container = container(false);
    let mut other_bucket = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    other_bucket["detail"]["bucket"]["name"] = json!("someone-elses");
    let records: Vec<Value> = [
        other_bucket,
        object_created("prices/2026-06-03/prices.csv", "9999-12-31T23:59:59Z"),
        object_created("prices/2026-06-02/prices.csv", "2026-06-03T06:40:00Z"),
        object_created("unrelated/file.csv", "2026-06-03T06:40:00Z"),
        object_created(&"k".repeat(10 * 1024), "2026-06-03T06:40:00Z"),
        object_created("state/latest.json", "2026-06-03T05:00:00Z"),
        json!({"not": "an event"}),
    ]
    .iter()
    .enumerate()
    .map(|(i, e)| json!({"messageId": format!("m{i}"), "eventSource": "aws:sqs", "body": e.to_string()}))
    .collect();
    let response = invoke(
        &container,
        json!({ "Records": records }),
        "2026-06-03T06:45:00Z",
    )
    .await;
    assert_eq!(
        response["ignored"],
        json!({"unreadable": 1, "bad_key": 1, "future_time": 1, "other_bucket": 1,
               "no_artifact": 1, "past_cycle": 1, "before_tick": 1}),
        "{response:#}"
    );
    assert_eq!(response["marked"], 0);
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(
        response["requests"]["get"], 1,
        "the registry only: {response:#}"
    );
    assert_eq!(response["requests"]["put"], 0);
}

#[tokio::test]
async fn an_alerted_artifact_is_resolved_at_once_and_only_once() {
    let container = container(true);
    let pass = scheduled_pass(&container, "2026-06-03T07:15:00Z").await;
    assert_eq!(pass["alerted"], 2, "both missing past 07:00: {pass:#}");
    container.store.insert(
        BUCKET,
        "prices/2026-06-03/prices.csv",
        "a,b",
        t("2026-06-03T07:20:00Z"),
    );
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:20:00Z");
    let sqs = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": event.to_string()}]});
    let response = invoke(&container, sqs.clone(), "2026-06-03T07:20:03Z").await;
    assert_eq!(response["resolved"], 1, "{response:#}");
    assert_eq!(
        response["requests"]["head"], 2,
        "judged from the ledger, no probe: the HEADs are status.html's and the history digest's: \
         {response:#}"
    );
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(
        ledger(&container)["artifacts"]["prices"]["resolved_out"],
        true
    );
    // The same message delivered again, and the next pass: nothing is sent twice.
    let again = invoke(&container, sqs, "2026-06-03T07:21:00Z").await;
    assert_eq!(
        (again["resolved"].as_u64(), again["ledger"].as_str()),
        (Some(0), Some("unchanged"))
    );
    let pass = scheduled_pass(&container, "2026-06-03T07:30:00Z").await;
    assert_eq!(pass["resolved"], 0, "{pass:#}");
    assert_eq!(pass["counts"]["fresh"], 1);
}

#[tokio::test]
async fn a_registry_that_cannot_be_read_fails_the_batch() {
    let container = container(false);
    container
        .store
        .delete(BUCKET, DEFAULT_REGISTRY_KEY)
        .await
        .unwrap();
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let Invocation::ObjectEvents(events) = Invocation::parse(&event).unwrap() else {
        unreachable!()
    };
    let err = run_object_events(&container, &events, None, "t", t("2026-06-03T06:41:00Z"))
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.RegistryError");
    assert!(err.to_string().contains("not found"), "{err}");
}

fn sqs_batch(events: &[Value]) -> Value {
    let records: Vec<Value> = (events.iter().enumerate())
        .map(|(i, e)| json!({"messageId": format!("m{i}"), "eventSource": "aws:sqs", "body": e.to_string()}))
        .collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn a_burst_of_ten_thousand_events_is_one_ledger_write() {
    let container = container(false);
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let burst = sqs_batch(&vec![event; 10_000]);
    let response = invoke(&container, burst, "2026-06-03T06:41:00Z").await;
    assert_eq!(
        (
            response["marked"].as_u64(),
            response["already_known"].as_u64()
        ),
        (Some(1), Some(9_999)),
        "{:#}",
        response["requests"]
    );
    let requests = &response["requests"];
    assert_eq!(
        (requests["get"].as_u64(), requests["put"].as_u64()),
        (Some(3), Some(1)),
        "GETs: the registry, the ledger, check_results.json (not there yet); one PUT: the \
         ledger"
    );
}

/// The in-memory store, except that it cannot write conditionally: the ledger's write fails.
struct NoConditionalWrites(MemoryStore);

impl crate::store::ObjectStore for NoConditionalWrites {
    async fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<crate::store::ObjectMeta>, crate::store::StoreError> {
        self.0.head(bucket, key).await
    }

    async fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<crate::store::FetchedObject, crate::store::StoreError> {
        self.0.get(bucket, key).await
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), crate::store::StoreError> {
        self.0.put(bucket, key, body, content_type).await
    }
}

#[tokio::test]
async fn a_ledger_that_cannot_be_written_names_the_messages_to_retry() {
    let Container {
        settings,
        store,
        alerter,
        ..
    } = container(false);
    let container = Container::new(settings, NoConditionalWrites(store), alerter);
    let matching = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let other = object_created("unrelated/file.csv", "2026-06-03T06:40:00Z");
    let Invocation::ObjectEvents(events) =
        Invocation::parse(&sqs_batch(&[other.clone(), matching.clone()])).unwrap()
    else {
        unreachable!()
    };
    let now = t("2026-06-03T06:41:00Z");
    let response = run_object_events(&container, &events, None, "t", now)
        .await
        .unwrap();
    assert_eq!(response["ledger"], "failed", "{response:#}");
    assert_eq!(
        response["batchItemFailures"],
        json!([{"itemIdentifier": "m1"}]),
        "only the message a retry can help"
    );
    // The same event from EventBridge directly: the invocation fails, so Lambda retries it.
    let Invocation::ObjectEvents(events) = Invocation::parse(&matching).unwrap() else {
        unreachable!()
    };
    let err = run_object_events(&container, &events, None, "t", now)
        .await
        .unwrap_err();
    assert_eq!(err.error_type(), "FreshnessMonitor.LedgerWriteFailed");
}

fn results(container: &Container<MemoryStore>) -> Value {
    serde_json::from_slice(
        &(container.store)
            .body(BUCKET, "_freshness_monitor/check_results.json")
            .unwrap(),
    )
    .unwrap()
}

fn page(container: &Container<MemoryStore>) -> String {
    let body = container
        .store
        .body(BUCKET, "_freshness_monitor/status.html");
    String::from_utf8(body.unwrap()).unwrap()
}

fn row<'v>(results: &'v Value, id: &str) -> &'v Value {
    (results["results"].as_array().unwrap().iter())
        .find(|r| r["artifact_id"] == id)
        .unwrap()
}

#[tokio::test]
async fn an_event_turns_its_row_fresh_in_check_results_and_the_page_and_a_duplicate_writes_nothing()
{
    let container = container(false);
    scheduled_pass(&container, "2026-06-03T07:15:00Z").await;
    assert_eq!(row(&results(&container), "prices")["state"], "missing");
    assert!(
        page(&container).contains("2 of 2 artifacts"),
        "{}",
        page(&container)
    );
    let before = results(&container);
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:20:00Z");
    let response = invoke(&container, event.clone(), "2026-06-03T07:20:03Z").await;
    assert_eq!(
        response["outputs"],
        json!({"status": "written", "rows_changed": 1, "rows_absent": 0, "detail": null}),
        "{response:#}"
    );
    let requests = &response["requests"];
    assert_eq!(
        [&requests["get"], &requests["head"], &requests["put"]],
        [3, 2, 3],
        "GETs: registry, ledger, check_results (its length read before its body: no HEAD); \
         HEADs: status.html's and the history digest's; PUTs: ledger, results, page: {response:#}"
    );
    let after = results(&container);
    let prices = row(&after, "prices");
    assert_eq!(
        (
            &prices["state"],
            &prices["last_modified"],
            &prices["alerting"]
        ),
        (
            &json!("fresh"),
            &json!("2026-06-03T07:20:00Z"),
            &json!(false)
        ),
        "{prices:#}"
    );
    assert_eq!(
        row(&after, "state"),
        row(&before, "state"),
        "the other row as the pass left it"
    );
    assert_eq!(
        after["run_at"], before["run_at"],
        "the pass's time: the page tells its age"
    );
    assert!(
        page(&container).contains("1 of 2 artifacts"),
        "{}",
        page(&container)
    );

    let again = invoke(&container, event, "2026-06-03T07:21:00Z").await;
    assert_eq!(again["outputs"], Value::Null, "{again:#}");
    assert_eq!(again["requests"]["put"], 0, "{again:#}");
    assert_eq!(results(&container), after);
}

/// A pass at 07:15 (both artifacts missing), then `prices` lands and its event comes.
async fn after_the_first_update() -> Container<MemoryStore> {
    let container = container(false);
    scheduled_pass(&container, "2026-06-03T07:15:00Z").await;
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:20:00Z");
    let first = invoke(&container, event, "2026-06-03T07:20:03Z").await;
    assert_eq!(first["outputs"]["status"], "written", "{first:#}");
    container
}

fn gets_heads_puts(response: &Value) -> [u64; 3] {
    let r = &response["requests"];
    ["get", "head", "put"].map(|class| r[class].as_u64().unwrap())
}

#[tokio::test]
async fn a_warm_containers_next_update_asks_only_what_may_have_changed() {
    let container = after_the_first_update().await;
    let event = object_created("state/latest.json", "2026-06-03T07:22:00Z");
    let second = invoke(&container, event, "2026-06-03T07:22:03Z").await;
    assert_eq!(second["outputs"]["status"], "written", "{second:#}");
    assert_eq!(
        gets_heads_puts(&second),
        [0, 0, 3],
        "no GET, no HEAD (the registry trusted; the ledger, check_results.json and the page \
         as this container wrote them, each PUT `If-Match` the ETag it got; the history read \
         a minute ago), three PUTs: {second:#}"
    );
    assert_eq!(
        ledger(&container)["artifacts"]["state"]["state"],
        "fresh",
        "{second:#}"
    );
    let results = results(&container);
    assert_eq!(row(&results, "state")["state"], "fresh");
    assert_eq!(
        row(&results, "prices")["state"],
        "fresh",
        "the first update's row kept"
    );

    // A pass writes both files: the next update asks for the page's ETag again.
    scheduled_pass(&container, "2026-06-03T07:23:00Z").await;
    container.store.insert(
        BUCKET,
        "prices/2026-06-03/prices.csv",
        "a,b,c",
        t("2026-06-03T07:23:30Z"),
    );
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:23:30Z");
    let after_pass = invoke(&container, event, "2026-06-03T07:24:00Z").await;
    assert_eq!(after_pass["outputs"]["status"], "written", "{after_pass:#}");
    assert_eq!(
        gets_heads_puts(&after_pass),
        [3, 1, 3],
        "the registry read again (the pass dropped it), the page HEADed (the pass wrote it): \
         {after_pass:#}"
    );
}

#[tokio::test]
async fn a_ledger_written_by_another_since_this_containers_write_is_read_and_both_updates_kept() {
    let container = after_the_first_update().await;
    // Another writer (a pass in another container) adds to the ledger.
    let mut theirs = ledger(&container);
    theirs["artifacts"]["other"] = json!({"cycle": "2026-06-03", "state": "missing"});
    let theirs = theirs.to_string();
    (container.store).insert(
        BUCKET,
        LEDGER_KEY,
        theirs.as_str(),
        t("2026-06-03T07:21:00Z"),
    );
    let event = object_created("state/latest.json", "2026-06-03T07:22:00Z");
    let second = invoke(&container, event, "2026-06-03T07:22:03Z").await;
    assert_eq!(second["marked"], 1, "{second:#}");
    assert_eq!(
        gets_heads_puts(&second)[0..2],
        [2, 0],
        "the PUT from memory lost: the ledger read, and check_results.json (still the one this \
         container wrote: the page's PUT needs no HEAD): {second:#}"
    );
    assert_eq!(
        second["requests"]["put"], 4,
        "the lost PUT, then the ledger's and the outputs': {second:#}"
    );
    let written = ledger(&container);
    assert_eq!(
        written["artifacts"]["other"]["state"], "missing",
        "theirs kept"
    );
    assert_eq!(written["artifacts"]["state"]["state"], "fresh", "ours kept");
    assert_eq!(
        written["artifacts"]["prices"]["state"], "fresh",
        "the first kept"
    );
    // After a loss the container reads the ledger for 15 minutes: no PUT lost again.
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:30:00Z");
    let third = invoke(&container, event, "2026-06-03T07:36:59Z").await;
    assert_eq!(
        (third["requests"]["put"].as_u64(), third["ledger"].as_str()),
        (Some(3), Some("updated")),
        "{third:#}"
    );
    assert!(third["requests"]["get"].as_u64() >= Some(1), "{third:#}");
}

#[tokio::test]
async fn outputs_kept_from_before_a_pass_are_not_trusted_after_a_batch_that_wrote_none() {
    let container = after_the_first_update().await;
    scheduled_pass(&container, "2026-06-03T07:21:00Z").await;
    // An artifact added since that pass: its event writes the ledger, and no row (it has none
    // yet), so nothing of the outputs.
    let added =
        format!("{REGISTRY}  - artifact_id: added\n    s3_key_template: \"added/file.csv\"\n");
    (container.store).insert(
        BUCKET,
        DEFAULT_REGISTRY_KEY,
        added.as_str(),
        t("2026-06-03T07:21:30Z"),
    );
    let event = object_created("added/file.csv", "2026-06-03T07:22:00Z");
    let second = invoke(&container, event, "2026-06-03T07:22:03Z").await;
    assert_eq!(
        (
            second["outputs"]["status"].as_str(),
            second["outputs"]["rows_absent"].as_u64()
        ),
        (Some("unchanged"), Some(1)),
        "{second:#}"
    );
    // The next batch writes the ledger from memory, and the outputs as the pass left them:
    // read, not the bytes this container wrote before the pass.
    let event = object_created("state/latest.json", "2026-06-03T07:23:00Z");
    let third = invoke(&container, event, "2026-06-03T07:23:03Z").await;
    assert_eq!(third["outputs"]["status"], "written", "{third:#}");
    assert_eq!(
        gets_heads_puts(&third)[0],
        1,
        "check_results.json read: {third:#}"
    );
    let results = results(&container);
    assert_eq!(row(&results, "state")["state"], "fresh");
    assert_eq!(row(&results, "prices")["state"], "fresh");
}

#[tokio::test]
async fn a_page_written_by_another_since_this_containers_update_is_never_overwritten() {
    let container = after_the_first_update().await;
    // Another writer (a pass whose check_results.json write has not landed yet) puts the page.
    container.store.insert(
        BUCKET,
        "_freshness_monitor/status.html",
        "the pass's page",
        t("2026-06-03T07:21:00Z"),
    );
    let event = object_created("state/latest.json", "2026-06-03T07:22:00Z");
    let second = invoke(&container, event, "2026-06-03T07:22:03Z").await;
    assert_eq!(
        (
            second["outputs"]["status"].as_str(),
            second["marked"].as_u64()
        ),
        (Some("superseded"), Some(1)),
        "{second:#}"
    );
    assert_eq!(page(&container), "the pass's page");
    // Nothing is remembered after a lost write: the next update HEADs the page.
    container.store.insert(
        BUCKET,
        "prices/2026-06-03/prices.csv",
        "a,b,c",
        t("2026-06-03T07:23:00Z"),
    );
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:23:00Z");
    let third = invoke(&container, event, "2026-06-03T07:23:03Z").await;
    assert_eq!(gets_heads_puts(&third)[1], 1, "{third:#}");
    assert_eq!(third["outputs"]["status"], "written", "{third:#}");
}

#[tokio::test]
async fn a_check_results_over_the_cap_is_not_asked_for_again_for_5_minutes() {
    let container = container(false);
    let big = vec![b' '; 32_000_001];
    let results_key = "_freshness_monitor/check_results.json";
    (container.store).insert(BUCKET, results_key, big, t("2026-06-03T06:30:00Z"));
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let first = invoke(&container, event, "2026-06-03T06:41:00Z").await;
    assert_eq!(first["outputs"]["status"], "too_big", "{first:#}");
    assert_eq!(
        gets_heads_puts(&first),
        [3, 2, 1],
        "GETs: the registry, the ledger, check_results.json (answered by its length: the body \
         is not read); HEADs: the page's and the history digest's; the ledger's PUT: {first:#}"
    );
    let event = object_created("state/latest.json", "2026-06-03T06:42:00Z");
    let second = invoke(&container, event, "2026-06-03T06:45:59Z").await;
    assert_eq!(second["outputs"]["status"], "too_big", "{second:#}");
    assert_eq!(
        gets_heads_puts(&second),
        [0, 0, 1],
        "within 5 minutes: the ledger's PUT alone (from memory), nothing asked of the outputs: \
         {second:#}"
    );
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:46:00Z");
    let later = invoke(&container, event, "2026-06-03T06:46:00Z").await;
    assert_eq!(later["outputs"]["status"], "too_big", "{later:#}");
    assert_eq!(gets_heads_puts(&later)[0], 1, "asked again: {later:#}");
}

#[tokio::test]
async fn without_check_results_the_event_leaves_the_outputs_to_the_next_pass_and_says_why() {
    let container = container(false);
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let response = invoke(&container, event, "2026-06-03T06:41:00Z").await;
    assert_eq!(response["outputs"]["status"], "no_results", "{response:#}");
    assert!(
        container
            .store
            .body(BUCKET, "_freshness_monitor/status.html")
            .is_none()
    );

    let container = self::container(false);
    container.store.insert(
        BUCKET,
        "_freshness_monitor/check_results.json",
        r#"{"run_at": "2026-06-03T06:30:00Z", "results": []}"#,
        t("2026-06-03T06:30:00Z"),
    );
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T06:40:00Z");
    let response = invoke(&container, event, "2026-06-03T06:41:00Z").await;
    let outputs = &response["outputs"];
    assert_eq!(outputs["status"], "unreadable", "{response:#}");
    assert!(
        (outputs["detail"].as_str().unwrap())
            .starts_with("check_results.json is not in this version's shape: missing field"),
        "{outputs:#}"
    );
    assert_eq!(
        response["ledger"], "created",
        "the presence is kept all the same"
    );
}

/// The in-memory store, where a pass rewrites `check_results.json` just after the event
/// invocation read it.
struct PassWritesMeanwhile(MemoryStore);

const RESULTS_KEY: &str = "_freshness_monitor/check_results.json";

impl crate::store::ObjectStore for PassWritesMeanwhile {
    async fn head(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<crate::store::ObjectMeta>, crate::store::StoreError> {
        self.0.head(bucket, key).await
    }

    async fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(crate::store::ObjectMeta, Option<String>)>, crate::store::StoreError> {
        self.0.head_etag(bucket, key).await
    }

    async fn get(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<crate::store::FetchedObject, crate::store::StoreError> {
        let fetched = self.0.get(bucket, key).await?;
        if key == RESULTS_KEY {
            let mut newer = fetched.body.clone();
            newer.extend_from_slice(b"\n");
            self.0.insert(bucket, key, newer, t("2026-06-03T07:30:00Z"));
        }
        Ok(fetched)
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), crate::store::StoreError> {
        self.0.put(bucket, key, body, content_type).await
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, crate::store::StoreError> {
        self.0.put_if_absent(bucket, key, body, content_type).await
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, crate::store::StoreError> {
        self.0
            .put_if_match(bucket, key, etag, body, content_type)
            .await
    }
}

#[tokio::test]
async fn a_pass_that_writes_check_results_meanwhile_wins_over_the_event() {
    let container = container(false);
    scheduled_pass(&container, "2026-06-03T07:15:00Z").await;
    let Container {
        settings,
        store,
        alerter,
        ..
    } = container;
    let container = Container::new(settings, PassWritesMeanwhile(store), alerter);
    let event = object_created("prices/2026-06-03/prices.csv", "2026-06-03T07:20:00Z");
    let Invocation::ObjectEvents(events) = Invocation::parse(&event).unwrap() else {
        unreachable!()
    };
    let now = t("2026-06-03T07:20:03Z");
    let response = run_object_events(&container, &events, None, "t", now)
        .await
        .unwrap();
    let outputs = &response["outputs"];
    assert_eq!(outputs["status"], "superseded", "{response:#}");
    let body = container.store.0.body(BUCKET, RESULTS_KEY).unwrap();
    let results: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        row(&results, "prices")["state"],
        "missing",
        "the pass's file stays"
    );
    assert_eq!(
        response["ledger"], "updated",
        "the presence is kept for the next pass"
    );
}

#[tokio::test]
async fn a_warm_container_trusts_the_registry_for_5_minutes_then_keeps_it_until_its_etag_changes() {
    let container = container(false);
    let requests = |response: &Value| {
        let r = &response["requests"];
        (
            response["registry"].clone(),
            r["get"].clone(),
            r["head"].clone(),
        )
    };
    let unrelated = object_created("unrelated/file.csv", "2026-06-03T06:40:00Z");
    let first = invoke(&container, unrelated.clone(), "2026-06-03T06:41:00Z").await;
    assert_eq!(
        requests(&first),
        (json!("read"), json!(1), json!(0)),
        "{first:#}"
    );
    let second = invoke(&container, unrelated.clone(), "2026-06-03T06:45:59Z").await;
    assert_eq!(
        requests(&second),
        (json!("trusted"), json!(0), json!(0)),
        "within 5 minutes of the read: no request, no parse: {second:#}"
    );
    let checked = invoke(&container, unrelated.clone(), "2026-06-03T06:46:00Z").await;
    assert_eq!(
        requests(&checked),
        (json!("kept"), json!(0), json!(1)),
        "5 minutes on: one HEAD, no GET, no parse: {checked:#}"
    );
    // The registry changes: within 5 minutes of the HEAD the old one is still used (its
    // new artifact's object matches nothing yet) ...
    let changed =
        format!("{REGISTRY}  - artifact_id: added\n    s3_key_template: \"unrelated/file.csv\"\n");
    container.store.insert(
        BUCKET,
        DEFAULT_REGISTRY_KEY,
        changed.as_str(),
        t("2026-06-03T06:46:30Z"),
    );
    let stale = invoke(&container, unrelated.clone(), "2026-06-03T06:50:59Z").await;
    assert_eq!(stale["registry"], "trusted", "{stale:#}");
    assert_eq!(stale["ignored"]["no_artifact"], 1, "{stale:#}");
    // ... and at most 5 minutes on, the next invocation reads it, and its new artifact matches.
    let third = invoke(&container, unrelated, "2026-06-03T06:51:00Z").await;
    assert_eq!(third["registry"], "read", "{third:#}");
    assert_eq!(
        third["marked"], 1,
        "the changed registry's artifact: {third:#}"
    );
    // A pass drops what the events kept: the next event reads the registry again.
    scheduled_pass(&container, "2026-06-03T06:52:00Z").await;
    let after_pass = invoke(
        &container,
        object_created("nothing/here.csv", "2026-06-03T06:53:00Z"),
        "2026-06-03T06:53:00Z",
    )
    .await;
    assert_eq!(requests(&after_pass), (json!("read"), json!(1), json!(0)));
}
