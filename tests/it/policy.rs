//! The alert policy end to end (docs/alerts.md#policy): the built binary as a Lambda, S3/SNS/
//! SSM on moto, Telegram on a loopback server, one world per test. Each rule is driven
//! through the registry (and `ack` through the CLI against the same moto) and observed where
//! an operator would: the messages, the rows of `check_results.json`, the heartbeat.
//!
//! Artifacts use `saturday_sf` (due Saturday 12:00 UTC); 2026-05-30 is cycle 2026-W22 and
//! 2026-06-06 is 2026-W23.

use serde_json::Value;

use crate::support::aws::{get_json, put};
use crate::support::moto;
use crate::support::results::{REGISTRY_KEY, check_results, row};
use crate::support::scenario::LocalScenario;
use crate::support::world::{Monitor, World};
use crate::support::{command_in, stderr, stdout};

/// A registry of `(id, severity, extra lines)` artifacts and `sections` (policy, silences).
fn policy_registry(bucket: &str, artifacts: &[(&str, &str, &str)], sections: &str) -> String {
    let mut text = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  grace_period_cycles: 0\n  \
         cadence: saturday_sf\n  sla_minutes_after_cron: 180\n  created_at: 2025-01-01\n\
         {sections}artifacts:\n"
    );
    for (id, severity, extra) in artifacts {
        text.push_str(&format!(
            "  - artifact_id: {id}\n    s3_key_template: \"data/{{date}}/{id}.json\"\n    \
             severity: {severity}\n    owner_repo: {}\n{extra}",
            if id.starts_with("ml_") {
                "ml"
            } else {
                "pipelines"
            }
        ));
    }
    text
}

async fn world_with(artifacts: &[(&str, &str, &str)], sections: &str) -> World {
    let world = World::new(0).await;
    let text = policy_registry(&world.bucket, artifacts, sections);
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &text).await;
    world
}

async fn results(world: &World) -> Value {
    check_results(&world.aws.s3, &world.bucket)
        .await
        .expect("results written")
}

/// One SNS message's text (there must be exactly one).
async fn one_sns(world: &World) -> String {
    let sns = world.sns_messages().await;
    assert_eq!(sns.len(), 1, "{sns:#?}");
    sns[0]["Message"].as_str().unwrap().to_string()
}

/// `freshness-monitor ARGS` against the shared moto, as an operator's shell would run it.
fn cli(args: &[&str]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command_in(dir.path());
    for (name, value) in moto::shared().env() {
        cmd.env(name, value);
    }
    cmd.args(args).output().expect("run freshness-monitor")
}

fn ack(world: &World, id: &str, extra: &[&str]) -> std::process::Output {
    let results = format!("s3://{}/_freshness_monitor/", world.bucket);
    let registry = format!("s3://{}/{REGISTRY_KEY}", world.bucket);
    let mut args = vec!["ack", id, "--results", &results, "--registry", &registry];
    args.extend_from_slice(extra);
    cli(&args)
}

#[tokio::test(flavor = "multi_thread")]
async fn routes_give_each_channel_its_severities_and_warnings_can_reach_no_channel() {
    let world = world_with(
        &[("crit_a", "critical", ""), ("warn_b", "warning", "")],
        "alert_policy:\n  routes:\n    telegram: [critical]\n",
    )
    .await;
    let mut monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        2
    );
    let sns = one_sns(&world).await;
    assert!(
        sns.contains("crit_a missing") && sns.contains("warn_b missing"),
        "SNS, named by no route, gets everything: {sns}"
    );
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 1);
    assert!(telegram[0].text().contains("crit_a missing"));
    assert!(
        !telegram[0].text().contains("warn_b"),
        "Telegram is critical only: {}",
        telegram[0].text()
    );
    let rows = results(&world).await;
    assert_eq!(
        row(&rows, "warn_b")["policy"]["channels"],
        serde_json::json!(["sns"])
    );

    // Warning to no channel: only the results (and the status page) hear of it.
    let text = policy_registry(
        &world.bucket,
        &[("crit_a", "critical", ""), ("warn_b", "warning", "")],
        "alert_policy:\n  routes:\n    telegram: [critical]\n    sns: [critical]\n",
    );
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &text).await;
    drop(monitor);
    monitor = Monitor::start(&world.env());
    let response = monitor.pass("2026-06-06T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 1, "{response:#}");
    let sns = one_sns(&world).await;
    assert!(!sns.contains("warn_b"), "{sns}");
    let rows = results(&world).await;
    let warn = row(&rows, "warn_b");
    assert_eq!(warn["alerting"], true, "still judged alerting");
    assert_eq!(warn["policy"]["action"], "not_routed", "{warn:#}");
    assert!(
        world
            .markers()
            .await
            .iter()
            .all(|(_, m)| m["dedup_key"] != "freshness_warn_b_2026-W23"),
        "nothing claimed for an alert that goes nowhere"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silenced_artifact_is_reported_but_not_sent_until_its_window_ends() {
    let world = world_with(
        &[("quiet", "critical", ""), ("loud", "critical", "")],
        "silences:\n  - artifact_id: \"qui*\"\n    from: 2026-05-30T00:00:00Z\n    \
         until: 2026-05-30T13:00:00Z\n    reason: producer migration (OPS-12)\n",
    )
    .await;
    let monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        1
    );
    let sns = one_sns(&world).await;
    assert!(
        sns.contains("loud missing") && !sns.contains("quiet"),
        "{sns}"
    );
    let rows = results(&world).await;
    let quiet = row(&rows, "quiet");
    assert_eq!(quiet["state"], "missing");
    assert_eq!(quiet["policy"]["action"], "silenced");
    assert_eq!(
        quiet["policy"]["silenced"],
        "silences[0] (line 9): producer migration (OPS-12)"
    );
    // The window is over: it goes out on the next pass of the same cycle.
    let later = monitor.pass("2026-05-30T13:15:00Z").response().clone();
    assert_eq!(later["alerted"], 1, "{later:#}");
    assert!(one_sns(&world).await.contains("quiet missing"));
}

#[tokio::test(flavor = "multi_thread")]
async fn silenced_acknowledged_and_escalated_at_once_and_an_unreadable_ack_is_ignored() {
    let sections = "alert_policy:\n  escalate_after_cycles: 2\nsilences:\n  - artifact_id: \
                    hushed\n    from: 2026-06-01T00:00:00Z\n    until: 2026-06-08T00:00:00Z\n    \
                    reason: planned rebuild\n";
    let world = world_with(
        &[
            ("hushed", "warning", ""),
            ("acked", "warning", ""),
            ("climbs", "warning", ""),
            ("garbled", "warning", ""),
        ],
        sections,
    )
    .await;
    let monitor = Monitor::start(&world.env());
    // W22: all four alert as warnings (the silence starts later).
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        4
    );
    let first = world.telegram.delivered();
    assert_eq!(
        first[0].body["disable_notification"], true,
        "warning is silent"
    );
    world.sns_messages().await;

    for id in ["acked", "hushed"] {
        let out = ack(
            &world,
            id,
            &[
                "--by",
                "alice",
                "--note",
                "producer rerun",
                "--now",
                "2026-06-01T00:00:00Z",
            ],
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(stdout(&out).contains("until resolved"), "{}", stdout(&out));
    }
    put(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/acks/garbled.json",
        "not json",
    )
    .await;

    // W23: the second missed cycle.
    let response = monitor.pass("2026-06-06T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 3, "{response:#}");
    let rows = results(&world).await;
    let climbs = &row(&rows, "climbs")["policy"];
    assert_eq!(climbs["escalated"], true, "{climbs:#}");
    assert_eq!(climbs["effective_severity"], "critical");
    assert_eq!(climbs["missed_cycles"], 2);
    let acked = &row(&rows, "acked")["policy"];
    assert_eq!(acked["escalated"], false, "{acked:#}");
    assert_eq!(acked["effective_severity"], "warning");
    assert_eq!(acked["acknowledged"]["by"], "alice");
    assert_eq!(acked["acknowledged"]["note"], "producer rerun");
    let hushed = &row(&rows, "hushed")["policy"];
    assert_eq!(hushed["action"], "silenced", "{hushed:#}");
    assert_eq!(hushed["acknowledged"]["by"], "alice");
    assert_eq!(
        (&hushed["escalated"], &hushed["missed_cycles"]),
        (&Value::Bool(false), &Value::from(2))
    );
    let garbled = &row(&rows, "garbled")["policy"];
    assert_eq!(
        garbled["escalated"], true,
        "an unreadable ack holds nothing back"
    );
    // The pass's metrics say what the policy did (docs/lambda.md#metrics).
    let now_ms = "2026-06-06T12:30:00Z"
        .parse::<chrono::DateTime<chrono::Utc>>()
        .unwrap()
        .timestamp_millis();
    let metrics = monitor
        .await_emf_pass_line(now_ms)
        .expect("the pass's EMF line");
    assert_eq!(metrics["AlertsSilenced"], 1.0, "{metrics:#}");
    assert_eq!(metrics["AlertsAcknowledged"], 2.0, "acked and hushed");
    assert_eq!(metrics["AlertsEscalated"], 2.0, "climbs and garbled");
    assert_eq!(metrics["AlertsNotRouted"], 0.0);
    let summary = monitor.await_log_lines("pass complete", 2)[1].clone();
    assert_eq!(
        metrics["S3Requests"].as_f64(),
        summary["requests_total"].as_f64(),
        "{summary:#}"
    );

    let sns = one_sns(&world).await;
    assert!(
        sns.starts_with("freshness-monitor: 3 artifacts alerting (2 critical, 1 warning)"),
        "{sns}"
    );
    assert!(sns.contains("[CRITICAL] climbs missing"), "{sns}");
    assert!(
        sns.contains("escalated: 2 cycles missed in a row (declared warning)"),
        "{sns}"
    );
    assert!(
        sns.contains("acknowledged by alice (until resolved): producer rerun"),
        "{sns}"
    );
    assert!(!sns.contains("hushed"), "{sns}");
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 2);
    assert_eq!(
        telegram[1].body["disable_notification"], false,
        "escalated: critical pushes"
    );

    let heartbeat = world.heartbeat().await;
    let problems = heartbeat["ack_problems"].as_array().expect("reported");
    assert!(
        problems[0]
            .as_str()
            .unwrap()
            .contains("acks/garbled.json is not an acknowledgement"),
        "{heartbeat:#}"
    );

    // `explain` and `check` from a shell: with --results they read the ledger and the acks
    // and decide as the pass did; without, they know only this cycle.
    let results_url = format!("s3://{}/_freshness_monitor/", world.bucket);
    let registry_url = format!("s3://{}/{REGISTRY_KEY}", world.bucket);
    let shell = |args: &[&str], results: bool| {
        let mut all = args.to_vec();
        all.extend(["--registry", &registry_url, "--now", "2026-06-06T12:30:00Z"]);
        if results {
            all.extend(["--results", &results_url]);
        }
        cli(&all)
    };
    let remembered = shell(&["explain", "climbs"], true);
    let text = stdout(&remembered);
    assert!(
        text.contains("escalated to critical: 2 cycles missed in a row"),
        "{text}{}",
        stderr(&remembered)
    );
    let forgetful = stdout(&shell(&["explain", "climbs"], false));
    assert!(!forgetful.contains("escalated to critical"), "{forgetful}");
    let checked = shell(&["check", "--json"], true);
    assert!(
        stderr(&checked).contains("garbled.json"),
        "{}",
        stderr(&checked)
    );
    let rows: Value = serde_json::from_slice(&checked.stdout).unwrap();
    assert_eq!(row(&rows, "acked")["policy"]["acknowledged"]["by"], "alice");
    assert_eq!(
        row(&rows, "climbs")["policy"]["effective_severity"],
        "critical"
    );
    assert_eq!(row(&rows, "hushed")["policy"]["action"], "silenced");

    let list = cli(&["ack", "--list", "--results", &results_url]);
    let text = stdout(&list);
    assert!(list.status.success(), "{}", stderr(&list));
    assert!(
        text.contains("acked  by alice") && text.contains("active"),
        "{text}"
    );
    assert!(stderr(&list).contains("garbled.json"), "{}", stderr(&list));

    // The acknowledged artifact arrives: the ack ends, and `--list` says so.
    put(
        &world.aws.s3,
        &world.bucket,
        "data/2026-06-06/acked.json",
        "{}",
    )
    .await;
    monitor.pass("2026-06-06T13:00:00Z").response();
    let list = cli(&["ack", "--list", "--results", &results_url]);
    assert!(
        stdout(&list).contains("ended (fresh again)"),
        "{}",
        stdout(&list)
    );
    let removed = ack(&world, "acked", &["--remove"]);
    assert!(stdout(&removed).contains("removed the acknowledgement of acked"));
    let unknown = ack(&world, "ackd", &["--by", "bob"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("did you mean `acked`?"),
        "{}",
        stderr(&unknown)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn downstream_alerts_fold_under_their_root_and_each_gets_its_own_resolved_notice() {
    let world = world_with(
        &[
            ("pit_parity", "critical", ""),
            ("ml_features", "critical", "    depends_on: [pit_parity]\n"),
            ("ml_model", "warning", "    depends_on: [ml_features]\n"),
        ],
        "",
    )
    .await;
    let monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        3
    );
    let sns = one_sns(&world).await;
    assert!(sns.contains("[CRITICAL] pit_parity missing"), "{sns}");
    assert!(
        sns.contains(
            "2 downstream artifacts alerting because of it: ml_features (missing, critical), \
             ml_model (missing, warning)"
        ),
        "{sns}"
    );
    assert!(
        !sns.contains("[CRITICAL] ml_features"),
        "not paged separately: {sns}"
    );
    let rows = results(&world).await;
    for id in ["ml_features", "ml_model"] {
        assert_eq!(row(&rows, id)["alerting"], true);
        assert_eq!(row(&rows, id)["policy"]["folded_under"], "pit_parity");
    }
    assert_eq!(world.markers().await.len(), 3, "every alert is recorded");

    // The root resolves first: its notice alone.
    put(
        &world.aws.s3,
        &world.bucket,
        "data/2026-05-30/pit_parity.json",
        "{}",
    )
    .await;
    assert_eq!(
        monitor.pass("2026-05-30T13:00:00Z").response()["resolved"],
        1
    );
    let notice = one_sns(&world).await;
    assert!(notice.contains("[RESOLVED] pit_parity"), "{notice}");
    assert!(!notice.contains("ml_"), "{notice}");
    // Then the downstream: each gets its own notice.
    for id in ["ml_features", "ml_model"] {
        put(
            &world.aws.s3,
            &world.bucket,
            &format!("data/2026-05-30/{id}.json"),
            "{}",
        )
        .await;
    }
    assert_eq!(
        monitor.pass("2026-05-30T13:30:00Z").response()["resolved"],
        2
    );
    let notice = one_sns(&world).await;
    assert!(
        notice.contains("[RESOLVED] ml_features") && notice.contains("[RESOLVED] ml_model"),
        "{notice}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reminders_repeat_a_still_alerting_alert_at_their_interval_but_not_an_acknowledged_one() {
    let world = world_with(
        &[("lingers", "critical", ""), ("known", "critical", "")],
        "alert_policy:\n  remind_every_minutes: 60\n",
    )
    .await;
    let monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        2
    );
    world.sns_messages().await;
    let out = ack(
        &world,
        "known",
        &["--by", "carol", "--now", "2026-05-30T12:40:00Z"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    for (time, reminded) in [
        ("2026-05-30T13:00:00Z", 0),
        ("2026-05-30T13:30:00Z", 1),
        ("2026-05-30T14:00:00Z", 0),
        ("2026-05-30T14:30:00Z", 1),
    ] {
        let response = monitor.pass(time).response().clone();
        assert_eq!(response["reminded"], reminded, "{time}: {response:#}");
        assert_eq!(response["alerted"], 0, "{time}");
        // Both alerts were sent at 12:30: each pass of the cycle holds them, whether or not
        // a reminder is due or held (docs/lambda.md: alerts already sent in their cycle).
        assert_eq!(response["deduplicated"], 2, "{time}: {response:#}");
        let sns = world.sns_messages().await;
        assert_eq!(sns.len(), reminded, "{time}: {sns:#?}");
        if reminded == 1 {
            let text = sns[0]["Message"].as_str().unwrap();
            assert!(text.starts_with("REMINDER: "), "{text}");
            assert!(text.contains("[REMINDER] still alerting"), "{text}");
            assert!(
                text.contains("lingers missing") && !text.contains("known"),
                "{text}"
            );
            assert!(
                sns[0]["Subject"]
                    .as_str()
                    .unwrap()
                    .starts_with("[REMINDER]")
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_never_written_in_any_cycle_has_its_own_message_and_alerts_once_a_day() {
    let world = world_with(&[("ghost", "critical", ""), ("late", "critical", "")], "").await;
    // `late` was written in an earlier cycle; nothing ever existed under ghost's prefix.
    put(
        &world.aws.s3,
        &world.bucket,
        "data/2026-05-23/late.json",
        "{}",
    )
    .await;
    let registry = policy_registry(
        &world.bucket,
        &[("late", "critical", "")],
        "",
    )
    .replace("artifacts:\n", "artifacts:\n  - artifact_id: ghost\n    s3_key_template: \"ghost/{date}/x.json\"\n    severity: critical\n    owner_repo: pipelines\n");
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    let monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        2
    );
    let sns = one_sns(&world).await;
    assert!(sns.contains("[CRITICAL] ghost never written"), "{sns}");
    assert!(
        sns.contains("nothing has ever existed under s3://"),
        "{sns}"
    );
    assert!(sns.contains("[CRITICAL] late missing"), "{sns}");
    let rows = results(&world).await;
    let ghost = row(&rows, "ghost");
    assert_eq!(ghost["state"], "missing");
    assert_eq!(ghost["policy"]["never_written"], true);
    assert_eq!(
        ghost["dedup_key"],
        "freshness_ghost_never_written_2026-05-30"
    );
    let ledger = get_json(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/ledger.json",
    )
    .await
    .unwrap();
    assert!(
        ledger["artifacts"]["ghost"]["never_written_since"].is_string(),
        "{ledger:#}"
    );
    assert_eq!(ledger["artifacts"]["late"]["written"], true, "{ledger:#}");

    // Later the same day: nothing. The next day (same weekly cycle): ghost again, late not.
    assert_eq!(
        monitor.pass("2026-05-30T18:00:00Z").response()["alerted"],
        0
    );
    let next_day = monitor.pass("2026-05-31T09:00:00Z").response().clone();
    assert_eq!(next_day["alerted"], 1, "{next_day:#}");
    assert!(one_sns(&world).await.contains("ghost never written"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_never_written_artifact_that_appears_gets_one_resolved_notice_in_any_cycle() {
    let world = world_with(&[], "").await;
    let ghost = |id: &str| {
        format!(
            "  - artifact_id: {id}\n    s3_key_template: \"{id}/{{date}}/x.json\"\n    \
             severity: critical\n    owner_repo: pipelines\n"
        )
    };
    let registry = policy_registry(&world.bucket, &[], "") + &ghost("ghost_a") + &ghost("ghost_b");
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    let monitor = Monitor::start(&world.env());
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        2
    );
    let sns = one_sns(&world).await;
    assert!(
        sns.contains("ghost_a never written") && sns.contains("ghost_b never written"),
        "{sns}"
    );
    world.telegram.clear();

    // ghost_a appears later the same day, in the same cycle: one RESOLVED notice that says
    // what it resolves, on both channels.
    put(
        &world.aws.s3,
        &world.bucket,
        "ghost_a/2026-05-30/x.json",
        "{}",
    )
    .await;
    let same_cycle = monitor.pass("2026-05-30T18:00:00Z").response().clone();
    assert_eq!(
        (&same_cycle["resolved"], &same_cycle["alerted"]),
        (&1.into(), &0.into()),
        "{same_cycle:#}"
    );
    let sns = one_sns(&world).await;
    assert!(
        sns.contains(
            "[RESOLVED] ghost_a fresh (cycle 2026-W22)\n  was: never written (alerted \
                      2026-05-30); written at last"
        ),
        "{sns}"
    );
    assert!(!sns.contains("ghost_b"), "{sns}");
    let telegram = world.telegram.delivered();
    assert_eq!(telegram.len(), 1);
    assert!(telegram[0].text().contains("[RESOLVED] ghost_a"));
    let again = monitor.pass("2026-05-30T18:15:00Z").response().clone();
    assert_eq!(
        (&again["resolved"], &again["alerted"]),
        (&0.into(), &0.into())
    );
    assert!(world.sns_messages().await.is_empty(), "once");

    // ghost_b is alerted again the next day, then appears in the next cycle, before any pass
    // of that cycle saw it missing: the notice names the last never-written alert.
    assert_eq!(
        monitor.pass("2026-05-31T09:00:00Z").response()["alerted"],
        1
    );
    assert!(one_sns(&world).await.contains("ghost_b never written"));
    put(
        &world.aws.s3,
        &world.bucket,
        "ghost_b/2026-06-06/x.json",
        "{}",
    )
    .await;
    let next_cycle = monitor.pass("2026-06-06T12:30:00Z").response().clone();
    assert_eq!(next_cycle["resolved"], 1, "{next_cycle:#}");
    // ghost_a, written once, is an ordinary missing artifact in the new cycle: its alert is
    // the other message.
    let messages = world.sns_messages().await;
    assert_eq!(messages.len(), 2, "{messages:#?}");
    // The alert and the notice are sent concurrently: moto may record them in either order.
    let text = |m: &Value| m["Message"].as_str().unwrap().to_string();
    let (notices, alerts): (Vec<String>, Vec<String>) = messages
        .iter()
        .map(text)
        .partition(|m| m.starts_with("RESOLVED"));
    assert_eq!((notices.len(), alerts.len()), (1, 1), "{messages:#?}");
    assert!(alerts[0].contains("[CRITICAL] ghost_a missing (cycle 2026-W23)"));
    let sns = notices[0].clone();
    assert!(
        sns.contains(
            "[RESOLVED] ghost_b fresh (cycle 2026-W23)\n  was: never written (alerted \
                      2026-05-31)"
        ),
        "{sns}"
    );
    assert!(
        sns.starts_with("RESOLVED: 1 artifact alerted earlier and is fresh now"),
        "{sns}"
    );
    let rows = results(&world).await;
    assert_eq!(
        row(&rows, "ghost_b")["dedup_key"],
        "freshness_ghost_b_never_written_2026-05-31",
        "the pass's row names the alert it resolved"
    );
    assert_eq!(row(&rows, "ghost_a")["state"], "missing");
    assert!(
        row(&rows, "ghost_a")["policy"]
            .get("never_written")
            .is_none()
    );
    monitor.pass("2026-06-06T12:45:00Z");
    let sns = world.sns_messages().await;
    assert!(
        sns.iter()
            .all(|m| !m["Message"].as_str().unwrap().contains("RESOLVED")),
        "once: {sns:#?}"
    );
    let ledger = get_json(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/ledger.json",
    )
    .await
    .unwrap();
    assert_eq!(
        ledger["artifacts"]["ghost_b"]["written"], true,
        "{ledger:#}"
    );
    assert!(
        ledger["artifacts"]["ghost_b"]
            .get("never_written_since")
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_never_written_resolved_notice_that_reaches_no_channel_is_sent_by_the_next_pass() {
    use crate::support::telegram_server::Reply;
    let world = world_with(&[], "").await;
    let registry = policy_registry(&world.bucket, &[], "")
        + "  - artifact_id: ghost\n    s3_key_template: \"ghost/{date}/x.json\"\n    \
           severity: critical\n    owner_repo: pipelines\n";
    put(&world.aws.s3, &world.bucket, REGISTRY_KEY, &registry).await;
    // Telegram is the only channel.
    let monitor = Monitor::start(&world.env_with("SNS_TOPIC_ARN", None));
    assert_eq!(
        monitor.pass("2026-05-30T12:30:00Z").response()["alerted"],
        1
    );
    assert!(
        world.telegram.delivered()[0]
            .text()
            .contains("ghost never written")
    );
    world.telegram.clear();

    // It appears in the next cycle while Telegram refuses everything: no notice, the claim is
    // released, the pass itself succeeds.
    put(
        &world.aws.s3,
        &world.bucket,
        "ghost/2026-06-06/x.json",
        "{}",
    )
    .await;
    world.telegram.set_default(Reply::Blocked);
    let refused = monitor.pass("2026-06-06T12:30:00Z").response().clone();
    assert_eq!(refused["resolved"], 0, "{refused:#}");
    assert!(world.telegram.delivered().is_empty());

    // Telegram is back: the next pass sends it, once.
    world.telegram.set_default(Reply::Ok);
    let sent = monitor.pass("2026-06-06T12:45:00Z").response().clone();
    assert_eq!(sent["resolved"], 1, "{sent:#}");
    let delivered = world.telegram.delivered();
    assert_eq!(delivered.len(), 1);
    assert!(
        delivered[0]
            .text()
            .contains("was: never written (alerted 2026-05-30); written at last"),
        "{}",
        delivered[0].text()
    );
    world.telegram.clear();
    assert_eq!(
        monitor.pass("2026-06-06T13:00:00Z").response()["resolved"],
        0
    );
    assert!(world.telegram.delivered().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn observe_mode_sends_nothing_and_marks_what_each_rule_would_have_done() {
    let world = world_with(
        &[("quiet", "critical", ""), ("loud", "warning", "")],
        "alert_policy:\n  routes:\n    sns: [critical]\n    telegram: [critical]\nsilences:\n  \
         - artifact_id: quiet\n    until: 2026-06-01T00:00:00Z\n    reason: maintenance\n",
    )
    .await;
    let monitor = Monitor::start(&world.env_with("FRESHNESS_MONITOR_ENABLED", None));
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();
    assert_eq!(response["alerted"], 0, "{response:#}");
    assert!(world.sns_messages().await.is_empty());
    assert!(world.telegram.delivered().is_empty());
    let rows = results(&world).await;
    for (id, action) in [("quiet", "silenced"), ("loud", "not_routed")] {
        let policy = &row(&rows, id)["policy"];
        assert_eq!(policy["observe"], true, "{policy:#}");
        assert_eq!(policy["action"], action, "{policy:#}");
    }
    let summary = monitor.await_log_lines("pass complete", 1).pop().unwrap();
    assert_eq!(
        (&summary["silenced"], &summary["not_routed"]),
        (&Value::from(1), &Value::from(1)),
        "{summary}"
    );
    assert_eq!(summary["acks_ignored"], 0);
}

#[test]
fn explain_names_the_rule_that_decided_and_check_shows_it() {
    let registry = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  cadence: saturday_sf\n  \
                    sla_minutes_after_cron: 180\n  created_at: 2025-01-01\n  owner_repo: o\n  \
                    grace_period_cycles: 0\nsilences:\n  - artifact_id: \"a*\"\n    \
                    until: 2026-06-01T00:00:00Z\n    reason: vendor outage\nartifacts:\n  \
                    - artifact_id: a1\n    s3_key_template: \"a/{date}.json\"\n    severity: \
                    critical\n";
    let scenario = LocalScenario::new(registry, "bkt");
    let out = scenario.run_with(&["explain", "a1"], "2026-05-30T12:30:00Z", &[]);
    let text = stdout(&out);
    assert!(
        text.contains("policy        Silenced: silenced by silences[0] (line 10): vendor outage"),
        "{text}{}",
        stderr(&out)
    );
    let out = scenario.run("2026-05-30T12:30:00Z", &[]);
    let text = stdout(&out);
    assert!(text.contains("critical silenced"), "{text}");
    assert!(
        !text.contains("would send to"),
        "a silenced alert is not sent: {text}"
    );
}

#[test]
fn ack_refuses_an_unknown_id_and_writes_lists_and_removes_in_a_local_store() {
    let registry = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  cadence: saturday_sf\n  \
                    sla_minutes_after_cron: 180\n  created_at: 2025-01-01\n  owner_repo: o\n  \
                    severity: critical\nartifacts:\n  - artifact_id: pit_parity\n    \
                    s3_key_template: \"a/{date}.json\"\n";
    let scenario = LocalScenario::new(registry, "bkt");
    let run = |args: &[&str]| {
        scenario.run_with(
            args,
            "2026-05-30T12:30:00Z",
            &["--results", "s3://bkt/mon/"],
        )
    };
    let unknown = run(&["ack", "pit_paritty", "--by", "dana"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("did you mean `pit_parity`?"),
        "{}",
        stderr(&unknown)
    );
    let no_by = run(&["ack", "pit_parity"]);
    assert!(stderr(&no_by).contains("--by NAME"), "{}", stderr(&no_by));
    let timed = run(&[
        "ack",
        "pit_parity",
        "--by",
        "dana",
        "--until",
        "2026-05-31T00:00:00Z",
    ]);
    assert!(timed.status.success(), "{}", stderr(&timed));
    let written: Value = serde_json::from_slice(
        &std::fs::read(scenario.store().join("bkt/mon/acks/pit_parity.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(written["by"], "dana");
    assert_eq!(written["until"], "2026-05-31T00:00:00Z");
    assert_eq!(written["at"], "2026-05-30T12:30:00Z");
    let list = run(&["ack", "--list"]);
    assert!(
        stdout(&list).contains("pit_parity  by dana"),
        "{}",
        stdout(&list)
    );
    let removed = run(&["ack", "pit_parity", "--remove"]);
    assert!(stdout(&removed).contains("removed"), "{}", stdout(&removed));
    assert!(stdout(&run(&["ack", "--list"])).contains("no acknowledgements"));
    let again = run(&["ack", "pit_parity", "--remove"]);
    assert!(
        stdout(&again).contains("pit_parity had no acknowledgement"),
        "{}",
        stdout(&again)
    );
}
