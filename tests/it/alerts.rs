//! Alert delivery end to end: the built binary as a Lambda (loopback Runtime API), S3, SNS and
//! SSM on moto, SNS read back through an SQS queue subscribed to the topic, Telegram on a
//! loopback server. Each test has its own bucket, topic, queue, parameters and Telegram server.
//!
//! Pass times come from the scheduled event's `time`, so cycles are chosen freely: the
//! artifacts use `saturday_sf` (tick Saturday 09:00 UTC, SLA 180 min, due 12:00).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::support;
use crate::support::aws::put;
use crate::support::events::scheduled_event;
use crate::support::results::{REGISTRY_KEY, check_results};
use crate::support::scenario::LocalScenario;
use crate::support::telegram_server::Reply;
use crate::support::world::{Monitor, TOKEN, World, channel_error, ids_in, marker_key, registry};

fn t(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn assert_original_shape(marker: &Value) {
    let object = marker.as_object().expect("a marker is an object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "dedup_key",
            "first_published_at",
            "last_published_at",
            "message_preview",
            "publish_count"
        ],
        "{marker:#}"
    );
    assert!(marker["dedup_key"].is_string());
    assert!(marker["publish_count"].is_u64());
    assert!(marker["message_preview"].is_string());
    for field in ["first_published_at", "last_published_at"] {
        let text = marker[field].as_str().unwrap();
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%SZ")
            .unwrap_or_else(|e| panic!("{field} {text:?} is not %Y-%m-%dT%H:%M:%SZ: {e}"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_one_digest_per_channel_then_silence_for_the_cycle_then_again_next_cycle() {
    let world = World::new(3).await;
    let monitor = Monitor::start(&world.env());

    // Cycle 2026-W22 (due Saturday 12:00): the first pass after the SLA alerts.
    let first = monitor.pass("2026-05-30T12:30:00Z");
    let response = first.response();
    assert_eq!(response["alerted"], 3, "{response:#}");
    assert_eq!(response["alerts_enabled"], true);

    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1, "one SNS message: {sns:#?}");
    let message = sns[0]["Message"].as_str().unwrap();
    assert_eq!(ids_in(message, 3), 3, "{message}");
    let subject = sns[0]["Subject"].as_str().unwrap();
    assert!(subject.is_ascii() && subject.len() <= 100, "{subject:?}");
    assert!(subject.starts_with("[CRITICAL]"), "{subject}");
    assert_eq!(
        sns[0]["MessageAttributes"]["severity"]["Value"], "critical",
        "{:#}",
        sns[0]
    );

    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 1, "one Telegram message");
    assert_eq!(ids_in(telegram[0].text(), 3), 3, "{}", telegram[0].text());
    assert_eq!(
        telegram[0].body["disable_notification"], false,
        "critical pushes"
    );
    assert_eq!(telegram[0].body["chat_id"], json!(-1001234567890i64));
    assert!(telegram[0].body.get("parse_mode").is_none(), "plain text");
    assert_eq!(telegram[0].path, format!("/bot{TOKEN}/sendMessage"));

    let markers = world.markers().await;
    assert_eq!(markers.len(), 3);
    for (key, marker) in &markers {
        assert_original_shape(marker);
        assert_eq!(marker["publish_count"], 1);
        assert_eq!(
            key,
            &marker_key(marker["dedup_key"].as_str().unwrap()),
            "the original monitor's place"
        );
    }
    assert!(
        markers
            .iter()
            .any(|(_, m)| m["dedup_key"] == "freshness_artifact_01_2026-W22")
    );
    let heartbeat = world.heartbeat().await;
    assert_eq!(heartbeat["alerts"]["sent"], 3, "{heartbeat:#}");

    // Four more passes in the same cycle: nothing goes out.
    for time in [
        "2026-05-30T12:45:00Z",
        "2026-05-30T13:00:00Z",
        "2026-05-30T13:15:00Z",
        "2026-05-31T09:00:00Z",
    ] {
        let response = monitor.pass(time).response().clone();
        assert_eq!(response["alerted"], 0, "{time}: {response:#}");
        assert_eq!(response["deduplicated"], 3, "{time}: {response:#}");
    }
    assert!(world.sns_messages().await.is_empty());
    assert_eq!(world.telegram.delivered().len(), 1);

    // The next cycle (2026-W23) alerts again, once.
    let next = monitor.pass("2026-06-06T12:30:00Z");
    assert_eq!(next.response()["alerted"], 3);
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1);
    assert_eq!(ids_in(sns[0]["Message"].as_str().unwrap(), 3), 3);
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 2);
    assert!(telegram[1].text().contains("cycle 2026-W23"));

    // One artifact arrives late in that cycle: one RESOLVED notice, once.
    put(
        &world.aws.s3,
        &world.bucket,
        "data/2026-06-06/artifact_02.json",
        "{}",
    )
    .await;
    let late = monitor.pass("2026-06-06T14:00:00Z");
    assert_eq!(late.response()["resolved"], 1, "{:#}", late.response());
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1, "{sns:#?}");
    let notice = sns[0]["Message"].as_str().unwrap();
    assert!(
        notice.contains("RESOLVED") && notice.contains("artifact_02"),
        "{notice}"
    );
    assert_eq!(sns[0]["MessageAttributes"]["severity"]["Value"], "warning");
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 3);
    assert!(telegram[2].text().contains("[RESOLVED] artifact_02"));
    assert_eq!(
        telegram[2].body["disable_notification"], true,
        "good news is silent"
    );
    for time in ["2026-06-06T14:15:00Z", "2026-06-06T14:30:00Z"] {
        let response = monitor.pass(time).response().clone();
        assert_eq!(response["resolved"], 0, "{response:#}");
        assert_eq!(response["alerted"], 0, "{response:#}");
    }
    assert!(world.sns_messages().await.is_empty());
    assert_eq!(world.telegram.delivered().len(), 3);
    monitor.await_log_lines("pass complete", 9);
    assert!(
        !monitor.all_logs().contains(TOKEN),
        "the token leaked into the logs"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_two_passes_started_at_the_same_moment_send_each_alert_once() {
    let world = World::new(3).await;
    let a = Monitor::start(&world.env());
    let b = Monitor::start(&world.env());
    let event = scheduled_event("2026-05-30T12:30:00Z").to_string();
    let id_a = a.api.invoke(event.clone(), Duration::from_secs(120));
    let id_b = b.api.invoke(event, Duration::from_secs(120));
    let (ra, rb) = (a.api.wait(&id_a), b.api.wait(&id_b));
    let (ra, rb) = (ra.response(), rb.response());
    assert_eq!(
        ra["alerted"].as_u64().unwrap() + rb["alerted"].as_u64().unwrap(),
        3,
        "{ra:#} {rb:#}"
    );
    assert_eq!(
        ra["deduplicated"].as_u64().unwrap() + rb["deduplicated"].as_u64().unwrap(),
        3
    );
    let sns = world.sns_messages().await;
    let sent_ids: usize = sns
        .iter()
        .map(|m| ids_in(m["Message"].as_str().unwrap(), 3))
        .sum();
    assert_eq!(sent_ids, 3, "each alert once over SNS: {sns:#?}");
    let telegram_ids: usize = world
        .telegram
        .delivered()
        .iter()
        .map(|m| ids_in(m.text(), 3))
        .sum();
    assert_eq!(telegram_ids, 3, "each alert once over Telegram");
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_one_channel_failing_never_stops_the_other() {
    // SNS failing (the topic does not exist): Telegram still delivers.
    let world = World::new(3).await;
    let missing_topic = format!("{}-gone", world.topic_arn);
    let monitor = Monitor::start(&world.env_with("SNS_TOPIC_ARN", Some(&missing_topic)));
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "{response:#}");
    assert_eq!(world.telegram.delivered().len(), 1);
    let heartbeat = world.heartbeat().await;
    assert!(
        channel_error(&heartbeat, "sns").contains("SNS publish"),
        "{heartbeat:#}"
    );
    assert_eq!(world.markers().await.len(), 3, "delivered somewhere: kept");

    // Telegram failing (bot blocked, permanent): SNS still delivers, and the reason is told.
    let world = World::new(3).await;
    world.telegram.set_default(Reply::Blocked);
    let monitor = Monitor::start(&world.env());
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "{response:#}");
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1);
    assert_eq!(
        world.telegram.received().len(),
        1,
        "a permanent error is not retried"
    );
    let heartbeat = world.heartbeat().await;
    let error = channel_error(&heartbeat, "telegram");
    assert!(
        error.contains("bot was blocked") && error.contains("permanent"),
        "{error}"
    );
    assert!(!heartbeat.to_string().contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_telegram_a_send_that_timed_out_is_not_sent_again() {
    // Telegram posts the message but answers after 12 s; the request times out after
    // PROBE_TIMEOUT_SECONDS (2 s). The message may be out: it is not sent a second time.
    let world = World::new(3).await;
    world.telegram.script(&[Reply::Slow(12)]);
    let monitor = Monitor::start(&world.env_with("PROBE_TIMEOUT_SECONDS", Some("2")));
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "SNS delivered: {response:#}");
    assert_eq!(world.sns_messages().await.len(), 1);
    let received = world.telegram.received();
    assert_eq!(
        received.len(),
        1,
        "one request, never a second: {received:#?}"
    );
    let heartbeat = world.heartbeat().await;
    let error = channel_error(&heartbeat, "telegram");
    assert!(error.contains("not re-sent"), "{error}");
    assert!(!heartbeat.to_string().contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_both_channels_failing_keep_no_marker_and_the_next_pass_retries() {
    let world = World::new(3).await;
    world.telegram.set_default(Reply::Blocked);
    let missing_topic = format!("{}-later", world.topic_arn);
    let monitor = Monitor::start(&world.env_with("SNS_TOPIC_ARN", Some(&missing_topic)));

    let failed = monitor.pass("2026-05-30T12:30:00Z");
    let (error_type, message) = failed.error();
    assert_eq!(error_type, "FreshnessMonitor.AlertDeliveryFailed");
    assert!(message.contains("3 alerts reached no channel"), "{message}");
    assert!(
        message.contains("sns:") && message.contains("telegram:"),
        "{message}"
    );
    assert!(!message.contains(TOKEN));
    assert!(world.markers().await.is_empty(), "claims released");
    let heartbeat = world.heartbeat().await;
    assert_eq!(heartbeat["alerts"]["failed"], 3, "{heartbeat:#}");

    // The channels recover: the topic appears, the bot is unblocked. The next pass sends.
    let created = world
        .aws
        .sns
        .create_topic()
        .name(missing_topic.rsplit(':').next().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(created.topic_arn(), Some(missing_topic.as_str()));
    world.telegram.set_default(Reply::Ok);
    let retried = monitor.pass("2026-05-30T12:45:00Z");
    assert_eq!(retried.response()["alerted"], 3, "{:#}", retried.response());
    assert_eq!(world.telegram.delivered().len(), 1);
    assert_eq!(world.markers().await.len(), 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_a_marker_in_the_original_monitors_shape_suppresses_the_alert() {
    let world = World::new(3).await;
    // As the Python monitor writes it: isoformat with an offset and microseconds.
    let original = json!({
        "dedup_key": "freshness_artifact_02_2026-W22",
        "first_published_at": "2026-05-30T12:15:03.123456+00:00",
        "last_published_at": "2026-05-30T12:15:03.123456+00:00",
        "publish_count": 1,
        "message_preview": "[freshness] artifact_02 missing",
    });
    put(
        &world.aws.s3,
        &world.bucket,
        &marker_key("freshness_artifact_02_2026-W22"),
        &original.to_string(),
    )
    .await;
    let monitor = Monitor::start(&world.env());
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 2, "{response:#}");
    assert_eq!(response["deduplicated"], 1);
    let sns = world.sns_messages().await;
    let message = sns[0]["Message"].as_str().unwrap();
    assert!(!message.contains("artifact_02"), "{message}");
    assert_eq!(ids_in(message, 3), 2);
    for (_, marker) in world.markers().await {
        if marker["dedup_key"] == "freshness_artifact_02_2026-W22" {
            assert_eq!(marker, original, "the original's marker is left alone");
        } else {
            assert_original_shape(&marker);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_an_abandoned_claim_is_taken_over_after_15_minutes() {
    let world = World::new(1).await;
    let claim = json!({
        "dedup_key": "freshness_artifact_01_2026-W22",
        "first_published_at": "2026-05-30T12:20:00Z",
        "last_published_at": "2026-05-30T12:20:00Z",
        "publish_count": 0,
        "message_preview": "claimed by freshness-monitor; delivery in progress",
    });
    put(
        &world.aws.s3,
        &world.bucket,
        &marker_key("freshness_artifact_01_2026-W22"),
        &claim.to_string(),
    )
    .await;
    let monitor = Monitor::start(&world.env());
    let held = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(
        held["alerted"], 0,
        "a fresh claim belongs to its pass: {held:#}"
    );
    let taken = monitor.pass("2026-05-30T12:35:00Z").response().clone();
    assert_eq!(taken["alerted"], 1, "{taken:#}");
    assert_eq!(world.telegram.delivered().len(), 1);
    let markers = world.markers().await;
    assert_eq!(markers[0].1["publish_count"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_observe_mode_sends_nothing_and_writes_no_marker() {
    for (value, enabled) in [
        (None, false),
        (Some(""), false),
        (Some("false"), false),
        (Some("1"), false),
        (Some("yes"), false),
        (Some("on"), false),
        (Some("true"), true),
        (Some("TRUE"), true),
        (Some(" True "), true),
    ] {
        let world = World::new(3).await;
        let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", value));
        let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
        assert_eq!(
            response["alerts_enabled"], enabled,
            "{value:?}: {response:#}"
        );
        let sns = world.sns_messages().await;
        let telegram = world.telegram.received();
        let markers = world.markers().await;
        let results = check_results(&world.aws.s3, &world.bucket).await.unwrap();
        let heartbeat = world.heartbeat().await;
        if enabled {
            assert_eq!(response["alerted"], 3, "{value:?}");
            assert_eq!(
                (sns.len(), telegram.len(), markers.len()),
                (1, 1, 3),
                "{value:?}"
            );
        } else {
            assert_eq!(response["alerted"], 0, "{value:?}");
            assert!(sns.is_empty(), "{value:?}: {sns:#?}");
            assert!(telegram.is_empty(), "{value:?}");
            assert!(markers.is_empty(), "{value:?}");
            assert_eq!(heartbeat["alerts_enabled"], false);
            assert_eq!(heartbeat["alerts"]["would_alert"], 3, "{heartbeat:#}");
            assert_eq!(heartbeat["alerts"]["sent"], 0);
            let alerting = results["results"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["alerting"] == true)
                .count();
            assert_eq!(alerting, 3, "{value:?}: rows still marked");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_telegram_429_is_retried_long_digests_are_split_and_the_token_never_logged() {
    // 20 artifacts make a digest of over 4096 characters.
    let world = World::new(20).await;
    world.telegram.script(&[Reply::RetryAfter(1)]);
    let monitor = Monitor::start(&world.env());
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 20, "{response:#}");

    let received = world.telegram.received();
    assert_eq!(received[0].reply, Reply::RetryAfter(1));
    assert!(
        received[1].at.duration_since(received[0].at) >= Duration::from_secs(1),
        "retried only after retry_after"
    );
    assert_eq!(
        received[1].text(),
        received[0].text(),
        "the same part again"
    );
    let delivered = world.telegram.delivered();
    assert_eq!(delivered.len(), 2, "split into two messages");
    for part in &delivered {
        assert!(part.text().encode_utf16().count() <= 4096);
    }
    assert!(delivered[0].text().starts_with("[part 1/2]"));
    assert!(delivered[1].text().starts_with("[part 2/2]"));
    let all: String = delivered.iter().map(|m| m.text()).collect();
    assert_eq!(ids_in(&all, 20), 20, "nothing lost in the split");
    assert_eq!(world.sns_messages().await.len(), 1, "SNS takes it whole");

    monitor.await_log_lines("pass complete", 1);
    let logs = monitor.all_logs();
    assert!(logs.contains("alert digest sent"), "{logs}");
    assert!(!logs.contains(TOKEN), "the token leaked into the logs");
    assert!(
        !logs.contains("AAF-test-SECRET"),
        "part of the token leaked"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_a_broken_registry_alerts_at_most_hourly() {
    let world = World::new(1).await;
    put(
        &world.aws.s3,
        &world.bucket,
        REGISTRY_KEY,
        "artifacts: [unclosed",
    )
    .await;
    let monitor = Monitor::start(&world.env());
    for (time, expected) in [
        ("2026-05-30T12:00:00Z", 1),
        ("2026-05-30T12:15:00Z", 1),
        ("2026-05-30T12:45:00Z", 1),
        ("2026-05-30T13:00:00Z", 2),
    ] {
        let (error_type, _) = monitor.pass(time).error();
        assert_eq!(error_type, "FreshnessMonitor.RegistryError");
        assert_eq!(world.telegram.delivered().len(), expected, "{time}");
    }
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 2);
    assert!(sns[0]["Message"].as_str().unwrap().contains("registry"));
    let heartbeat = world.heartbeat().await;
    assert!(heartbeat["registry_error"].is_string());
}

#[test]
fn alerts_check_prints_what_would_be_sent() {
    let local = LocalScenario::new(
        &registry(
            "bucket-b",
            &["artifact_01".to_string(), "artifact_02".to_string()],
        ),
        "bucket-b",
    );
    let out = local.run(&t("2026-05-30T12:30:00Z").to_rfc3339(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let text = support::stdout(&out);
    assert!(
        text.contains("would send to sns, telegram once configured (before dedup):"),
        "{text}"
    );
    assert!(text.contains("[CRITICAL] freshness-monitor: 2 alerting: artifact_01, artifact_02"));
    assert_eq!(ids_in(&text, 2), 2, "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_a_failing_dedup_store_still_alerts_once_per_container() {
    let world = World::new(3).await;
    let mut env = world.env();
    env.push(("DEDUP_BUCKET", format!("{}-absent", world.bucket)));
    let monitor = Monitor::start(&env);
    let first = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(first["alerted"], 3, "never silent: {first:#}");
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1);
    let message = sns[0]["Message"].as_str().unwrap();
    assert!(
        message.contains("dedup markers could not be written for 3"),
        "{message}"
    );
    let second = monitor.pass("2026-05-30T12:45:00Z").response().clone();
    assert_eq!(second["alerted"], 0, "{second:#}");
    assert_eq!(second["deduplicated"], 3);
    assert!(world.sns_messages().await.is_empty());
    assert_eq!(world.telegram.delivered().len(), 1);
    monitor.await_log_lines("pass complete", 2);
    assert!(
        monitor
            .all_logs()
            .contains("dedup marker could not be claimed; sending anyway")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_run_sends_from_a_shell() {
    let world = World::new(1).await;
    // An entry with a typo is probe_failed at once, whatever the clock says.
    let registry = format!(
        "schema_version: 1\nartifacts:\n  - artifact_id: typo_artifact\n    s3_bucket: {}\n    \
         s3_key_template: typo.json\n    cadence: saturday_sf\n    sla_minute_after_cron: 30\n    \
         owner_repo: typos\n    created_at: 2025-01-01\n",
        world.bucket
    );
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    let dir = tempfile::tempdir().unwrap();
    let run = || {
        let mut cmd = support::command_on_moto(dir.path());
        cmd.env_remove("AWS_LAMBDA_RUNTIME_API");
        cmd.envs(world.env());
        cmd.arg("run").output().unwrap()
    };
    let out = run();
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let response: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(response["alerted"], 1, "{response:#}");
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1);
    assert!(
        sns[0]["Message"]
            .as_str()
            .unwrap()
            .contains("typo_artifact probe_failed")
    );
    assert_eq!(world.telegram.delivered().len(), 1);
    let again = run();
    let response: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(response["deduplicated"], 1, "{response:#}");
    assert!(world.sns_messages().await.is_empty());
    assert!(!support::stderr(&again).contains(TOKEN));
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_a_retry_after_past_the_deadline_fails_telegram_and_says_why() {
    let world = World::new(3).await;
    world.telegram.script(&[Reply::RetryAfter(3600)]);
    let monitor = Monitor::start(&world.env());
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "SNS delivered: {response:#}");
    assert_eq!(world.telegram.received().len(), 1, "no hour-long wait");
    let heartbeat = world.heartbeat().await;
    let error = channel_error(&heartbeat, "telegram");
    assert!(
        error.contains("HTTP 429") && error.contains("deadline"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn alerts_a_half_configured_telegram_is_reported_on_every_pass() {
    let world = World::new(3).await;
    let monitor = Monitor::start(&world.env_with("TELEGRAM_CHAT_ID_PARAM", None));
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "{response:#}");
    assert_eq!(world.sns_messages().await.len(), 1);
    assert!(world.telegram.received().is_empty());
    let heartbeat = world.heartbeat().await;
    assert!(
        heartbeat["alerts"]["channels"]
            .to_string()
            .contains("TELEGRAM_CHAT_ID_PARAM is not set"),
        "{heartbeat:#}"
    );
}
