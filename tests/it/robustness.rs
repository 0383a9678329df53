//! Hostile and unlucky inputs through the real binary (issue 27): a reader that closes the
//! pipe before the first line, numeric flags out of range, `depends_on` graphs of thousands
//! of artifacts. Each asserts what a user sees (exit code, the message, its size), never time.

use std::path::Path;
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::{self, command_in};

const HEAD: &str = "schema_version: 1\ndefaults:\n  s3_bucket: bucket\n  cadence: weekday_sf\n  \
                    severity: warning\n  owner_repo: team/repo\n  created_at: 2026-01-05\n  \
                    sla_minutes_after_cron: 60\nartifacts:\n";

const NOW: &str = "2026-06-03T12:00:00Z";

/// `n` artifacts `a0 <- a1 <- …` (each depends on the one before), closed into a ring when
/// `ring`, written as `registry.yaml` in a temp dir with an empty store.
fn chain(n: usize, ring: bool) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(HEAD);
    for i in 0..n {
        let dep = match (i, ring) {
            (0, false) => String::new(),
            (0, true) => format!(", depends_on: [a{}]", n - 1),
            _ => format!(", depends_on: [a{}]", i - 1),
        };
        text.push_str(&format!(
            "  - {{artifact_id: a{i}, s3_key_template: \"a/{{date}}/a{i}.json\"{dep}}}\n"
        ));
    }
    std::fs::write(dir.path().join("registry.yaml"), text).unwrap();
    std::fs::create_dir_all(dir.path().join("store/bucket")).unwrap();
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    support::run_in(dir, args)
}

/// `args` run with stdout a pipe whose reader closed before the binary started.
fn with_stdout_closed(dir: &Path, args: &[&str]) -> Output {
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    command_in(dir)
        .args(args)
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .expect("run freshness-monitor")
}

#[test]
fn a_closed_stdout_ends_every_printing_subcommand_quietly_with_its_own_exit_code() {
    let dir = chain(300, false);
    let store = "store";
    let check = [
        "check",
        "--registry",
        "registry.yaml",
        "--store",
        store,
        "--now",
        NOW,
    ];
    let mut check_json = check.to_vec();
    check_json.push("--json");
    let mut explain = vec!["explain", "a299"];
    explain.extend_from_slice(&check[1..]);
    let mut history = vec!["history"];
    history.extend_from_slice(&check[1..]);
    let mut history_json = history.clone();
    history_json.push("--json");
    let commands: [(&[&str], i32); 8] = [
        (&check, 2),
        (&check_json, 2),
        (&explain, 2),
        (&history, 0),
        (&history_json, 0),
        (&["calendar", "--from", "2000", "--to", "2050"], 0),
        (&["validate", "registry.yaml"], 0),
        (&["validate", "registry.yaml", "--json"], 0),
    ];
    for (args, code) in commands {
        let open = run(dir.path(), args);
        assert_eq!(open.status.code(), Some(code), "{args:?} with stdout open");
        assert!(!open.stdout.is_empty(), "{args:?} prints something");
        let closed = with_stdout_closed(dir.path(), args);
        let stderr = support::stderr(&closed);
        assert_eq!(
            closed.status.code(),
            Some(code),
            "{args:?} with stdout closed exits as if done: {stderr}"
        );
        assert!(
            !stderr.contains("panicked") && !stderr.contains("Broken pipe"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_ring_of_thousands_is_one_cycle_told_once_with_bounded_messages() {
    let dir = chain(5_000, true);
    let out = run(dir.path(), &["validate", "registry.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = support::stderr(&out);
    assert_eq!(stderr.matches("dependency cycle:").count(), 1, "told once");
    assert!(
        stderr.contains(
            "registry.yaml:10: artifact a0: field depends_on: dependency cycle: a0 -> a4999 -> "
        ),
        "{}",
        &stderr[..500.min(stderr.len())]
    );
    assert!(stderr.contains(" -> … (4976 more) -> a0\n"));
    assert!(stderr.contains(
        "registry.yaml:11: artifact a1: field depends_on: on a dependency cycle with `a0` \
         (reported at artifact a0, line 10; 5000 artifacts in all)\n"
    ));
    let longest = stderr.lines().map(str::len).max().unwrap_or(0);
    assert!(longest < 400, "every line is short: {longest} bytes");
    // The same member error is printed 20 times, then counted once: 23 lines, not 5,001.
    assert!(
        stderr.contains("registry.yaml:30: artifact a20: "),
        "{stderr}"
    );
    assert!(!stderr.contains("artifact a21: "), "{stderr}");
    assert!(
        stderr.ends_with(
            "registry.yaml: and 4979 more with the same error (lines 31 to 5009; every one in \
             --json): field depends_on: on a dependency cycle with `a0` (reported at artifact \
             a0, line 10; 5000 artifacts in all)\nregistry.yaml: 5000 errors\n"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 23, "{stderr}");
    let out = run(dir.path(), &["validate", "--json", "registry.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&out.stdout).expect("validate --json prints JSON");
    assert_eq!(
        json["errors"].as_array().unwrap().len(),
        5_000,
        "--json keeps every error"
    );
    assert_eq!(json["valid"], false);

    let out = run(
        dir.path(),
        &[
            "check",
            "--registry",
            "registry.yaml",
            "--store",
            "store",
            "--now",
            NOW,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("check --json prints JSON");
    let rows = json["results"].as_array().unwrap();
    assert_eq!(rows.len(), 5_000);
    let longest = rows.iter().map(|r| r.to_string().len()).max().unwrap_or(0);
    assert!(longest < 2_000, "every row is short: {longest} bytes");
}

#[test]
fn thousands_of_separate_alerts_make_a_digest_of_fifty_entries_and_a_count() {
    let dir = tempfile::tempdir().unwrap();
    let mut text = String::from(HEAD);
    for i in 0..5_000 {
        text.push_str(&format!(
            "  - {{artifact_id: a{i}, s3_key_template: \"a/{{date}}/a{i}.json\"}}\n"
        ));
    }
    std::fs::write(dir.path().join("registry.yaml"), text).unwrap();
    std::fs::create_dir_all(dir.path().join("store/bucket")).unwrap();
    let out = run(
        dir.path(),
        &[
            "check",
            "--registry",
            "registry.yaml",
            "--store",
            "store",
            "--now",
            NOW,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let stdout = support::stdout(&out);
    let table_end = stdout
        .find("5000 artifacts at 2026-06-03T12:00:00Z: 0 fresh, 0 stale, 5000 missing")
        .expect("the summary line");
    assert_eq!(
        stdout[..table_end].matches("\nmissing ").count(),
        5_000,
        "every row"
    );
    let digest = &stdout[table_end..];
    assert!(
        digest.contains("\n[WARNING] a49 missing (cycle 2026-06-02)\n"),
        "{digest}"
    );
    assert!(!digest.contains("[WARNING] a50 "), "{digest}");
    assert!(
        digest.ends_with(
            "\n… and 4950 more alerting artifacts not told here, by owner (each is a row of \
             check_results.json and of the status page):\n  team/repo: 4950 missing\n"
        ),
        "{}",
        &digest[digest.len().saturating_sub(600)..]
    );
    assert!(
        digest.len() < 40_000,
        "a short digest: {} bytes",
        digest.len()
    );
}

#[test]
fn a_chain_of_thousands_checks_with_every_alert_folded_under_its_head() {
    let dir = chain(5_000, false);
    let out = run(dir.path(), &["validate", "registry.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", support::stderr(&out));
    let out = run(
        dir.path(),
        &[
            "check",
            "--registry",
            "registry.yaml",
            "--store",
            "store",
            "--now",
            NOW,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", support::stderr(&out));
    let json: Value = serde_json::from_slice(&out.stdout).expect("check --json prints JSON");
    let rows = json["results"].as_array().unwrap();
    let folded = |r: &Value| r["policy"]["folded_under"].as_str().map(str::to_string);
    assert_eq!(folded(&rows[0]), None, "the head folds under nothing");
    assert!(
        rows[1..].iter().all(|r| folded(r).as_deref() == Some("a0")),
        "every other alert folds under a0"
    );
    let out = run(
        dir.path(),
        &[
            "explain",
            "a4999",
            "--registry",
            "registry.yaml",
            "--store",
            "store",
            "--now",
            NOW,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "it alerts: {}",
        support::stderr(&out)
    );
    assert!(
        support::stdout(&out).contains("folded under a0"),
        "{}",
        support::stdout(&out)
    );
}

#[test]
fn every_numeric_flag_out_of_range_says_its_range() {
    let dir = chain(1, false);
    let lookback = "must be a whole number of cycles from 1 to 1000, got";
    let year = "must be a year from 1900 to 2200, got";
    let cases: [(&[&str], &str); 7] = [
        (
            &[
                "history",
                "--registry",
                "registry.yaml",
                "--lookback",
                "weekday_sf=-1",
            ],
            lookback,
        ),
        (
            &[
                "history",
                "--registry",
                "registry.yaml",
                "--lookback",
                "weekday_sf=18446744073709551616",
            ],
            lookback,
        ),
        (
            &[
                "history",
                "--registry",
                "registry.yaml",
                "--lookback",
                "weekday_sf=0",
            ],
            lookback,
        ),
        (
            &["run", "--historical", "--lookback", "weekday_sf=1001"],
            lookback,
        ),
        (&["calendar", "--from", "-1"], year),
        (&["calendar", "--from", "2000", "--to", "99999999999"], year),
        (&["calendar", "--to", "1899"], year),
    ];
    for (args, range) in cases {
        let out = run(dir.path(), args);
        let stderr = support::stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: a usage error: {stderr}"
        );
        assert!(stderr.contains(range), "{args:?}: {stderr}");
    }
}
