//! The monitor when the world misbehaves (issue 7): the built binary as a Lambda (loopback
//! Runtime API) against moto, with a [`FaultProxy`] between them that stalls or fails chosen
//! requests, or with S3 gone entirely; Telegram on loopback servers that fail. Each test says
//! what a user would notice: which rows turn `probe_failed` and why, what is still written,
//! what still goes out, what the invocation reports, and that the bot token never shows.
//!
//! The README's "What it survives" section lists these tests line by line.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::support::aws::{self, get_bytes, keys_in};
use crate::support::events::scheduled_event;
use crate::support::function::Function;
use crate::support::loopback::{CannedServer, Fault, FaultProxy, SilentServer};
use crate::support::moto;
use crate::support::results::{REGISTRY_KEY, check_results, cycle_verdict, heartbeat, row};
use crate::support::scenario::Scenario;
use crate::support::world::{Monitor, TOKEN, World, channel_error, ids_in};

fn moto_addr() -> SocketAddr {
    format!("127.0.0.1:{}", moto::shared().port)
        .parse()
        .unwrap()
}

/// One more artifact for a [`Scenario`] registry: critical, alerting as soon as it is missing.
fn artifact(id: &str, key: &str) -> String {
    format!(
        "  - artifact_id: {id}\n    s3_key_template: {key}\n    cadence: continuous\n    \
         interval_minutes: 30\n    sla_minutes_after_cron: 0\n    severity: critical\n    \
         owner_repo: faults\n    created_at: 2025-01-01\n"
    )
}

fn count_faulted(proxy: &FaultProxy, needle: &str) -> usize {
    proxy
        .faulted()
        .iter()
        .filter(|r| r.contains(needle))
        .count()
}

// ---------------------------------------------------------------------------------------
// S3 faults
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn faults_s3_500_and_503_for_some_keys_fail_only_those_artifacts() {
    let s3 = aws::s3().await;
    let extra = artifact("flaky_500", "flaky/500/report.json")
        + &artifact("flaky_503", "flaky/503/report.json");
    let scenario = Scenario::build(&s3, &extra).await;
    let proxy = FaultProxy::start(moto_addr(), |request| {
        if request.target.contains("/flaky/500/") {
            Fault::s3_error(
                500,
                "Internal Server Error",
                "InternalError",
                "We encountered an internal error. Please try again.",
            )
        } else if request.target.contains("/flaky/503/") {
            Fault::s3_error(
                503,
                "Slow Down",
                "SlowDown",
                "Please reduce your request rate.",
            )
        } else {
            Fault::Forward
        }
    });
    let function = Function::start(&proxy.endpoint(), &[("REGISTRY_BUCKET", &scenario.bucket)]);

    let response = function.pass(scenario.now).response().clone();
    assert_eq!(
        response["counts"],
        json!({"fresh": 2, "stale": 1, "missing": 1, "probe_failed": 3, "grace_period": 1, "suspect": 0}),
        "the two flaky artifacts (and the scenario's typo) only: {response:#}"
    );
    assert!(
        count_faulted(&proxy, "/flaky/500/") >= 2 && count_faulted(&proxy, "/flaky/503/") >= 2,
        "the SDK retried each before giving up: {:?}",
        proxy.faulted()
    );

    let results = check_results(&s3, &scenario.bucket)
        .await
        .expect("the pass completes and writes its results");
    let bucket = &scenario.bucket;
    for (id, reason) in [
        (
            "flaky_500",
            format!(
                "HEAD s3://{bucket}/flaky/500/report.json: S3 server error (HTTP 500) after retries"
            ),
        ),
        (
            "flaky_503",
            format!(
                "HEAD s3://{bucket}/flaky/503/report.json: throttled by S3 (HTTP 503) after retries"
            ),
        ),
    ] {
        let r = row(&results, id);
        assert_eq!(r["state"], "probe_failed", "{r}");
        assert_eq!(r["reason"], reason);
        assert_eq!(r["alerting"], true, "probe failures alert at once");
        assert_eq!(r["recovery_substituted"], false);
    }
    assert_eq!(row(&results, "fresh_signal")["state"], "fresh");
    assert_eq!(row(&results, "stale_manifest")["state"], "stale");
    assert_eq!(row(&results, "missing_report")["state"], "missing");
    let heartbeat = heartbeat(&s3, bucket).await.expect("heartbeat written");
    assert_eq!(heartbeat["counts"]["probe_failed"], 3);
    assert!(cycle_verdict(&s3, bucket).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_stalled_probes_stop_at_the_deadline_and_the_pass_answers_in_time() {
    let s3 = aws::s3().await;
    let extra: String = (1..=12)
        .map(|i| artifact(&format!("stalled_{i:02}"), &format!("stall/{i:02}.json")))
        .collect();
    let scenario = Scenario::build(&s3, &extra).await;
    let proxy = FaultProxy::start(moto_addr(), |request| {
        if request.target.contains("/stall/") {
            Fault::Silent
        } else {
            Fault::Forward
        }
    });
    let function = Function::start(
        &proxy.endpoint(),
        &[
            ("REGISTRY_BUCKET", &scenario.bucket),
            ("PROBE_CONCURRENCY", "2"),
            ("PROBE_TIMEOUT_SECONDS", "2"),
        ],
    );

    // 12 stalled probes, two at a time, 2 s each, need 12 s; the invocation has 14 s, of which
    // the last probe's timeout and the output reserve (5 s) are kept back.
    let budget = Duration::from_secs(14);
    let started = Instant::now();
    let id = function
        .api
        .invoke(scheduled_event(scenario.now).to_string(), budget);
    let outcome = function.api.wait(&id);
    let elapsed = started.elapsed();
    let response = outcome.response();
    assert!(
        elapsed < budget,
        "the function answered after its deadline ({elapsed:?} of {budget:?})"
    );
    assert_eq!(response["n_entries_checked"], 18);

    let results = check_results(&s3, &scenario.bucket)
        .await
        .expect("outputs written before the deadline");
    let stalled: Vec<&Value> = (1..=12)
        .map(|i| row(&results, &format!("stalled_{i:02}")))
        .collect();
    let timed_out = stalled
        .iter()
        .filter(|r| {
            r["reason"]
                .as_str()
                .unwrap()
                .ends_with("timed out after 2.0s waiting for the store")
        })
        .count();
    let not_started = stalled
        .iter()
        .filter(|r| r["reason"].as_str().unwrap().contains("deadline"))
        .count();
    for r in &stalled {
        assert_eq!(r["state"], "probe_failed", "{r}");
    }
    assert!(timed_out >= 1, "some stalled probes ran to their timeout");
    assert!(
        not_started >= 1,
        "the pass stopped starting probes in time: {stalled:#?}"
    );
    assert_eq!(timed_out + not_started, 12, "{stalled:#?}");
    assert_eq!(row(&results, "fresh_signal")["state"], "fresh");
    assert_eq!(
        row(&results, "missing_report")["state"],
        "missing",
        "the probes before the stalled ones were judged"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_s3_stalled_or_refusing_entirely_fails_the_invocation_before_its_deadline() {
    let silent = SilentServer::start();
    let refused = moto::refused_endpoint();
    let bucket = moto::unique_bucket("faults-gone");
    // A refused connection is retried with backoff; its call timeout is long enough for the
    // retries to end first, so the error names the refusal rather than the clock.
    for (endpoint, timeout, cause) in [
        (
            silent.endpoint(),
            "2",
            "timed out after 2.0s waiting for the store",
        ),
        (refused, "20", "could not connect to the store: "),
    ] {
        let function = Function::start(
            &endpoint,
            &[
                ("REGISTRY_BUCKET", &bucket),
                ("PROBE_TIMEOUT_SECONDS", timeout),
            ],
        );
        let budget = Duration::from_secs(30);
        let started = Instant::now();
        let id = function.api.invoke(json!({}).to_string(), budget);
        let (error_type, message) = function.api.wait(&id).error();
        assert!(started.elapsed() < budget, "{endpoint}: past the deadline");
        assert_eq!(error_type, "FreshnessMonitor.RegistryError", "{message}");
        assert!(
            message.starts_with(&format!(
                "registry s3://{bucket}/{} cannot be read: {cause}",
                REGISTRY_KEY
            )),
            "{endpoint}: {message}"
        );
        if cause.starts_with("could not connect") {
            assert!(
                message.to_ascii_lowercase().contains("refused"),
                "{message}"
            );
        }
        let summary = function.await_log_lines("pass complete", 1);
        assert_eq!(summary.len(), 1, "{}", function.all_logs());
        assert_eq!(summary[0]["outputs_written"], false);
        assert!(
            summary[0]["write_error"].is_string(),
            "the failed heartbeat write is logged: {}",
            summary[0]
        );
    }
    assert!(silent.connections.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_results_write_denied_still_alerts_logs_and_fails_the_invocation() {
    let world = World::new(3).await;
    let results_prefix = format!("/{}/_freshness_monitor/", world.bucket);
    let proxy = FaultProxy::start(moto_addr(), move |request| {
        if request.method == "PUT" && request.target.starts_with(&results_prefix) {
            Fault::s3_error(403, "Forbidden", "AccessDenied", "Access Denied")
        } else {
            Fault::Forward
        }
    });
    let mut env = world.env();
    env.push(("AWS_ENDPOINT_URL", proxy.endpoint()));
    let monitor = Monitor::start(&env);

    let (error_type, message) = monitor.pass("2026-05-30T12:30:00Z").error();
    assert_eq!(error_type, "FreshnessMonitor.OutputWriteFailed");
    assert_eq!(
        message,
        format!(
            "writing the results to s3://{b}/_freshness_monitor/ failed: access denied (HTTP \
             403) writing s3://{b}/_freshness_monitor/check_results.json: the role needs \
             s3:PutObject there",
            b = world.bucket
        )
    );
    // The alerts went out before the writes, on both channels, and were recorded.
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1, "{sns:#?}");
    assert_eq!(ids_in(sns[0]["Message"].as_str().unwrap(), 3), 3);
    assert_eq!(world.telegram.delivered().len(), 1);
    let markers = world.markers().await;
    assert_eq!(markers.len(), 3);
    assert!(markers.iter().all(|(_, m)| m["publish_count"] == 1));
    // Every output was attempted, none written; the heartbeat twice: the ledger's PUT was
    // refused too, so it is written again saying so (docs/lambda.md#round-trips).
    for (name, attempts) in [
        ("check_results.json", 1),
        ("cycle_verdict.json", 1),
        ("status.html", 1),
        ("ledger.json", 1),
        ("heartbeat.json", 2),
    ] {
        let faulted = proxy.faulted();
        assert_eq!(count_faulted(&proxy, name), attempts, "{faulted:?}");
    }
    assert!(
        world
            .aws
            .s3
            .head_object()
            .bucket(&world.bucket)
            .key("_freshness_monitor/heartbeat.json")
            .send()
            .await
            .is_err()
    );

    monitor.await_log_lines("invocation failed", 1);
    let logs = monitor.all_logs();
    let summary: Value = logs
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["message"] == "pass complete")
        .expect("the pass's summary line");
    assert_eq!(summary["outputs_written"], false, "{summary}");
    assert_eq!(summary["alerts_sent"], 3);
    assert!(
        summary["write_error"]
            .as_str()
            .unwrap()
            .contains("s3:PutObject"),
        "{summary}"
    );
    assert!(logs.contains("\"error_type\":\"FreshnessMonitor.OutputWriteFailed\""));

    // The next pass of the same cycle does not page again: the markers were written.
    let (error_type, _) = monitor.pass("2026-05-30T12:45:00Z").error();
    assert_eq!(error_type, "FreshnessMonitor.OutputWriteFailed");
    assert!(world.sns_messages().await.is_empty());
}

// ---------------------------------------------------------------------------------------
// SSM and dedup faults
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn faults_ssm_parameter_missing_leaves_telegram_reported_and_sns_working() {
    let world = World::new(3).await;
    let absent = format!("/{}/telegram/no-such-token", world.bucket);
    let monitor = Monitor::start(&world.env_with("TELEGRAM_BOT_TOKEN_PARAM", Some(&absent)));

    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "SNS delivered: {response:#}");
    assert_eq!(world.sns_messages().await.len(), 1);
    assert!(world.telegram.received().is_empty());
    let heartbeat = world.heartbeat().await;
    assert_eq!(
        channel_error(&heartbeat, "telegram"),
        format!(
            "Telegram credentials: SSM parameter {absent} (TELEGRAM_BOT_TOKEN_PARAM) does not exist"
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_ssm_parameter_not_decryptable_leaves_telegram_reported_and_sns_working() {
    let world = World::new(3).await;
    let token_param = world.token_param.clone();
    let proxy = FaultProxy::start(moto_addr(), move |request| {
        let body = String::from_utf8_lossy(&request.body);
        if request.header("x-amz-target") == Some("AmazonSSM.GetParameter")
            && body.contains(&token_param)
        {
            // What SSM answers when the parameter's KMS key cannot decrypt it.
            Fault::json_error(
                400,
                "Bad Request",
                "AccessDeniedException",
                "The ciphertext refers to a customer master key that does not exist, does not \
                 exist in this region, or you are not allowed to access.",
            )
        } else {
            Fault::Forward
        }
    });
    let mut env = world.env();
    env.push(("AWS_ENDPOINT_URL", proxy.endpoint()));
    let monitor = Monitor::start(&env);

    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "SNS delivered: {response:#}");
    assert_eq!(world.sns_messages().await.len(), 1);
    assert!(world.telegram.received().is_empty());
    assert!(count_faulted(&proxy, "POST /") >= 1, "the fault was hit");
    let error = channel_error(&world.heartbeat().await, "telegram");
    assert!(
        error.starts_with(&format!(
            "Telegram credentials: reading SSM parameter {} (TELEGRAM_BOT_TOKEN_PARAM) failed: ",
            world.token_param
        )) && error.contains("AccessDeniedException")
            && error.contains("customer master key"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_dedup_store_unreachable_still_alerts_and_the_heartbeat_says_so() {
    let world = World::new(3).await;
    let proxy = FaultProxy::start(moto_addr(), |request| {
        if request.target.contains("/_alerts/_dedup/") {
            Fault::Silent
        } else {
            Fault::Forward
        }
    });
    let mut env = world.env();
    env.push(("AWS_ENDPOINT_URL", proxy.endpoint()));
    env.push(("PROBE_TIMEOUT_SECONDS", "2".to_string()));
    let monitor = Monitor::start(&env);

    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "never silent: {response:#}");
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1);
    let message = sns[0]["Message"].as_str().unwrap();
    assert!(
        message.contains("dedup markers could not be written for 3 of these, so they may repeat"),
        "{message}"
    );
    assert_eq!(world.telegram.delivered().len(), 1);
    assert!(count_faulted(&proxy, "/_alerts/_dedup/") >= 3);

    let heartbeat = world.heartbeat().await;
    let dedup_error = heartbeat["alerts"]["dedup_error"]
        .as_str()
        .unwrap_or_else(|| panic!("the heartbeat says dedup was degraded: {heartbeat:#}"));
    assert_eq!(
        dedup_error,
        format!(
            "dedup markers in s3://{}/_alerts/_dedup/ could not be used for 3 alerts: timed out \
             after 2.0s waiting for the store (alerts are sent without dedup and may repeat)",
            world.bucket
        )
    );
    assert!(world.markers().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_a_pass_killed_between_claim_and_publish_is_taken_over_after_15_minutes() {
    let world = World::new(1).await;
    // The first container's only channel is a Telegram that never answers: it claims the
    // marker, starts sending, and is killed mid-send.
    let stalled_telegram = SilentServer::start();
    let mut env: Vec<(&'static str, String)> = world
        .env()
        .into_iter()
        .filter(|(n, _)| *n != "SNS_TOPIC_ARN" && *n != "TELEGRAM_API_BASE")
        .collect();
    env.push(("TELEGRAM_API_BASE", stalled_telegram.endpoint()));
    let doomed = Monitor::start(&env);
    doomed.api.invoke(
        scheduled_event("2026-05-30T12:30:00Z").to_string(),
        Duration::from_secs(120),
    );
    let wait_until = Instant::now() + Duration::from_secs(60);
    while stalled_telegram.connections.load(Ordering::SeqCst) == 0 {
        assert!(Instant::now() < wait_until, "the doomed pass never sent");
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(doomed); // killed between its claim and its publish
    let markers = world.markers().await;
    assert_eq!(markers.len(), 1, "the claim is left behind");
    assert_eq!(markers[0].1["publish_count"], 0, "{:#}", markers[0].1);

    let monitor = Monitor::start(&world.env());
    let held = monitor.pass("2026-05-30T12:40:00Z").response().clone();
    assert_eq!(
        held["alerted"], 0,
        "a 10-minute-old claim may still be in flight: {held:#}"
    );
    assert_eq!(held["deduplicated"], 1);
    assert!(world.sns_messages().await.is_empty());

    let taken = monitor.pass("2026-05-30T12:45:00Z").response().clone();
    assert_eq!(
        taken["alerted"], 1,
        "the claim is abandoned after 15 minutes: {taken:#}"
    );
    assert_eq!(world.sns_messages().await.len(), 1);
    assert_eq!(world.telegram.delivered().len(), 1);
    let markers = world.markers().await;
    assert_eq!(markers[0].1["publish_count"], 1);
    monitor.await_log_lines("pass complete", 2);
    assert!(
        monitor
            .all_logs()
            .contains("took over an abandoned or unreadable dedup claim")
    );
    // And it stays at one alert for the cycle.
    let after = monitor.pass("2026-05-30T13:00:00Z").response().clone();
    assert_eq!(after["alerted"], 0);
    assert!(world.sns_messages().await.is_empty());
}

// ---------------------------------------------------------------------------------------
// Bad events
// ---------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread")]
async fn faults_huge_deep_and_far_off_events_are_answered_and_the_container_survives() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let function = Function::on_moto(&[("REGISTRY_BUCKET", &scenario.bucket)]);

    let long = "x".repeat(1 << 20);
    let many_ids: Vec<String> = (0..100_000).map(|i| format!("artifact_{i}")).collect();
    let mut scheduled_long_time = scheduled_event(scenario.now);
    scheduled_long_time["time"] = json!(format!("2026-05-30T12:00:00Z{long}"));
    let rejected = [
        (json!({ long.clone(): true }), "unknown field \"xxxxxxxx"),
        (
            json!({"dry_run": true, "now": long.clone()}),
            "\"now\" \"xxxxxxxx",
        ),
        (
            scheduled_long_time,
            "the scheduled event's \"time\" \"2026-05-30T12:00:00Zxxxx",
        ),
        (
            json!({"dry_run": true, "only": many_ids}),
            "\"only\" names artifact ids the registry does not have: artifact_0, artifact_1",
        ),
        (
            json!({"dry_run": true, "now": "10000-01-01T00:00:00Z"}),
            "\"now\" \"10000-01-01T00:00:00Z\" is not an RFC 3339 time",
        ),
    ];
    for (event, start) in rejected {
        let (error_type, message) = function.invoke(&event).error();
        assert_eq!(error_type, "FreshnessMonitor.InvalidEvent");
        assert!(
            message.starts_with(&format!("unsupported event: {start}")),
            "{}",
            &message[..message.len().min(300)]
        );
        assert!(
            message.len() < 2_000,
            "the message quotes a bounded part of the input, not {} bytes",
            message.len()
        );
    }

    // Nesting past the JSON parser's limit is an invalid event, naming where (in part).
    let deep = "[".repeat(100_000) + &"]".repeat(100_000);
    let id = function
        .api
        .invoke(format!("{{\"dry_run\": {deep}}}"), Duration::from_secs(60));
    let (error_type, message) = function.api.wait(&id).error();
    assert_eq!(error_type, "FreshnessMonitor.InvalidEvent");
    assert!(
        message.starts_with("unsupported event: the event's field \"dry_run[0][0]")
            && message.contains("cannot be read: recursion limit exceeded")
            && message.len() < 2_000,
        "{message}"
    );

    // `now` anywhere RFC 3339 can name: judged, no panic.
    for now in [
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+23:59",
        "1969-12-31T23:59:59Z",
        "9999-12-31T23:59:59-23:59",
        "9999-12-31T23:59:59Z",
    ] {
        let response = function
            .invoke(&json!({"dry_run": true, "now": now}))
            .response()
            .clone();
        assert_eq!(response["n_entries_checked"], 6, "{now}: {response:#}");
        let counts = &response["counts"];
        let total: u64 = ["fresh", "stale", "missing", "probe_failed", "grace_period"]
            .iter()
            .map(|s| counts[s].as_u64().unwrap())
            .sum();
        assert_eq!(total, 6, "{now}: {counts}");
    }

    assert!(
        keys_in(&s3, &scenario.bucket).await.len() == 4,
        "nothing was written by rejected or dry-run events"
    );
    // The container still runs a real pass.
    let real = function.pass(scenario.now);
    assert_eq!(real.response()["n_entries_checked"], 6);
    assert_eq!(
        function.await_log_lines("pass complete", 7).len(),
        7,
        "six dry runs (the one with 100,000 unknown ids runs before it is refused) and one pass"
    );
    assert!(!function.all_logs().contains("panicked"));
}

// ---------------------------------------------------------------------------------------
// The bot token
// ---------------------------------------------------------------------------------------

/// Everything a test can see of a container: its logs (stdout and stderr, so panics too),
/// every invocation's answer or error, and every object in the bucket (results, heartbeat,
/// markers).
async fn everything_seen(world: &World, monitor: &Monitor, outcomes: &[String]) -> String {
    let mut seen = monitor.all_logs();
    for outcome in outcomes {
        seen.push('\n');
        seen.push_str(outcome);
    }
    for key in keys_in(&world.aws.s3, &world.bucket).await {
        let bytes = get_bytes(&world.aws.s3, &world.bucket, &key)
            .await
            .unwrap_or_else(|| panic!("read s3://{}/{key}", world.bucket));
        seen.push('\n');
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_the_telegram_token_never_appears_in_logs_results_or_errors() {
    let secret = TOKEN.split_once(':').unwrap().1;
    let encoded_path = format!("/bot{}/sendMessage", TOKEN.replace(':', "%3A"));
    // Servers that echo the request path (plain and percent-encoded) in their answers, as a
    // misconfigured proxy or a web server's error page does.
    let echo_404: &'static str = Box::leak(
        json!({"ok": false, "error_code": 404,
               "description": format!("Not Found: /bot{TOKEN}/sendMessage")})
        .to_string()
        .into_boxed_str(),
    );
    let echo_502: &'static str = Box::leak(
        format!("<html><body>502 Bad Gateway for {encoded_path}</body></html>").into_boxed_str(),
    );
    let not_found = CannedServer::start(404, "Not Found", echo_404);
    let bad_gateway = CannedServer::start(502, "Bad Gateway", echo_502);
    let refused = moto::refused_endpoint();

    for (base, cycle) in [
        (not_found.endpoint(), "2026-05-30T12:30:00Z"),
        (bad_gateway.endpoint(), "2026-06-06T12:30:00Z"),
        (refused, "2026-06-13T12:30:00Z"),
    ] {
        let world = World::new(2).await;
        // Telegram is the only channel, so its error is also the invocation's.
        let mut env: Vec<(&'static str, String)> = world
            .env()
            .into_iter()
            .filter(|(n, _)| *n != "SNS_TOPIC_ARN" && *n != "TELEGRAM_API_BASE")
            .collect();
        env.push(("TELEGRAM_API_BASE", base.clone()));
        env.push(("RUST_LOG", "trace".to_string()));
        let monitor = Monitor::start(&env);
        let outcome = monitor.pass(cycle);
        let (error_type, message) = outcome.error();
        assert_eq!(error_type, "FreshnessMonitor.AlertDeliveryFailed", "{base}");
        assert!(message.contains("telegram: "), "{message}");
        monitor.await_log_lines("invocation failed", 1);
        let seen = everything_seen(&world, &monitor, &[message, format!("{outcome:?}")]).await;
        assert!(
            seen.contains("alert digest not delivered on a channel"),
            "the failure itself is logged"
        );
        for leaked in [TOKEN, secret] {
            if let Some(at) = seen.find(leaked) {
                panic!(
                    "{base}: the token leaked: …{}…",
                    &seen[at.saturating_sub(200)..(at + 100).min(seen.len())]
                );
            }
        }
    }
    assert!(not_found.requests.load(Ordering::SeqCst) >= 1);
    assert!(bad_gateway.requests.load(Ordering::SeqCst) >= 1);
}
