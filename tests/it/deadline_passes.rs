//! Deadline passes end to end (docs/lambda.md#deadline-passes): the built bootstrap behind the
//! loopback Runtime API, moto's S3, SNS and EventBridge Scheduler. After each pass the test
//! reads the schedule moto holds (its `at(...)`, its target and input), then invokes the
//! function with that input as Scheduler would and checks that the deadline pass alerts the
//! artifact whose deadline passed. Scheduler's refusal (AccessDenied, which moto does not
//! enforce) comes from a proxy in front of moto that answers the Scheduler calls alone.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::support::aws::put;
use crate::support::function::Function;
use crate::support::loopback::{Fault, FaultProxy};
use crate::support::moto;
use crate::support::results::{REGISTRY_KEY, check_results, row};
use crate::support::runtime_api::FUNCTION_ARN;
use crate::support::world::World;

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/freshness-monitor-scheduler";

/// `a07`: hourly at :07 UTC, due at once. `sla50`: hourly buckets due 50 minutes in.
fn registry(bucket: &str) -> String {
    format!(
        "schema_version: 1
defaults:
  s3_bucket: {bucket}
  severity: critical
  owner_repo: pipelines
  created_at: 2025-01-01
  grace_period_cycles: 0
cadences:
  at_07: {{cron: \"7 * * * *\", timezone: UTC}}
artifacts:
  - {{artifact_id: a07, s3_key_template: \"data/{{cycle_label}}/a07.json\", cadence: at_07, sla_minutes_after_cron: 0}}
  - {{artifact_id: sla50, s3_key_template: \"data/{{cycle_label}}/sla50.json\", cadence: continuous, interval_minutes: 60, sla_minutes_after_cron: 50}}
"
    )
}

async fn scheduler() -> aws_sdk_scheduler::Client {
    aws_sdk_scheduler::Client::new(&crate::support::aws::moto_config().await)
}

/// The schedule moto holds: `(expression, input, target arn, role arn)`.
async fn held(client: &aws_sdk_scheduler::Client, name: &str) -> (String, Value, String, String) {
    let got = client.get_schedule().name(name).send().await.unwrap();
    let target = got.target().expect("a target");
    (
        got.schedule_expression().unwrap().to_string(),
        serde_json::from_str(target.input().unwrap()).unwrap(),
        target.arn().to_string(),
        target.role_arn().to_string(),
    )
}

fn deadline_env(world: &World, name: &str) -> Vec<(&'static str, String)> {
    let mut env = world.env();
    env.push(("DEADLINE_SCHEDULE_NAME", name.to_string()));
    env.push(("DEADLINE_SCHEDULE_ROLE_ARN", ROLE_ARN.to_string()));
    env
}

fn start(endpoint: &str, env: &[(&'static str, String)]) -> Function {
    let env: Vec<(&str, &str)> = env.iter().map(|(n, v)| (*n, v.as_str())).collect();
    Function::start(endpoint, &env)
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_each_pass_points_the_schedule_at_the_next_deadline_and_that_pass_alerts() {
    let world = World::with_ids(&[]).await;
    let s3 = &world.aws.s3;
    put(s3, &world.bucket, REGISTRY_KEY, &registry(&world.bucket)).await;
    // 11:07's a07 landed; sla50's 12:00 bucket has not (due 12:50).
    put(s3, &world.bucket, "data/2026-06-03T11:07/a07.json", "{}").await;
    let name = moto::unique_bucket("deadline");
    let function = start(&moto::shared().endpoint(), &deadline_env(&world, &name));
    let scheduler = scheduler().await;

    // 12:00: a07's next deadline (12:07, alerting from 12:08) comes before sla50's (12:51).
    let response = function.pass("2026-06-03T12:00:00Z").response().clone();
    assert_eq!(response["alerted"], 0, "{response}");
    let (expression, input, target, role) = held(&scheduler, &name).await;
    assert_eq!(expression, "at(2026-06-03T12:08:05)");
    assert_eq!(
        input,
        json!({"mode": "deadline", "at": "2026-06-03T12:08:05Z"})
    );
    assert_eq!((target.as_str(), role.as_str()), (FUNCTION_ARN, ROLE_ARN));
    let heartbeat = world.heartbeat().await;
    assert_eq!(
        heartbeat["deadline_passes"],
        json!({
            "enabled": true, "schedule": format!("default/{name}"), "action": "created",
            "next_pass_at": "2026-06-03T12:08:05Z", "artifact_id": "a07",
            "due_at": "2026-06-03T12:07:00Z", "reason": null
        })
    );

    // 12:05, nothing changed: the same time, so no call (the ledger remembers it).
    function.pass("2026-06-03T12:05:00Z");
    assert_eq!(
        world.heartbeat().await["deadline_passes"]["action"],
        "unchanged"
    );
    assert_eq!(held(&scheduler, &name).await.0, "at(2026-06-03T12:08:05)");

    // Scheduler fires: the function gets the schedule's input. a07 did not land for 12:07:
    // it alerts now, not at 12:15; the schedule moves on to sla50's deadline.
    world.sns_messages().await;
    let response = function.invoke(&input).response().clone();
    assert_eq!(response["alerted"], 1, "{response}");
    let messages = world.sns_messages().await;
    assert_eq!(messages.len(), 1, "{messages:?}");
    let body = messages[0]["Message"].as_str().unwrap();
    assert!(body.contains("a07") && !body.contains("sla50"), "{body}");
    // Only what is due was probed: sla50 (due 12:50) keeps the 12:05 pass's verdict.
    let results = check_results(s3, &world.bucket).await.unwrap();
    let a07 = row(&results, "a07");
    assert_eq!(
        (&a07["state"], &a07["last_probed_at"]),
        (&json!("missing"), &json!("2026-06-03T12:08:05Z"))
    );
    let sla50 = row(&results, "sla50");
    assert_eq!(sla50["state"], "missing");
    assert_eq!(sla50["last_probed_at"], "2026-06-03T12:05:00Z");
    assert_eq!(
        sla50["reason"],
        "missing when last probed at 2026-06-03T12:05:00Z; not yet due (alerts from \
         2026-06-03T12:51:00Z), so this deadline pass did not probe it"
    );
    let heartbeat = world.heartbeat().await;
    assert_eq!(heartbeat["last_run"], "2026-06-03T12:08:05Z");
    assert_eq!(heartbeat["deadline_passes"]["action"], "updated");
    let (expression, input, ..) = held(&scheduler, &name).await;
    assert_eq!(expression, "at(2026-06-03T12:51:05)");
    assert_eq!(input["at"], "2026-06-03T12:51:05Z");

    // sla50 lands before its deadline: the 12:45 pass points the schedule at a07's 13:08.
    put(
        s3,
        &world.bucket,
        "data/continuous_60m_494580/sla50.json",
        "{}",
    )
    .await;
    function.pass("2026-06-03T12:45:00Z");
    assert_eq!(held(&scheduler, &name).await.0, "at(2026-06-03T13:08:05)");
    assert_eq!(
        world.heartbeat().await["deadline_passes"]["artifact_id"],
        "a07"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn deadline_without_configuration_or_permission_passes_go_on_and_the_heartbeat_says_why() {
    let world = World::with_ids(&[]).await;
    put(
        &world.aws.s3,
        &world.bucket,
        REGISTRY_KEY,
        &registry(&world.bucket),
    )
    .await;

    // Not configured.
    let function = start(&moto::shared().endpoint(), &world.env());
    let response = function.pass("2026-06-03T12:00:00Z").response().clone();
    assert!(response["n_entries_checked"] == 2, "{response}");
    let passes = &world.heartbeat().await["deadline_passes"];
    assert_eq!(passes["enabled"], false);
    assert_eq!(passes["action"], "off");
    assert_eq!(
        passes["reason"],
        "DEADLINE_SCHEDULE_NAME is not set (deploy.sh --deadline-schedule sets it up)"
    );
    // Every pass's summary line says so too.
    let summary = &function.await_log_lines("pass complete", 1)[0];
    assert_eq!(summary["deadline_passes"], "off");
    assert_eq!(summary["deadline_reason"], passes["reason"]);
    drop(function);

    // Configured, refused: Scheduler answers AccessDenied; S3 and SNS are moto's.
    let moto_addr: SocketAddr = format!("127.0.0.1:{}", moto::shared().port)
        .parse()
        .unwrap();
    let proxy = FaultProxy::start(moto_addr, |request| {
        if request.target.starts_with("/schedules/") {
            Fault::json_error(
                403,
                "Forbidden",
                "AccessDeniedException",
                "User is not authorized to perform: scheduler:UpdateSchedule",
            )
        } else {
            Fault::Forward
        }
    });
    let name = moto::unique_bucket("denied");
    let function = start(&proxy.endpoint(), &deadline_env(&world, &name));
    for (time, calls) in [("2026-06-03T12:00:00Z", 1), ("2026-06-03T12:05:00Z", 2)] {
        let outcome = function.pass(time);
        assert_eq!(outcome.response()["n_entries_checked"], 2);
        let passes = world.heartbeat().await["deadline_passes"].clone();
        assert_eq!(passes["enabled"], false, "{passes}");
        assert_eq!(passes["action"], "failed");
        let reason = passes["reason"].as_str().unwrap();
        assert!(
            reason.starts_with(&format!("UpdateSchedule default/{name} failed: "))
                && reason.contains("AccessDeniedException")
                && reason.ends_with(&format!(
                    "(the function's role needs scheduler:UpdateSchedule on this schedule and \
                     iam:PassRole on {ROLE_ARN})"
                )),
            "{reason}"
        );
        // Nothing remembered: every pass tries again, one call each (no retries of a 403).
        let tried = proxy.faulted().iter().filter(|r| r.contains(&name)).count();
        assert_eq!(tried, calls, "{:?}", proxy.faulted());
        let warnings = function.await_log_lines(
            "could not set the deadline schedule; the 15-minute passes go on",
            calls,
        );
        assert_eq!(warnings.len(), calls, "logged once per pass");
    }
    let ledger = crate::support::aws::get_json(
        &world.aws.s3,
        &world.bucket,
        "_freshness_monitor/ledger.json",
    )
    .await
    .unwrap();
    assert!(ledger.get("deadline_schedule_at").is_none(), "{ledger}");
}
