//! The built binary as a Lambda function: started with `AWS_LAMBDA_RUNTIME_API` pointing at a
//! loopback Runtime API, its AWS endpoint at moto (directly, or through a proxy that goes
//! silent for one key). Each test queues events and checks what the function posted back and
//! what it wrote to the bucket.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::support::aws::{self, create_bucket, get_bytes, get_json, keys_in, put};
use crate::support::events::{rfc3339, scheduled_event};
use crate::support::function::Function;
use crate::support::loopback::SelectiveSilentProxy;
use crate::support::results::{
    CHECK_RESULTS, REGISTRY_KEY, assert_row_fields, check_results, cycle_verdict, heartbeat, row,
};
use crate::support::scenario::Scenario;
use crate::support::{self, moto};

#[tokio::test(flavor = "multi_thread")]
async fn lambda_scheduled_pass_writes_the_three_files_and_answers() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let function = Function::on_moto(&[
        ("REGISTRY_BUCKET", &scenario.bucket),
        ("PROBE_CONCURRENCY", "4"),
    ]);

    let outcome = function.pass(scenario.now);
    let response = outcome.response();

    // The response (docs/lambda.md#response).
    let expected_counts = json!({"fresh": 2, "stale": 1, "missing": 1, "probe_failed": 1, "grace_period": 1, "suspect": 0});
    assert_eq!(response["n_entries_checked"], 6, "{response:#}");
    assert_eq!(response["counts"], expected_counts);
    assert_eq!(response["alerts_enabled"], false, "observe mode by default");
    assert_eq!(response["alerted"], 0);
    assert_eq!(response["deduplicated"], 0);
    assert_eq!(response["resolved"], 0);
    assert_eq!(response["per_spec_exceptions"], 1);
    assert!(response["duration_seconds"].as_f64().unwrap() >= 0.0);
    // `{cadence: state}`, as the original's response.
    assert!(response["cycle_verdicts"].is_object(), "{response:#}");
    assert!(
        response.get("results").is_none(),
        "results only on dry runs"
    );

    // check_results.json (docs/outputs.md).
    let results = check_results(&s3, &scenario.bucket)
        .await
        .expect("check_results.json written");
    assert_eq!(
        results["run_at"],
        rfc3339(scenario.now),
        "the event's time is now"
    );
    assert_eq!(results["alerts_enabled"], false);
    assert_eq!(results["n_entries"], 6);
    let ids: Vec<&str> = results["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["artifact_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "fresh_signal",
            "pit_parity",
            "stale_manifest",
            "missing_report",
            "new_artifact",
            "typo_artifact"
        ],
        "registry order"
    );
    for r in results["results"].as_array().unwrap() {
        assert_row_fields(r);
    }

    let fresh = row(&results, "fresh_signal");
    assert_eq!(fresh["state"], "fresh");
    assert_eq!(fresh["canonical_key"], scenario.fresh_key);
    assert_eq!(fresh["cycle_label"], scenario.fresh_label);
    assert!(fresh["last_modified"].is_string());
    assert_eq!(fresh["sla_violated_by_minutes"], 0);
    assert_eq!(fresh["alerting"], false);

    let parity = row(&results, "pit_parity");
    assert_eq!(parity["state"], "fresh");
    assert_eq!(parity["recovery_substituted"], true);
    assert_eq!(parity["canonical_key"], scenario.canonical_parity_key);
    assert!(
        parity["reason"]
            .as_str()
            .unwrap()
            .contains(&scenario.recovery_key),
        "{parity}"
    );

    let stale = row(&results, "stale_manifest");
    assert_eq!(stale["state"], "stale");
    assert_eq!(stale["canonical_key"], "manifests/latest.json");
    assert_eq!(stale["sla_violated_by_minutes"], 1);
    assert_eq!(stale["alerting"], true);
    assert_eq!(
        stale["dedup_key"],
        format!("freshness_stale_manifest_{}", scenario.frequent_label)
    );

    let missing = row(&results, "missing_report");
    assert_eq!(missing["state"], "missing");
    assert_eq!(missing["last_modified"], Value::Null);
    assert_eq!(missing["sla_violated_by_minutes"], 1);
    assert_eq!(missing["alerting"], true);

    let grace = row(&results, "new_artifact");
    assert_eq!(grace["state"], "grace_period");
    assert_eq!(
        grace["canonical_key"],
        format!("new/{}/artifact.json", scenario.now.format("%Y-%m-%d")),
        "the rendered key even without a probe"
    );
    assert_eq!(grace["alerting"], false);

    let typo = row(&results, "typo_artifact");
    assert_eq!(typo["state"], "probe_failed");
    assert_eq!(typo["alerting"], true);
    let reason = typo["reason"].as_str().unwrap();
    assert!(
        reason.contains("sla_minute_after_cron") && reason.contains("sla_minutes_after_cron"),
        "the validation message names the field and the fix: {reason}"
    );

    // heartbeat.json (docs/outputs.md).
    let heartbeat = heartbeat(&s3, &scenario.bucket)
        .await
        .expect("heartbeat.json written");
    assert_eq!(heartbeat["last_run"], rfc3339(scenario.now));
    assert_eq!(heartbeat["alerts_enabled"], false);
    assert_eq!(heartbeat["n_entries_checked"], 6);
    assert_eq!(heartbeat["counts"], expected_counts);
    assert!(heartbeat["duration_seconds"].is_number());
    assert_eq!(heartbeat["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        heartbeat["registry_etag"]
            .as_str()
            .is_some_and(|e| !e.is_empty())
    );
    assert!(heartbeat["alerts"]["sent"].is_number());
    assert!(heartbeat["alerts"]["deduplicated"].is_number());
    assert!(heartbeat["alerts"]["failed"].is_number());
    assert_eq!(heartbeat["registry_error"], Value::Null);
    // The ledger: created by this first pass, one entry per artifact with a cycle.
    assert_eq!(heartbeat["ledger"]["status"], "created", "{heartbeat:#}");
    let ledger = get_json(&s3, &scenario.bucket, "_freshness_monitor/ledger.json")
        .await
        .expect("ledger.json written");
    assert_eq!(ledger["version"], 1);
    let entries = ledger["artifacts"].as_object().unwrap();
    assert_eq!(heartbeat["ledger"]["artifacts"], entries.len());
    assert!(entries.values().all(|e| e["cycle"].is_string()));

    // cycle_verdict.json (docs/outputs.md): the fresh cadence's critical artifacts are complete, the
    // 2-minute cadence's are not.
    let verdicts = cycle_verdict(&s3, &scenario.bucket)
        .await
        .expect("cycle_verdict.json written");
    let verdicts = verdicts["verdicts"].as_array().unwrap();
    let of = |label: &str| {
        verdicts
            .iter()
            .find(|v| v["cycle_label"] == label)
            .unwrap_or_else(|| panic!("no verdict for {label}: {verdicts:#?}"))
            .clone()
    };
    let fresh = of(&scenario.fresh_label);
    assert_eq!(fresh["state"], "complete");
    assert_eq!(fresh["complete"], true);
    let frequent = of(&scenario.frequent_label);
    assert_eq!(frequent["state"], "incomplete");
    assert_eq!(frequent["complete"], false);
    assert_eq!(frequent["missing"], json!(["missing_report"]));
    assert_eq!(frequent["stale"], json!(["stale_manifest"]));
    assert_eq!(
        frequent["n_required"].as_u64().unwrap(),
        frequent["n_satisfied"].as_u64().unwrap() + 2
    );
    // The response's `{cadence: state}`: the worst state of the cadence's cycles in the file
    // (two `continuous` intervals here: one complete, one incomplete).
    let rank = |state: &Value| {
        ["complete", "indeterminate", "incomplete"]
            .iter()
            .position(|s| state == s)
            .unwrap()
    };
    for verdict in verdicts {
        let cadence = verdict["cadence"].as_str().unwrap();
        assert!(rank(&response["cycle_verdicts"][cadence]) >= rank(&verdict["state"]));
    }
    assert_eq!(response["cycle_verdicts"]["continuous"], "incomplete");

    // A second invocation in the same process: `{}` judges the clock's now, with the clients
    // the container built once.
    let second = function.invoke(&json!({}));
    assert_eq!(second.response()["n_entries_checked"], 6);
    let heartbeat = get_json(&s3, &scenario.bucket, "_freshness_monitor/heartbeat.json")
        .await
        .unwrap();
    assert_eq!(heartbeat["ledger"]["status"], "updated", "{heartbeat:#}");
    assert_eq!(
        function
            .log_lines("container ready: AWS clients built")
            .len(),
        1,
        "clients are built once per container:\n{}",
        function.all_logs()
    );
    let summaries = function.await_log_lines("pass complete", 2);
    assert_eq!(
        summaries.len(),
        2,
        "one summary line per pass:\n{}",
        function.all_logs()
    );
    assert_eq!(summaries[0]["run_at"], rfc3339(scenario.now));
    assert_eq!(summaries[0]["n_entries_checked"], 6);
    assert_eq!(summaries[0]["missing"], 1);
    assert_eq!(summaries[0]["outputs_written"], true);
    assert_eq!(summaries[0]["ledger"], "created");
    assert_eq!(summaries[1]["ledger"], "updated");

    // The first pass's CloudWatch EMF lines, parsed back: one per cadence with
    // ArtifactFreshnessCycleComplete (1 exactly when its verdict is complete), one for the pass.
    let first_pass_ms = scenario.now.timestamp_millis();
    let emf: Vec<Value> = function
        .all_logs()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["_aws"]["Timestamp"] == first_pass_ms)
        .collect();
    let cadences = response["cycle_verdicts"].as_object().unwrap();
    assert_eq!(emf.len(), cadences.len() + 1, "{emf:#?}");
    for line in &emf {
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "FreshnessMonitor"
        );
        if let Some(cadence) = line["Cadence"].as_str() {
            let complete = cadences[cadence] == "complete";
            assert_eq!(line["ArtifactFreshnessCycleComplete"], u8::from(complete));
        } else {
            assert_eq!(line["ArtifactsMissing"], 1.0);
            assert_eq!(line["ArtifactsFresh"], 2.0);
            assert_eq!(line["AlertsSent"], 0.0);
            assert_eq!(line["AlertsSilenced"], 0.0);
            assert_eq!(
                line["S3Requests"].as_f64(),
                summaries[0]["requests_total"].as_f64()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_malformed_events_are_rejected_with_what_is_accepted() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let results_bucket = moto::unique_bucket("lambda-results");
    create_bucket(&s3, &results_bucket).await;
    let function = Function::on_moto(&[
        ("REGISTRY_BUCKET", &scenario.bucket),
        ("RESULTS_BUCKET", &results_bucket),
    ]);

    let cases = [
        (json!([]), "the event is an array [], not a JSON object"),
        (
            json!({"dryrun": true}),
            "unknown field \"dryrun\" (did you mean \"dry_run\"?)",
        ),
        (
            json!({"now": "2026-05-30T12:00:00Z"}),
            "\"now\" is accepted only together with \"dry_run\": true",
        ),
        (
            json!({"only": ["fresh_signal"]}),
            "\"only\" is accepted only together with \"dry_run\": true",
        ),
        (
            json!({"dry_run": "yes"}),
            "\"dry_run\" must be true or false (a JSON boolean), got a string \"yes\"",
        ),
        (
            json!({"source": "aws.events", "detail-type": "Scheduled Event", "time": "soon"}),
            "the scheduled event's \"time\" \"soon\" is not an RFC 3339 time",
        ),
        (
            json!({"dry_run": true, "only": ["fresh_signal", "no_such_artifact"]}),
            "\"only\" names artifact ids the registry does not have: no_such_artifact",
        ),
    ];
    for (event, problem) in cases {
        let (error_type, message) = function.invoke(&event).error();
        assert_eq!(error_type, "FreshnessMonitor.InvalidEvent", "{event}");
        assert!(
            message.starts_with(&format!("unsupported event: {problem}")),
            "{event}: {message}"
        );
        assert!(
            message.contains("accepted events: an EventBridge scheduled event"),
            "{message}"
        );
    }

    // JSON that serde_json cannot make a value of: still an invalid event, naming the field.
    for (body, problem) in [
        (
            r#"{"dry_run": true, "now": 1e400}"#,
            "the event's field \"now\" cannot be read: number out of range",
        ),
        (
            r#"{"dry_run": true, "only": ["fresh_signal", "\ud800"]}"#,
            "the event's field \"only[1]\" cannot be read: ",
        ),
    ] {
        let (error_type, message) = function.api.invoke_and_wait(body).error();
        assert_eq!(error_type, "FreshnessMonitor.InvalidEvent", "{body}");
        assert!(
            message.starts_with(&format!("unsupported event: {problem}")),
            "{body}: {message}"
        );
    }

    // Not JSON at all: the runtime refuses it before the handler.
    let id = function.api.invoke("not json", Duration::from_secs(60));
    let (_, message) = function.api.wait(&id).error();
    assert!(message.contains("failed to deserialize"), "{message}");

    assert!(
        keys_in(&s3, &results_bucket).await.is_empty(),
        "a rejected event writes nothing"
    );

    // A dry run with `now` and `only` answers with the rows and writes nothing.
    let dry = function.invoke(&json!({
        "dry_run": true, "now": rfc3339(scenario.now), "only": ["fresh_signal", "missing_report"]
    }));
    let response = dry.response();
    assert_eq!(response["n_entries_checked"], 2);
    assert_eq!(response["results"][0]["artifact_id"], "fresh_signal");
    assert_eq!(response["results"][0]["state"], "fresh");
    assert_eq!(response["results"][1]["state"], "missing");
    assert_eq!(response["alerts_enabled"], false);
    assert!(
        keys_in(&s3, &results_bucket).await.is_empty(),
        "a dry run writes nothing"
    );

    // The container survives all of it and still runs a real pass.
    let real = function.pass(scenario.now);
    assert_eq!(real.response()["n_entries_checked"], 6);
    // check_results.json, cycle_verdict.json, status.html, heartbeat.json and the ledger.
    assert_eq!(keys_in(&s3, &results_bucket).await.len(), 5);
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_a_missing_registry_bucket_or_key_fails_the_invocation() {
    let s3 = aws::s3().await;

    let nowhere = moto::unique_bucket("lambda-never-created");
    let function = Function::on_moto(&[("REGISTRY_BUCKET", &nowhere)]);
    let (error_type, message) = function.invoke(&json!({})).error();
    assert_eq!(error_type, "FreshnessMonitor.RegistryError");
    assert_eq!(
        message,
        format!(
            "registry s3://{nowhere}/{REGISTRY_KEY} cannot be read: bucket {nowhere} does not \
             exist (check REGISTRY_BUCKET)"
        )
    );
    drop(function);

    let bucket = moto::unique_bucket("lambda-no-registry");
    create_bucket(&s3, &bucket).await;
    let function = Function::on_moto(&[("REGISTRY_BUCKET", &bucket)]);
    let (error_type, message) = function.invoke(&json!({})).error();
    assert_eq!(error_type, "FreshnessMonitor.RegistryError");
    let expected = format!(
        "registry s3://{bucket}/{REGISTRY_KEY} not found: upload it there or set REGISTRY_KEY"
    );
    assert_eq!(message, expected);

    let heartbeat = heartbeat(&s3, &bucket)
        .await
        .expect("the heartbeat is written even when the registry cannot be read");
    assert_eq!(heartbeat["registry_error"], expected);
    assert_eq!(heartbeat["n_entries_checked"], 0);
    assert_eq!(
        keys_in(&s3, &bucket).await,
        ["_freshness_monitor/heartbeat.json"],
        "no results are written without a registry"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_an_unparseable_registry_fails_the_invocation_and_says_where() {
    let s3 = aws::s3().await;
    let bucket = moto::unique_bucket("lambda-bad-registry");
    create_bucket(&s3, &bucket).await;
    put(
        &s3,
        &bucket,
        "config/registry.yaml",
        "schema_version: 1\nartifacts:\n  - artifact_id: [unclosed\n",
    )
    .await;
    let function = Function::on_moto(&[
        ("REGISTRY_BUCKET", &bucket),
        ("REGISTRY_KEY", "config/registry.yaml"),
        ("RESULTS_PREFIX", "monitor"),
    ]);

    let (error_type, message) = function.pass(Utc::now()).error();
    assert_eq!(error_type, "FreshnessMonitor.RegistryError");
    assert!(
        message.starts_with(&format!(
            "s3://{bucket}/config/registry.yaml:4: not valid YAML"
        )),
        "names the registry, the line and the problem: {message}"
    );

    let heartbeat = aws::get_json(&s3, &bucket, "monitor/heartbeat.json")
        .await
        .expect("heartbeat under RESULTS_PREFIX");
    assert_eq!(heartbeat["registry_error"], message);
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_a_probe_that_never_answers_ends_as_probe_failed_and_the_rest_is_classified() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(
        &s3,
        r#"  - artifact_id: silent_artifact
    s3_key_template: slow/never-answers.json
    cadence: continuous
    interval_minutes: 30
    sla_minutes_after_cron: 0
    severity: critical
    owner_repo: slow
    created_at: 2025-01-01
"#,
    )
    .await;
    let moto_addr = format!("127.0.0.1:{}", moto::shared().port)
        .parse()
        .unwrap();
    let proxy = SelectiveSilentProxy::start(moto_addr, "never-answers");
    let function = Function::start(
        &proxy.endpoint(),
        &[
            ("REGISTRY_BUCKET", &scenario.bucket),
            // Long enough that an ordinary probe never times out on a loaded machine.
            ("PROBE_TIMEOUT_SECONDS", "6"),
        ],
    );

    let response = function.pass(scenario.now).response().clone();
    assert_eq!(
        response["counts"],
        json!({"fresh": 2, "stale": 1, "missing": 1, "probe_failed": 2, "grace_period": 1, "suspect": 0})
    );
    assert!(
        !proxy.held.lock().unwrap().is_empty(),
        "the probe did reach the silent socket"
    );

    let results = check_results(&s3, &scenario.bucket)
        .await
        .expect("check_results.json written");
    let silent = row(&results, "silent_artifact");
    assert_eq!(silent["state"], "probe_failed");
    assert_eq!(silent["alerting"], true);
    assert_eq!(
        silent["reason"],
        format!(
            "HEAD s3://{}/slow/never-answers.json: timed out after 6.0s waiting for the store",
            scenario.bucket
        )
    );
    assert_eq!(row(&results, "fresh_signal")["state"], "fresh");
    assert_eq!(row(&results, "missing_report")["state"], "missing");

    let verdicts = cycle_verdict(&s3, &scenario.bucket).await.unwrap();
    let silent_verdict = verdicts["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["probe_failed"] == json!(["silent_artifact"]))
        .expect("a verdict for the silent artifact's cycle")
        .clone();
    assert_eq!(silent_verdict["state"], "indeterminate");
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_a_near_deadline_still_writes_the_outputs() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let function = Function::on_moto(&[
        ("REGISTRY_BUCKET", &scenario.bucket),
        ("PROBE_TIMEOUT_SECONDS", "2"),
    ]);

    // Less time than one probe's timeout plus the writes: no probe may start.
    let id = function.api.invoke(
        scheduled_event(scenario.now).to_string(),
        Duration::from_secs(3),
    );
    let response = function.api.wait(&id).response().clone();
    assert_eq!(response["n_entries_checked"], 6);

    let results = check_results(&s3, &scenario.bucket)
        .await
        .expect("outputs written before the deadline");
    for id in [
        "fresh_signal",
        "pit_parity",
        "stale_manifest",
        "missing_report",
    ] {
        let r = row(&results, id);
        assert_eq!(r["state"], "probe_failed", "{r}");
        assert!(
            r["reason"].as_str().unwrap().contains("deadline"),
            "{}",
            r["reason"]
        );
    }
    assert_eq!(
        row(&results, "new_artifact")["state"],
        "grace_period",
        "what needs no probe is still judged"
    );
    assert!(heartbeat(&s3, &scenario.bucket).await.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_bad_configuration_is_reported_by_every_invocation() {
    let function = Function::on_moto(&[("PROBE_CONCURRENCY", "4")]);
    for _ in 0..2 {
        let (error_type, message) = function.invoke(&json!({})).error();
        assert_eq!(error_type, "FreshnessMonitor.InvalidConfiguration");
        assert_eq!(
            message,
            "invalid configuration: REGISTRY_BUCKET is not set: it names the bucket that holds \
             the registry"
        );
    }
    drop(function);

    let function = Function::on_moto(&[("REGISTRY_BUCKET", "b"), ("PROBE_CONCURRENCY", "lots")]);
    let (_, message) = function.invoke(&json!({})).error();
    assert_eq!(
        message,
        "invalid configuration: PROBE_CONCURRENCY must be a positive whole number, got \"lots\""
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lambda_observe_flag_only_true_enables_and_the_legacy_name_counts() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let dry_run = json!({"dry_run": true, "now": rfc3339(scenario.now), "only": ["fresh_signal"]});
    let cases: [(&[(&str, &str)], bool); 5] = [
        (&[], false),
        (&[("FRESHNESS_MONITOR_ENABLED", "  True\n")], true),
        (&[("FRESHNESS_MONITOR_ENABLED", "yes")], false),
        (&[("MNEMON_FRESHNESS_MONITOR_ENABLED", "TRUE")], true),
        (
            &[
                ("FRESHNESS_MONITOR_ENABLED", "false"),
                ("MNEMON_FRESHNESS_MONITOR_ENABLED", "true"),
            ],
            false,
        ),
    ];
    for (flags, enabled) in cases {
        let mut env = vec![("REGISTRY_BUCKET", scenario.bucket.as_str())];
        env.extend_from_slice(flags);
        let function = Function::on_moto(&env);
        let response = function.invoke(&dry_run).response().clone();
        assert_eq!(response["alerts_enabled"], enabled, "{flags:?}");
        assert_eq!(response["alerted"], 0, "a dry run never alerts");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn cli_check_reads_an_s3_registry_and_run_writes_the_outputs() {
    let s3 = aws::s3().await;
    let scenario = Scenario::build(&s3, "").await;
    let dir = tempfile::tempdir().unwrap();
    let with_moto = |args: &[&str], env: &[(&str, &str)]| {
        support::command_on_moto(dir.path())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .expect("run freshness-monitor")
    };

    let registry_url = format!("s3://{}/{REGISTRY_KEY}", scenario.bucket);
    let now = rfc3339(scenario.now);
    let out = with_moto(
        &[
            "check",
            "--registry",
            &registry_url,
            "--now",
            &now,
            "--json",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let results: Value = serde_json::from_str(&support::stdout(&out)).unwrap();
    assert_eq!(results["n_entries"], 6);
    assert_eq!(row(&results, "fresh_signal")["state"], "fresh");
    assert_eq!(row(&results, "stale_manifest")["state"], "stale");
    assert!(
        keys_in(&s3, &scenario.bucket).await.len() == 4,
        "check has no side effects"
    );

    let missing_key = format!("s3://{}/nope.yaml", scenario.bucket);
    let out = with_moto(&["check", "--registry", &missing_key], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains(&format!("s3://{}/nope.yaml not found", scenario.bucket)),
        "{}",
        support::stderr(&out)
    );

    let out = with_moto(&["run"], &[("REGISTRY_BUCKET", &scenario.bucket)]);
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let response: Value = serde_json::from_str(&support::stdout(&out)).unwrap();
    assert_eq!(response["n_entries_checked"], 6);
    assert!(
        support::stderr(&out).contains("\"message\":\"pass complete\""),
        "the summary line goes to stderr, stdout is the answer"
    );
    let heartbeat = heartbeat(&s3, &scenario.bucket)
        .await
        .expect("run writes the outputs");
    assert_eq!(heartbeat["n_entries_checked"], 6);

    let out = with_moto(&["run"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains("REGISTRY_BUCKET is not set"),
        "{}",
        support::stderr(&out)
    );
}

#[test]
fn cli_check_without_credentials_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::command_in(dir.path())
        .env("AWS_REGION", moto::REGION)
        .env("AWS_ENDPOINT_URL", moto::shared().endpoint())
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            dir.path().join("no-credentials"),
        )
        .env("AWS_CONFIG_FILE", dir.path().join("no-config"))
        .args(["check", "--registry", "s3://research-bucket/registry.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = support::stderr(&out);
    assert!(
        stderr.contains("no AWS credentials found") && stderr.contains("AWS_ACCESS_KEY_ID"),
        "{stderr}"
    );
    assert_eq!(
        stderr.lines().count(),
        1,
        "one line, not the SDK's debug dump: {stderr}"
    );
}

/// Above 1,000 rows `check_results.json` is staged in a temp file and streamed to S3 from
/// there (a 100,000-row body would not fit the smallest Lambda twice over). What lands in
/// S3 must be the whole file, compact, every row in registry order.
#[tokio::test(flavor = "multi_thread")]
async fn lambda_a_big_registry_gets_its_whole_results_file_streamed_from_disk() {
    let s3 = aws::s3().await;
    let bucket = moto::unique_bucket("big");
    create_bucket(&s3, &bucket).await;
    const N: usize = 1_500;
    let mut registry = format!(
        "schema_version: 1\ndefaults:\n  s3_bucket: {bucket}\n  severity: warning\n  \
         owner_repo: team/producer\n  created_at: 2025-01-01\n  sla_minutes_after_cron: 60\n\
         artifacts:\n"
    );
    for i in 0..N {
        registry.push_str(&format!(
            "  - artifact_id: a{i}\n    s3_key_template: data/{{date}}/a{i}.json\n    \
             cadence: weekday_sf\n"
        ));
    }
    put(&s3, &bucket, REGISTRY_KEY, &registry).await;
    let function = Function::on_moto(&[("REGISTRY_BUCKET", &bucket)]);

    // A Wednesday afternoon: the weekday cadence's tick is that morning, past its SLA.
    let now: DateTime<Utc> = "2026-06-03T20:00:00Z".parse().unwrap();
    let response = function.pass(now).response().clone();
    assert_eq!(response["n_entries_checked"], N, "{response}");

    let body = get_bytes(&s3, &bucket, CHECK_RESULTS)
        .await
        .expect("check_results.json written");
    assert!(!body.contains(&b'\n'), "written compact above 1,000 rows");
    let results: Value = serde_json::from_slice(&body).expect("the whole file, valid JSON");
    let rows = results["results"].as_array().unwrap();
    assert_eq!(rows.len(), N);
    assert_eq!(results["n_entries"], N);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r["artifact_id"], format!("a{i}"), "registry order");
        assert_eq!(r["state"], "missing", "{r}");
        assert_eq!(r["owner_repo"], "team/producer");
        assert_eq!(r["canonical_key"], format!("data/2026-06-03/a{i}.json"));
    }
}
