//! The first hour with the CLI (issue 27): what a new user meets before anything is set up.
//! No region is one error naming what to set, before any probe; no credentials is one line;
//! a region from any of aws-config's sources counts; `check` names only the alert channels
//! this environment configures; an acknowledgement shows on the `check` table row.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::moto;
use crate::support::scenario::LocalScenario;
use crate::support::{command_in, stderr, stdout};

const NOW: &str = "2026-05-30T12:30:00Z";

/// One critical `saturday_sf` artifact in bucket `bkt`, missing and past its SLA at [`NOW`].
const REGISTRY: &str = "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  cadence: saturday_sf\n  \
    sla_minutes_after_cron: 180\n  created_at: 2025-01-01\n  owner_repo: o\n  \
    severity: critical\nartifacts:\n  - artifact_id: pit_parity\n    \
    s3_key_template: \"a/{date}.json\"\n";

fn registry_in(dir: &Path) -> String {
    let path = dir.join("registry.yaml");
    std::fs::write(&path, REGISTRY).unwrap();
    path.to_str().unwrap().to_string()
}

fn run(mut cmd: Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("run freshness-monitor")
}

/// The binary on moto's endpoint with its credentials but no region from the environment.
fn on_moto_without_region(dir: &Path) -> Command {
    let mut cmd = command_in(dir);
    for (name, value) in moto::shared().env() {
        if !name.contains("REGION") {
            cmd.env(name, value);
        }
    }
    cmd.env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    cmd
}

#[test]
fn first_hour_no_region_is_one_error_naming_what_to_set_before_any_probe() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_in(dir.path());
    let uses_s3: [&[&str]; 4] = [
        &["check", "--registry", &registry],
        &["explain", "pit_parity", "--registry", &registry],
        &["history", "--registry", &registry],
        &["ack", "--list", "--results", "s3://bkt/mon/"],
    ];
    for args in uses_s3 {
        let out = run(on_moto_without_region(dir.path()), args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(stdout(&out), "", "{args:?}: nothing is probed or printed");
        assert_eq!(
            err.trim_end(),
            "error: no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, or \
             region in the profile of ~/.aws/config); or, for a local directory instead of \
             S3, --store DIR",
            "{args:?}"
        );
    }
    let mut cmd = on_moto_without_region(dir.path());
    cmd.env("REGISTRY_BUCKET", "bkt");
    let out = run(cmd, &["run"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "no log lines, no pass: {err}");
    assert!(
        err.contains("no AWS region configured: set AWS_REGION") && !err.contains("--store"),
        "run is always S3: {err}"
    );
}

#[test]
fn first_hour_a_region_from_either_variable_or_the_profile_counts_as_configured() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_in(dir.path());
    let profile = dir.path().join("aws-config");
    std::fs::write(&profile, format!("[default]\nregion = {}\n", moto::REGION)).unwrap();
    let sources: [(&str, &str); 3] = [
        ("AWS_REGION", moto::REGION),
        ("AWS_DEFAULT_REGION", moto::REGION),
        ("AWS_CONFIG_FILE", profile.to_str().unwrap()),
    ];
    for (name, value) in sources {
        let mut cmd = on_moto_without_region(dir.path());
        cmd.env(name, value);
        let out = run(cmd, &["check", "--registry", &registry, "--now", NOW]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        // moto has no such bucket: S3 answers 404, the artifact is missing (not probe_failed).
        assert!(
            text.starts_with("STATE") && text.contains("\nmissing "),
            "{name}: {text}"
        );
    }
}

/// An operator's profile may get its credentials from a `credential_process` (or SSO): the CLI
/// reads them with the default `operator-credentials` feature (docs/cli.md). The Lambda's
/// build (`deploy.sh`, `--no-default-features`) does not, and needs not.
#[test]
fn first_hour_credentials_from_a_profiles_credential_process_reach_s3() {
    let dir = tempfile::tempdir().unwrap();
    let registry = registry_in(dir.path());
    let process = dir.path().join("credentials.sh");
    std::fs::write(
        &process,
        "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"testing\", \"SecretAccessKey\": \"testing\"}'\n",
    )
    .unwrap();
    std::fs::set_permissions(
        &process,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let config = dir.path().join("aws-config");
    std::fs::write(
        &config,
        format!(
            "[profile operator]\nregion = {}\ncredential_process = {}\n",
            moto::REGION,
            process.display()
        ),
    )
    .unwrap();
    let mut cmd = command_in(dir.path());
    cmd.env("AWS_ENDPOINT_URL", moto::shared().endpoint())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "operator")
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION");
    let out = run(cmd, &["check", "--registry", &registry, "--now", NOW]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // moto answered the probe (404: missing), so the request was signed with those credentials.
    assert!(
        text.starts_with("STATE") && text.contains("\nmissing "),
        "{text}"
    );
}

#[test]
fn first_hour_no_credentials_is_one_line_and_the_sdk_details_only_with_v() {
    let dir = tempfile::tempdir().unwrap();
    let base = || {
        let mut cmd = command_in(dir.path());
        cmd.env("AWS_REGION", moto::REGION)
            .env("AWS_ENDPOINT_URL", moto::shared().endpoint())
            .env("REGISTRY_BUCKET", "bkt")
            .env("FRESHNESS_MONITOR_ENABLED", "true")
            .env("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts")
            .env("TELEGRAM_BOT_TOKEN_PARAM", "/fm/token")
            .env("TELEGRAM_CHAT_ID_PARAM", "/fm/chat")
            .env_remove("RUST_LOG");
        cmd
    };
    let out = run(base(), &["run"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(stdout(&out), "");
    assert_eq!(err.lines().count(), 1, "one line, not the SDK's: {err}");
    assert!(
        err.starts_with("error: no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"),
        "{err}"
    );
    for verbose in [run(base(), &["-v", "run"]), {
        let mut cmd = base();
        cmd.env("RUST_LOG", "info");
        run(cmd, &["run"])
    }] {
        let err = stderr(&verbose);
        assert_eq!(verbose.status.code(), Some(1), "{err}");
        assert!(
            err.starts_with("error: no AWS credentials found") && err.contains("Environment"),
            "the SDK's list of what it tried: {err}"
        );
    }
}

#[test]
fn first_hour_check_names_only_the_alert_channels_this_environment_configures() {
    let s = LocalScenario::new(REGISTRY, "bkt");
    let check = |env: &[(&str, &str)]| {
        let mut cmd = command_in(s.path());
        for var in [
            "SNS_TOPIC_ARN",
            "TELEGRAM_BOT_TOKEN_PARAM",
            "TELEGRAM_CHAT_ID_PARAM",
        ] {
            cmd.env_remove(var);
        }
        cmd.envs(env.iter().copied());
        let store = s.store();
        let out = run(
            cmd,
            &[
                "check",
                "--registry",
                "registry.yaml",
                "--store",
                store.to_str().unwrap(),
                "--now",
                NOW,
            ],
        );
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        stdout(&out)
    };
    let none = check(&[]);
    assert!(
        none.contains(
            "no alert channel is configured here: set SNS_TOPIC_ARN, or \
             TELEGRAM_BOT_TOKEN_PARAM and TELEGRAM_CHAT_ID_PARAM, as the Lambda has them"
        ),
        "{none}"
    );
    assert!(
        none.contains("would send to sns, telegram once configured (before dedup):")
            && !none.contains("would send to sns, telegram (before dedup)"),
        "{none}"
    );
    let sns = check(&[("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts")]);
    assert!(sns.contains("would send to sns (before dedup):"), "{sns}");
    assert!(
        !sns.contains("telegram") && !sns.contains("no alert channel"),
        "{sns}"
    );
    let both = check(&[
        ("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts"),
        ("TELEGRAM_BOT_TOKEN_PARAM", "/fm/token"),
        ("TELEGRAM_CHAT_ID_PARAM", "/fm/chat"),
    ]);
    assert!(
        both.contains("would send to sns, telegram (before dedup):"),
        "{both}"
    );
}

#[test]
fn first_hour_an_active_acknowledgement_shows_on_the_check_table_row() {
    let s = LocalScenario::new(REGISTRY, "bkt");
    let results = ["--results", "s3://bkt/mon/"];
    let ack = s.run_with(
        &[
            "ack",
            "pit_parity",
            "--by",
            "alice",
            "--note",
            "rerun at\n14:00",
        ],
        NOW,
        &results,
    );
    assert!(ack.status.success(), "{}", stderr(&ack));
    let out = s.run(NOW, &results);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let text = stdout(&out);
    let row = text
        .lines()
        .find(|l| l.starts_with("missing "))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(" critical acked "), "{row}");
    assert!(
        text.contains("\n    acknowledged by alice (until resolved): rerun at 14:00\n"),
        "{text}"
    );
    // Without --results check reads no acks: nothing to say.
    let plain = stdout(&s.run(NOW, &[]));
    assert!(
        !plain.contains("acked") && !plain.contains("acknowledged"),
        "{plain}"
    );
}
