//! The suite cannot reach a real AWS endpoint or the real Telegram API: every process it
//! spawns gets loopback endpoints, and no test names a real service host.

use std::path::{Path, PathBuf};

use crate::support::moto;
use crate::support::{self, ENDPOINT_VARS, UNREACHABLE, is_loopback_url};

#[test]
fn every_spawned_binary_points_its_clients_at_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let cmd = support::command_in(dir.path());
    let envs: Vec<(String, Option<String>)> = cmd
        .get_envs()
        .map(|(k, v)| {
            (
                k.to_string_lossy().into_owned(),
                v.map(|v| v.to_string_lossy().into_owned()),
            )
        })
        .collect();
    for var in ENDPOINT_VARS {
        let value = envs
            .iter()
            .find(|(k, _)| k == var)
            .and_then(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("{var} is not set for spawned binaries"));
        assert!(is_loopback_url(&value), "{var}={value}");
    }
    for credential in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"] {
        assert!(
            envs.iter().any(|(k, v)| k == credential && v.is_none()),
            "{credential} is not removed"
        );
    }
    // moto's environment overrides them with another loopback address.
    for (name, value) in moto::shared().env() {
        if name.contains("ENDPOINT") {
            assert!(is_loopback_url(&value), "{name}={value}");
        }
    }
}

#[test]
fn a_binary_without_a_test_endpoint_fails_on_loopback_not_on_aws() {
    let dir = tempfile::tempdir().unwrap();
    let out = support::command_in(dir.path())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .args(["check", "--registry", "s3://some-bucket/registry.yaml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = support::stderr(&out);
    assert!(
        stderr.contains("could not connect") || stderr.contains("127.0.0.1:9"),
        "{stderr}"
    );
    assert!(!stderr.contains("amazonaws.com"), "{stderr}");
    assert!(UNREACHABLE.starts_with("http://127.0.0.1"));
}

#[test]
fn no_test_source_names_a_real_service_endpoint() {
    // A URL to an AWS or Telegram host. IAM service principals (`lambda.amazonaws.com` in a
    // trust policy) are names, not endpoints, and stay allowed.
    let endpoint =
        regex::Regex::new(r#"(?i)[a-z]+://[^\s"'/]*(amazonaws\.com|telegram\.org)"#).unwrap();
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it");
    let sources = test_sources(&tests);
    assert!(
        sources.iter().any(|p| p.ends_with("support/moto.rs")),
        "the walk reaches support/: {sources:?}"
    );
    for path in sources {
        if path.file_name().is_some_and(|n| n == "isolation.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if let Some(found) = endpoint.find(&text) {
            panic!(
                "{} names {}: tests talk to loopback servers only",
                path.display(),
                found.as_str()
            );
        }
    }
    assert!(endpoint.is_match("https://s3.us-east-1.amazonaws.com/bucket"));
    assert!(endpoint.is_match("https://api.telegram.org/bot"));
    assert!(!endpoint.is_match(r#""Service": "lambda.amazonaws.com""#));
}

/// Every file under `dir`, in its folders too.
fn test_sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(test_sources(&path));
        } else {
            found.push(path);
        }
    }
    found
}
