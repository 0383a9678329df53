//! S3 "Object Created" events end to end, with the events S3 really emits: moto's S3 sends its
//! EventBridge notifications (the bucket's `EventBridgeConfiguration`), an EventBridge rule
//! for `Object Created` on the bucket targets an SQS queue, the test reads the message moto
//! delivered there and hands it to the built bootstrap through the loopback Runtime API,
//! batched as the SQS event source batches it and as the raw EventBridge event a rule would
//! invoke the function with. The rule and its target are made with the AWS CLI (the suite has
//! no EventBridge SDK client); moto cannot run the function itself, nor an SQS event source
//! mapping, so the test plays the poller's part.
//!
//! The intake judges the clock's now (an event carries the object's time, not a pass's), so
//! the registry's cadence is daily at 00:00 UTC, due at once: at any time of the test's day
//! today's key is the current cycle's and a pass at the clock's now alerts it.

use std::process::Command;
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::{Value, json};

use crate::support::aws::{get_bytes, get_json, put};
use crate::support::moto;
use crate::support::results::{REGISTRY_KEY, check_results, row};
use crate::support::world::{Monitor, World};

fn registry(bucket: &str) -> String {
    format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: critical\n  \
         grace_period_cycles: 0\n  owner_repo: pipelines\n  created_at: 2025-01-01\n\
         cadences:\n  midnight: {{cron: \"0 0 * * *\", timezone: UTC}}\nartifacts:\n  \
         - artifact_id: prices\n    s3_key_template: \"data/{{date}}/prices.json\"\n    \
         cadence: midnight\n    sla_minutes_after_cron: 0\n"
    )
}

/// The AWS CLI against the shared moto server; panics with its stderr unless it succeeds.
fn aws_cli(args: &[&str]) -> String {
    let mut command = Command::new("aws");
    command.args(args).args(["--output", "json"]);
    for (name, value) in moto::shared().env() {
        command.env(name, value);
    }
    let out = command
        .output()
        .expect("the AWS CLI runs (scripts/test.sh installs it)");
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// S3 → EventBridge → SQS for the world's bucket, keys under the template's `data/` (the
/// monitor's own writes are other keys): the queue's URL and ARN.
async fn route_object_created_to_a_queue(world: &World) -> (String, String) {
    use aws_sdk_s3::types::{EventBridgeConfiguration, NotificationConfiguration};
    world
        .aws
        .s3
        .put_bucket_notification_configuration()
        .bucket(&world.bucket)
        .notification_configuration(
            NotificationConfiguration::builder()
                .event_bridge_configuration(EventBridgeConfiguration::builder().build())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let name = format!("{}-events", world.bucket);
    let queue_url = world
        .aws
        .sqs
        .create_queue()
        .queue_name(&name)
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_string();
    let queue_arn = format!("arn:aws:sqs:{}:{}:{name}", moto::REGION, moto::ACCOUNT_ID);
    let pattern = json!({
        "source": ["aws.s3"],
        "detail-type": ["Object Created"],
        "detail": {"bucket": {"name": [world.bucket]}, "object": {"key": [{"prefix": "data/"}]}}
    });
    aws_cli(&[
        "events",
        "put-rule",
        "--name",
        &name,
        "--event-pattern",
        &pattern.to_string(),
    ]);
    aws_cli(&[
        "events",
        "put-targets",
        "--rule",
        &name,
        "--targets",
        &format!("Id=queue,Arn={queue_arn}"),
    ]);
    (queue_url, queue_arn)
}

/// The one message on the queue (waiting up to 10 s for it), deleted.
async fn one_message(world: &World, queue_url: &str) -> aws_sdk_sqs::types::Message {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = world
            .aws
            .sqs
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .unwrap();
        if let Some(message) = out.messages().first() {
            assert_eq!(out.messages().len(), 1, "one object, one event");
            world
                .aws
                .sqs
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(message.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
            return message.clone();
        }
        assert!(
            Instant::now() < deadline,
            "moto delivered no Object Created event"
        );
    }
}

/// The status page as the last writer left it.
async fn status_page(world: &World) -> String {
    let bytes = get_bytes(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/status.html",
    )
    .await;
    String::from_utf8(bytes.expect("status.html written")).unwrap()
}

/// The SQS event source's event for `message`, as Lambda documents it.
fn sqs_event(message: &aws_sdk_sqs::types::Message, queue_arn: &str) -> Value {
    json!({"Records": [{
        "messageId": message.message_id().unwrap(),
        "receiptHandle": message.receipt_handle().unwrap(),
        "body": message.body().unwrap(),
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1"},
        "messageAttributes": {},
        "md5OfBody": message.md5_of_body().unwrap_or_default(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": moto::REGION
    }]})
}

#[tokio::test(flavor = "multi_thread")]
async fn events_an_object_created_event_resolves_at_once_spares_the_next_probe_and_never_repeats() {
    let world = World::with_ids(&[]).await;
    put(
        &world.aws.s3,
        &world.bucket,
        REGISTRY_KEY,
        &registry(&world.bucket),
    )
    .await;
    let (queue_url, queue_arn) = route_object_created_to_a_queue(&world).await;
    let monitor = Monitor::start(&world.env());

    let alerted = monitor.pass(Utc::now());
    assert_eq!(alerted.response()["alerted"], 1, "{:#}", alerted.response());
    assert_eq!(world.sns_messages().await.len(), 1);
    let telegram_before = world.telegram.delivered().len();

    let key = format!("data/{}/prices.json", Utc::now().date_naive());
    put(&world.aws.s3, &world.bucket, &key, "{}").await;
    let message = one_message(&world, &queue_url).await;
    let body: Value = serde_json::from_str(message.body().unwrap()).unwrap();
    assert_eq!(
        body["detail-type"], "Object Created",
        "what moto's S3 emitted: {body:#}"
    );
    assert_eq!(body["detail"]["object"]["key"], key.as_str());

    // The SQS batch: marked present, RESOLVED sent at once on both channels.
    let batch = monitor.invoke(&sqs_event(&message, &queue_arn));
    let response = batch.response();
    assert_eq!(response["marked"], 1, "{response:#}");
    assert_eq!(response["resolved"], 1, "{response:#}");
    assert_eq!(response["batchItemFailures"], json!([]));
    assert_eq!(
        response["requests"]["head"], 2,
        "no probe: the HEADs are status.html's and the history digest's (check_results.json's \
         length comes with its GET): {response:#}"
    );
    // The outputs an operator looks at turn fresh at once, not at the next pass.
    assert_eq!(response["outputs"]["status"], "written", "{response:#}");
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let prices = row(&results, "prices");
    assert_eq!(
        (
            &prices["state"],
            &prices["last_modified"],
            &prices["alerting"]
        ),
        (&json!("fresh"), &body["time"], &json!(false)),
        "{prices:#}"
    );
    let page = status_page(&world).await;
    assert!(
        page.contains("All clear: nothing alerting among 1 artifacts"),
        "{page}"
    );
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1, "{sns:#?}");
    let notice = sns[0]["Message"].as_str().unwrap();
    assert!(
        notice.contains("RESOLVED") && notice.contains("prices"),
        "{notice}"
    );
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), telegram_before + 1);
    assert!(
        telegram
            .last()
            .unwrap()
            .text()
            .contains("[RESOLVED] prices")
    );
    let ledger = get_json(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/ledger.json",
    )
    .await
    .unwrap();
    let entry = &ledger["artifacts"]["prices"];
    assert_eq!(
        (entry["state"].as_str(), entry["resolved_out"].as_bool()),
        (Some("fresh"), Some(true))
    );
    assert_eq!(
        entry["last_modified"], body["time"],
        "LastModified is the event's time"
    );

    // The same event again, as the rule would invoke the function directly: nothing is sent.
    let duplicate = monitor.invoke(&body);
    let response = duplicate.response();
    assert_eq!(
        (
            response["marked"].as_u64(),
            response["already_known"].as_u64()
        ),
        (Some(0), Some(1))
    );
    assert_eq!(response["resolved"], 0, "{response:#}");
    assert_eq!(response["requests"]["put"], 0, "{response:#}");
    assert_eq!(response["outputs"], Value::Null, "{response:#}");
    let requests = &response["requests"];
    assert_eq!(
        (
            response["registry"].as_str(),
            requests["get"].as_u64(),
            requests["head"].as_u64()
        ),
        (Some("trusted"), Some(1), Some(0)),
        "the second event invocation of the container, within 5 minutes of the first, uses \
         the registry it kept without a request and reads only the ledger: {response:#}"
    );
    assert_eq!(
        check_results(&world.aws.s3, &world.bucket).await.unwrap(),
        results,
        "a duplicate writes nothing new"
    );
    assert!(world.sns_messages().await.is_empty());
    assert_eq!(world.telegram.delivered().len(), telegram_before + 1);

    // The next pass trusts the ledger: no probe for it, nothing sent.
    let next = monitor.pass(Utc::now());
    assert_eq!(
        next.response()["counts"]["fresh"],
        1,
        "{:#}",
        next.response()
    );
    assert_eq!(next.response()["resolved"], 0);
    let heartbeat = world.heartbeat().await;
    let requests = &heartbeat["requests"];
    assert_eq!(
        (requests["head"].as_u64(), requests["list"].as_u64()),
        (Some(1), Some(0)),
        "the page's history digest only: {requests:#}"
    );
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let prices = row(&results, "prices");
    assert_eq!(prices["state"], "fresh");
    assert_eq!(
        prices["last_probed_at"], body["time"],
        "the event, not a HEAD: {prices:#}"
    );
    assert!(world.sns_messages().await.is_empty());

    let lines = monitor.await_log_lines("object events", 2);
    assert_eq!(lines.len(), 2, "{}", monitor.all_logs());
    assert_eq!(lines[1]["already_known"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_a_registry_that_cannot_be_read_fails_the_batch_for_the_queue_to_retry() {
    let world = World::with_ids(&[]).await;
    let monitor = Monitor::start(&world.env_with("REGISTRY_KEY", Some("nowhere/registry.yaml")));
    let event = json!({"Records": [{
        "messageId": "m1", "eventSource": "aws:sqs",
        "body": json!({"source": "aws.s3", "detail-type": "Object Created",
                       "time": "2026-01-01T00:00:00Z",
                       "detail": {"bucket": {"name": world.bucket}, "object": {"key": "k"}}}).to_string()
    }]});
    let outcome = monitor.invoke(&event);
    let (error_type, message) = outcome.error();
    assert_eq!(error_type, "FreshnessMonitor.RegistryError");
    assert!(message.contains("nowhere/registry.yaml"), "{message}");
}

#[tokio::test(flavor = "multi_thread")]
async fn events_on_a_pass_before_the_deadline_does_not_poll_what_this_cycle_found_missing() {
    let world = World::with_ids(&[]).await;
    // Due at 10:00 (alerting from 10:01): the passes before it cannot alert.
    let registry =
        registry(&world.bucket).replace("sla_minutes_after_cron: 0", "sla_minutes_after_cron: 600");
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    let monitor = Monitor::start(&world.env_with("OBJECT_EVENTS", Some("on")));
    let at = |time: &str| format!("2026-06-03T{time}:00Z").parse::<chrono::DateTime<Utc>>();
    let probes = |heartbeat: &Value| heartbeat["requests"]["head"].as_u64().unwrap();

    monitor.pass(at("00:15").unwrap());
    assert_eq!(
        probes(&world.heartbeat().await),
        2,
        "the cycle's first probe and the history digest's HEAD"
    );
    monitor.pass(at("00:30").unwrap());
    assert_eq!(
        probes(&world.heartbeat().await),
        1,
        "the history digest's HEAD only"
    );
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let prices = row(&results, "prices");
    assert_eq!(
        (&prices["state"], &prices["last_probed_at"]),
        (&json!("missing"), &json!("2026-06-03T00:15:00Z")),
        "{prices:#}"
    );
    assert!(
        (prices["reason"].as_str().unwrap())
            .ends_with("object events report its landing, so this pass did not probe it"),
        "{prices:#}"
    );

    // Once it can alert, it is probed again.
    let late = monitor.pass(at("10:15").unwrap());
    assert_eq!(late.response()["alerted"], 1, "{:#}", late.response());
    assert_eq!(probes(&world.heartbeat().await), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn events_on_a_cycle_awaits_its_event_and_a_lost_one_alerts_once_at_the_deadline_probe() {
    let world = World::with_ids(&[]).await;
    // Due at 10:00 (alerting from 10:01): the passes before it cannot alert.
    let registry =
        registry(&world.bucket).replace("sla_minutes_after_cron: 0", "sla_minutes_after_cron: 600");
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    let (queue_url, queue_arn) = route_object_created_to_a_queue(&world).await;
    let monitor = Monitor::start(&world.env_with("OBJECT_EVENTS", Some("on")));

    // Today's object lands and its event (what moto's S3 emitted) marks it: the bucket's
    // events are known to flow from today on.
    let today = Utc::now().date_naive();
    put(
        &world.aws.s3,
        &world.bucket,
        &format!("data/{today}/prices.json"),
        "{}",
    )
    .await;
    let message = one_message(&world, &queue_url).await;
    let batch = monitor.invoke(&sqs_event(&message, &queue_arn));
    assert_eq!(batch.response()["marked"], 1, "{:#}", batch.response());
    let ledger = get_json(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/ledger.json",
    )
    .await
    .unwrap();
    assert!(
        ledger["object_events_since"][&world.bucket].is_string(),
        "{ledger:#}"
    );

    // Tomorrow's cycle ticks after that: its passes before the deadline do not probe it, and
    // its event is lost (tomorrow's object is never written).
    let tomorrow = |time: &str| {
        format!("{}T{time}:00Z", today.succ_opt().unwrap())
            .parse::<chrono::DateTime<Utc>>()
            .unwrap()
    };
    let probes = |heartbeat: &Value| heartbeat["requests"]["head"].as_u64().unwrap();
    for time in ["00:15", "09:45"] {
        let early = monitor.pass(tomorrow(time));
        assert_eq!(early.response()["alerted"], 0, "{:#}", early.response());
        assert_eq!(
            probes(&world.heartbeat().await),
            1,
            "the history digest's HEAD only, at {time}"
        );
        let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
        let prices = row(&results, "prices");
        assert_eq!(
            (
                &prices["state"],
                &prices["alerting"],
                &prices["last_probed_at"]
            ),
            (&json!("missing"), &json!(false), &Value::Null),
            "{prices:#}"
        );
        assert!(
            (prices["reason"].as_str().unwrap()).starts_with("not probed yet in this cycle"),
            "{prices:#}"
        );
    }
    assert!(
        world.sns_messages().await.is_empty(),
        "nothing sent before the deadline"
    );

    // The deadline pass probes, confirms the absence, alerts once.
    let deadline = monitor.pass(tomorrow("10:01"));
    assert_eq!(
        deadline.response()["alerted"],
        1,
        "{:#}",
        deadline.response()
    );
    assert_eq!(
        probes(&world.heartbeat().await),
        2,
        "the probe and the digest"
    );
    let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
    let prices = row(&results, "prices");
    let probed_at = format!("{}T10:01:00Z", today.succ_opt().unwrap());
    assert_eq!(
        (
            &prices["state"],
            &prices["alerting"],
            &prices["last_probed_at"]
        ),
        (&json!("missing"), &json!(true), &json!(probed_at)),
        "{prices:#}"
    );
    assert_eq!(world.sns_messages().await.len(), 1);
    // The same moment again (the schedule redelivered) and the next pass: no second alert.
    let again = monitor.pass(tomorrow("10:01"));
    assert_eq!(again.response()["alerted"], 0, "{:#}", again.response());
    let next = monitor.pass(tomorrow("10:15"));
    assert_eq!(next.response()["alerted"], 0, "{:#}", next.response());
    assert!(world.sns_messages().await.is_empty());
}
