//! With object events on, a cycle is not probed before its deadline once its bucket's events
//! are known to flow (`crates/core/src/ledger/awaiting.rs`): in-process, the handler's pass and
//! the intake over the in-memory store, alerts on, one warm container.

use serde_json::{Value, json};

use super::{BUCKET, container as container_with, store, t};
use crate::lambda::container::Container;
use crate::lambda::event::Invocation;
use crate::lambda::handler::run_invocation;
use crate::lambda::intake::run_object_events;
use crate::store::ObjectStore;
use crate::store::memory::MemoryStore;

/// `prices`: daily at 06:00 UTC, due 07:00, alerting from 07:01.
const REGISTRY: &str = "\
schema_version: 1
defaults:
  s3_bucket: data-bucket
  severity: critical
  owner_repo: producer
  created_at: 2026-01-01
  grace_period_cycles: 0
cadences:
  daily: {cron: \"0 6 * * *\", timezone: UTC}
artifacts:
  - artifact_id: prices
    s3_key_template: \"prices/{date}/prices.csv\"
    cadence: daily
    sla_minutes_after_cron: 60
";

/// Alerts on, object events on; an object of an earlier cycle (written, not never written).
fn container() -> Container<MemoryStore> {
    let store = store(Some(REGISTRY));
    store.insert(
        BUCKET,
        "prices/2026-05-01/prices.csv",
        "a",
        t("2026-05-01T06:30:00Z"),
    );
    let vars = [
        ("FRESHNESS_MONITOR_ENABLED", "true"),
        ("OBJECT_EVENTS", "on"),
    ];
    container_with(store, &vars)
}

/// The object lands at `at`; its event reaches the function 5 s later.
async fn lands_with_its_event(container: &Container<MemoryStore>, key: &str, at: &str) {
    container.store.insert(BUCKET, key, "a,b", t(at));
    let event = json!({
        "version": "0", "id": "e1", "detail-type": "Object Created", "source": "aws.s3",
        "account": "123456789012", "time": at, "region": "us-east-1",
        "resources": ["arn:aws:s3:::data-bucket"],
        "detail": {"version": "0", "bucket": {"name": BUCKET},
                   "object": {"key": key, "size": 3, "etag": "e", "sequencer": "01"}}
    });
    let Invocation::ObjectEvents(events) = Invocation::parse(&event).unwrap() else {
        panic!("not object events: {event}");
    };
    let response = run_object_events(
        container,
        &events,
        None,
        "event",
        t(at) + chrono::Duration::seconds(5),
    )
    .await
    .unwrap();
    assert_eq!(response["marked"], 1, "{response:#}");
}

/// A scheduled pass (or the deadline schedule's) at `now`: its response, the `prices` row and
/// the HEADs it made.
async fn pass(container: &Container<MemoryStore>, now: &str) -> (Value, Value, u64) {
    let invocation = Invocation::Scheduled { time: t(now) };
    let response = run_invocation(container, &invocation, None, "pass")
        .await
        .unwrap();
    let output = |name: &str| -> Value {
        let key = format!("_freshness_monitor/{name}");
        serde_json::from_slice(&container.store.body(BUCKET, &key).unwrap()).unwrap()
    };
    let results = output("check_results.json");
    let row = results["results"][0].clone();
    assert_eq!(row["artifact_id"], "prices");
    let heads = output("heartbeat.json")["requests"]["head"]
        .as_u64()
        .unwrap();
    (response, row, heads)
}

/// What a row awaiting its event says, before 07:01.
fn assert_awaiting(row: &Value) {
    assert_eq!(
        (&row["state"], &row["alerting"], &row["last_probed_at"]),
        (&json!("missing"), &json!(false), &Value::Null),
        "{row:#}"
    );
    assert_eq!(
        row["reason"],
        "not probed yet in this cycle: not yet due (alerts from 2026-06-02T07:01:00Z), object \
         events report its landing, so it is probed then if no event came",
        "{row:#}"
    );
}

#[tokio::test]
async fn a_cycle_awaits_its_event_and_a_lost_one_is_probed_at_the_deadline_alerting_once() {
    let container = container();
    // Day 1: no event known yet from the bucket: the cycle's first probe is made.
    let (_, row, _) = pass(&container, "2026-06-01T06:15:00Z").await;
    assert_eq!(row["last_probed_at"], "2026-06-01T06:15:00Z", "{row:#}");
    lands_with_its_event(
        &container,
        "prices/2026-06-01/prices.csv",
        "2026-06-01T06:30:00Z",
    )
    .await;

    // Day 2: the bucket's events flow since before the tick: no probe before the deadline.
    // (The page's history digest is HEADed by every pass: that HEAD is the pass's only one.)
    for at in ["06:15", "06:30", "06:45", "07:00"] {
        let (_, row, heads) = pass(&container, &format!("2026-06-02T{at}:00Z")).await;
        assert_awaiting(&row);
        assert_eq!(heads, 1, "no HEAD of prices at {at}");
    }
    // Nothing landed, and no event came: the deadline pass probes, finds it absent, alerts.
    let (response, row, heads) = pass(&container, "2026-06-02T07:01:00Z").await;
    assert_eq!(
        (&row["state"], &row["alerting"], &row["last_probed_at"]),
        (
            &json!("missing"),
            &json!(true),
            &json!("2026-06-02T07:01:00Z")
        ),
        "{row:#}"
    );
    assert_eq!(heads, 2, "the probe and the digest's HEAD");
    assert_eq!(response["alerted"], 1, "{response:#}");
    // The same moment again (a redelivered schedule) and the next pass: never a second alert.
    let (again, _, _) = pass(&container, "2026-06-02T07:01:00Z").await;
    assert_eq!(
        (again["alerted"].as_u64(), again["deduplicated"].as_u64()),
        (Some(0), Some(1))
    );
    let (next, row, _) = pass(&container, "2026-06-02T07:15:00Z").await;
    assert_eq!(row["alerting"], true, "{row:#}");
    assert_eq!(next["alerted"], 0, "{next:#}");

    // Day 3: it lands at 06:40 and its event is lost. The row waits; the deadline pass's probe
    // finds it: no alert.
    container.store.insert(
        BUCKET,
        "prices/2026-06-03/prices.csv",
        "a,b",
        t("2026-06-03T06:40:00Z"),
    );
    let (_, row, _) = pass(&container, "2026-06-03T06:45:00Z").await;
    assert_eq!(
        (&row["state"], &row["last_probed_at"]),
        (&json!("missing"), &Value::Null)
    );
    let (response, row, _) = pass(&container, "2026-06-03T07:01:00Z").await;
    assert_eq!(
        (&row["state"], &row["alerting"], &row["last_probed_at"]),
        (
            &json!("fresh"),
            &json!(false),
            &json!("2026-06-03T07:01:00Z")
        ),
        "{row:#}"
    );
    assert_eq!(response["alerted"], 0, "{response:#}");
}

#[tokio::test]
async fn a_ledger_lost_brings_back_the_first_probe_until_an_event_comes_again() {
    let container = container();
    pass(&container, "2026-06-01T06:15:00Z").await;
    lands_with_its_event(
        &container,
        "prices/2026-06-01/prices.csv",
        "2026-06-01T06:30:00Z",
    )
    .await;
    let (_, row, _) = pass(&container, "2026-06-02T06:15:00Z").await;
    assert_awaiting(&row);
    // The ledger is lost: what it knew of the bucket's events with it.
    let ledger = "_freshness_monitor/ledger.json";
    container.store.delete(BUCKET, ledger).await.unwrap();
    container.forget_event_memory();
    let (_, row, heads) = pass(&container, "2026-06-02T06:30:00Z").await;
    assert_eq!(
        row["last_probed_at"], "2026-06-02T06:30:00Z",
        "probed: {row:#}"
    );
    assert_eq!(heads, 2);
}
