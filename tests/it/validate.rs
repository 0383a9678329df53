//! `validate` on broken and valid registries: the real binary, its exit code and its exact
//! messages.
//!
//! Each file under `tests/fixtures/registries/bad/` starts with one `# expect: <line>` comment
//! per error it must produce, in order: the complete line `validate` prints, file name and line
//! number included. The files are validated from their own directory, so the file name in a
//! message is the bare name. Inputs too large or too odd to commit (a 50 MB file, alias bombs,
//! very deep nesting, bytes that are not UTF-8, a zero-byte file) are generated into a temp
//! dir. Every run is bounded: a hang fails the test instead of stalling the suite.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::support;

/// Far beyond any honest run: this is a hang guard, not a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);

fn fixtures(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/registries")
        .join(kind)
}

struct Run {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` to completion, killing it and failing the test if it outlives [`HANG_GUARD`].
fn run_bounded(mut cmd: Command, what: &str) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start freshness-monitor");
    // Drain both pipes while waiting, so a chatty child cannot block on a full pipe.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).expect("read child output");
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for freshness-monitor") {
            break status;
        }
        if started.elapsed() > HANG_GUARD {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what}: still running after {HANG_GUARD:?}; killed (a hang)");
        }
        thread::sleep(Duration::from_millis(20));
    };
    Run {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn validate(dir: &Path, args: &[&str]) -> Run {
    let mut cmd = support::command_in(dir);
    cmd.arg("validate").args(args);
    run_bounded(cmd, &format!("validate {}", args.join(" ")))
}

/// The `# expect:` lines at the top of a fixture. `[..]` in one stands for any text on its
/// line (as in the docs' examples): the list of known fields ends in one, so a new optional
/// field does not rewrite the fixtures that list them.
fn expectations(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .lines()
        .map_while(|line| line.strip_prefix("# expect: "))
        .map(str::to_string)
        .collect()
}

fn errors_summary(name: &str, count: usize) -> String {
    format!("{name}: {count} error{}", if count == 1 { "" } else { "s" })
}

/// Checks one failing run: exit 1, nothing on stdout, exactly `expected` then the count on
/// stderr, and no panic. Returns a description of what is wrong, if anything.
fn failing_run_problems(name: &str, run: &Run, expected: &[String]) -> Option<String> {
    let mut want: Vec<String> = expected.to_vec();
    want.push(errors_summary(name, expected.len()));
    let got: Vec<&str> = run.stderr.lines().collect();
    let ok = run.status.code() == Some(1)
        && run.stdout.is_empty()
        && lines_match(&want, &got)
        && !run.stderr.contains("panicked");
    (!ok).then(|| {
        format!(
            "{name}: exit {:?}\n  expected stderr:\n    {}\n  got stderr:\n    {}\n  stdout: {:?}",
            run.status.code(),
            want.join("\n    "),
            got.join("\n    "),
            run.stdout
        )
    })
}

/// Each line matches its expectation, `[..]` standing for any text on it.
fn lines_match<S: AsRef<str>>(want: &[String], got: &[S]) -> bool {
    want.len() == got.len()
        && (want.iter().zip(got)).all(|(w, g)| support::docs::line_matches(w, g.as_ref()))
}

fn yaml_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    names.sort();
    names
}

#[test]
fn validate_every_broken_fixture_fails_with_exactly_its_expected_messages() {
    let dir = fixtures("bad");
    let names = yaml_files(&dir);
    assert!(
        names.len() >= 24,
        "only {} broken registries under {}",
        names.len(),
        dir.display()
    );
    let mut problems = Vec::new();
    for name in &names {
        let expected = expectations(&dir.join(name));
        if expected.is_empty() {
            problems.push(format!("{name}: has no `# expect:` line"));
            continue;
        }
        let run = validate(&dir, &[name]);
        problems.extend(failing_run_problems(name, &run, &expected));
    }
    assert!(
        problems.is_empty(),
        "{} of {} fixtures:\n{}",
        problems.len(),
        names.len(),
        problems.join("\n")
    );
}

#[test]
fn validate_json_lists_the_same_errors_for_every_broken_fixture() {
    let dir = fixtures("bad");
    let mut problems = Vec::new();
    for name in yaml_files(&dir) {
        let expected = expectations(&dir.join(&name));
        let run = validate(&dir, &["--json", &name]);
        let parsed: Result<serde_json::Value, _> = serde_json::from_str(&run.stdout);
        let ok = run.status.code() == Some(1)
            && !run.stderr.contains("panicked")
            && parsed.as_ref().is_ok_and(|json| {
                let errors: Option<Vec<&str>> = (json["errors"].as_array())
                    .and_then(|errors| errors.iter().map(serde_json::Value::as_str).collect());
                json["valid"] == false
                    && errors.is_some_and(|errors| lines_match(&expected, &errors))
            });
        if !ok {
            problems.push(format!(
                "{name}: exit {:?}, stdout {}, stderr {}",
                run.status.code(),
                run.stdout,
                run.stderr
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The cases issue 2 names must stay in the corpus, whatever else is added or renamed.
#[test]
fn validate_corpus_covers_the_required_cases() {
    let names = yaml_files(&fixtures("bad"));
    for required in [
        "unknown_field.yaml",
        "typo_field.yaml",
        "wrong_type_text_for_number.yaml",
        "duplicate_id.yaml",
        "unknown_cadence.yaml",
        "unknown_cadence_near_miss.yaml",
        "unknown_placeholder.yaml",
        "negative_sla.yaml",
        "continuous_without_interval.yaml",
        "interval_on_non_continuous.yaml",
        "bad_date.yaml",
        "bad_cron.yaml",
        "unknown_time_zone.yaml",
        "builtin_cadence_shadowed.yaml",
        "only_comments.yaml",
        "not_a_mapping.yaml",
        "not_yaml.yaml",
        "defaults_broken.yaml",
        "many_problems.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing fixture {required}"
        );
    }
    // The many-problems fixture shows that one run lists every error, across artifacts.
    let many = expectations(&fixtures("bad").join("many_problems.yaml"));
    assert!(many.len() >= 8, "{many:#?}");
}

#[test]
fn validate_accepts_the_good_fixtures_with_their_summary() {
    let dir = fixtures("good");
    let cases: &[(&str, &[&str])] = &[
        (
            "minimal.yaml",
            &[
                "minimal.yaml: valid: 1 artifact",
                "buckets: research-bucket (1)",
                "cadences: saturday_sf (1)",
            ],
        ),
        (
            "python_style.yaml",
            &[
                "python_style.yaml: valid: 4 artifacts",
                "buckets: research-bucket (3), ticks-bucket (1)",
                "cadences: continuous (1), eod_sf (1), saturday_sf (1), weekday_sf (1)",
            ],
        ),
        (
            "every_section.yaml",
            &[
                "every_section.yaml: valid: 7 artifacts",
                "buckets: backtest-bucket (1), research-bucket (6)",
                "cadences: continuous (1), desk_close (1), monthly_rebalance (1), \
                 nightly_tokyo (1), quarter_hourly (1), saturday_sf (1), weekday_sf (1)",
            ],
        ),
        (
            "no_artifacts.yaml",
            &[
                "no_artifacts.yaml: valid: 0 artifacts",
                "buckets: none",
                "cadences: none",
            ],
        ),
    ];
    assert_eq!(
        yaml_files(&dir),
        {
            let mut names: Vec<String> = cases.iter().map(|(n, _)| n.to_string()).collect();
            names.sort();
            names
        },
        "every good fixture has its expected summary here"
    );
    for (name, summary) in cases {
        let run = validate(&dir, &[name]);
        assert_eq!(run.status.code(), Some(0), "{name}: stderr {}", run.stderr);
        assert_eq!(run.stdout.lines().collect::<Vec<_>>(), *summary, "{name}");
        assert_eq!(run.stderr, "", "{name}");
    }

    let run = validate(&dir, &["--json", "python_style.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON summary");
    assert_eq!(
        json,
        serde_json::json!({
            "valid": true,
            "artifacts": 4,
            "buckets": ["research-bucket", "ticks-bucket"],
            "cadences": {"continuous": 1, "eod_sf": 1, "saturday_sf": 1, "weekday_sf": 1},
            "errors": [],
            "warnings": [],
        })
    );
}

#[test]
fn validate_the_demo_registry() {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/demo");
    let run = validate(&demo, &["ARTIFACT_REGISTRY.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert!(
        run.stdout
            .starts_with("ARTIFACT_REGISTRY.yaml: valid: 9 artifacts\n"),
        "{}",
        run.stdout
    );
}

/// Writes each generated input into a fresh temp dir and checks its one expected message.
fn check_generated(cases: &[(&str, Vec<u8>, &str)]) {
    let dir = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    for (name, bytes, message) in cases {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let run = validate(dir.path(), &[name]);
        problems.extend(failing_run_problems(name, &run, &[message.to_string()]));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// A registry of `count` well-formed artifacts, as text.
fn many_artifacts(count: usize) -> String {
    let mut text = String::from("schema_version: 1\nartifacts:\n");
    for i in 0..count {
        text.push_str(&format!(
            "  - artifact_id: artifact_{i}\n    s3_bucket: research-bucket\n    \
             s3_key_template: \"backtest/{{date}}/artifact_{i}.json\"\n    cadence: saturday_sf\n    \
             sla_minutes_after_cron: 180\n    severity: critical\n    owner_repo: backtester\n    \
             created_at: 2026-05-27\n"
        ));
    }
    text
}

#[test]
fn validate_refuses_a_300_mb_file_without_reading_it_as_yaml() {
    // A sparse file: 1,000 artifacts, then zeros up to exactly 300,000,000 bytes. Only its
    // size is looked at, so nothing reads the 300 MB.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.yaml");
    std::fs::write(&path, many_artifacts(1000)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(300_000_000)
        .unwrap();
    let run = validate(dir.path(), &["huge.yaml"]);
    let expected =
        "huge.yaml: registry is 300.0 MB; the limit is 256 MiB (is this the right file?)";
    let problem = failing_run_problems("huge.yaml", &run, &[expected.to_string()]);
    assert!(problem.is_none(), "{}", problem.unwrap_or_default());
}

#[test]
fn validate_refuses_alias_bombs() {
    // "Billion laughs": each level is ten aliases of the one before.
    let mut laughs = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..12 {
        let refs = vec![format!("*a{}", i - 1); 10].join(", ");
        laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    // The same with mappings, the way an operator's anchors are written; it is stopped
    // while the anchors are still being defined, long before `artifacts:` uses the last.
    let mut nested = String::from("schema_version: 1\nx0: &x0 {a: 1, b: 2, c: 3, d: 4}\n");
    for i in 1..10 {
        let refs: Vec<String> = (0..10).map(|k| format!("k{k}: *x{}", i - 1)).collect();
        nested.push_str(&format!("x{i}: &x{i} {{{}}}\n", refs.join(", ")));
    }
    nested.push_str("artifacts:\n  - *x9\n");
    check_generated(&[
        (
            "laughs.yaml",
            laughs.into_bytes(),
            "laughs.yaml:5: aliases expand to more than 100000 nodes; refusing to expand them \
             (nested anchors and aliases?)",
        ),
        (
            "nested_aliases.yaml",
            nested.into_bytes(),
            "nested_aliases.yaml:6: aliases expand to more than 100000 nodes; refusing to expand \
             them (nested anchors and aliases?)",
        ),
    ]);
}

#[test]
fn validate_refuses_deep_nesting() {
    let flow = format!(
        "schema_version: 1\nartifacts: {}{}\n",
        "[".repeat(100),
        "]".repeat(100)
    );
    let very_deep_flow = format!(
        "artifacts: {}{}\n",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let very_deep_maps = format!(
        "artifacts: {}b{}\n",
        "{a: ".repeat(100_000),
        "}".repeat(100_000)
    );
    let block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect::<String>()
        + &"  ".repeat(200)
        + "leaf\n";
    check_generated(&[
        (
            "deep_flow.yaml",
            flow.into_bytes(),
            "deep_flow.yaml:2: nesting deeper than 64 levels",
        ),
        (
            "very_deep_flow.yaml",
            very_deep_flow.into_bytes(),
            "very_deep_flow.yaml:1: not valid YAML: recursion limit exceeded",
        ),
        (
            "very_deep_maps.yaml",
            very_deep_maps.into_bytes(),
            "very_deep_maps.yaml:1: nesting deeper than 64 levels",
        ),
        (
            "deep_block.yaml",
            block.into_bytes(),
            "deep_block.yaml:65: nesting deeper than 64 levels",
        ),
    ]);
}

#[test]
fn validate_refuses_empty_and_non_text_files() {
    check_generated(&[
        (
            "empty.yaml",
            Vec::new(),
            "empty.yaml: registry is empty; expected a mapping with `artifacts:`",
        ),
        (
            "whitespace.yaml",
            b"\n\n   \n".to_vec(),
            "whitespace.yaml: registry is empty; expected a mapping with `artifacts:`",
        ),
        (
            "latin1.yaml",
            b"schema_version: 1\nartifacts:\n  - artifact_id: caf\xe9\n".to_vec(),
            "latin1.yaml:3: not UTF-8 text",
        ),
        (
            "binary.yaml",
            vec![
                0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d,
            ],
            "binary.yaml:1: not UTF-8 text",
        ),
    ]);
}

#[test]
fn validate_finds_the_one_bad_field_deep_in_a_large_registry() {
    let mut text = many_artifacts(2000);
    text.push_str("    sla_minute_after_cron: 15\n");
    let last_line = text.lines().count();
    check_generated(&[(
        "large.yaml",
        text.into_bytes(),
        &format!(
            "large.yaml:{last_line}: artifact artifact_1999: field sla_minute_after_cron: \
             unknown field; did you mean `sla_minutes_after_cron`?"
        ),
    )]);
}

#[test]
fn validate_a_missing_file_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let run = validate(dir.path(), &["nowhere.yaml"]);
    assert_eq!(run.status.code(), Some(1), "{}", run.stderr);
    let first = run.stderr.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("nowhere.yaml: cannot read: "),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

/// The minimal valid registry of the `good` fixtures, with `edit` applied.
fn minimal_with(edit: impl Fn(String) -> String) -> Vec<u8> {
    let minimal = std::fs::read_to_string(fixtures("good").join("minimal.yaml")).unwrap();
    edit(minimal).into_bytes()
}

#[test]
fn validate_cuts_pasted_megabytes_short_and_still_answers() {
    let megabyte = |c: &str| c.repeat(1_000_000);
    let sixty = |c: &str| c.repeat(60);
    check_generated(&[
        (
            "long_time_zone.yaml",
            minimal_with(|text| {
                text.replace(
                    "schema_version: 1\n",
                    &format!(
                        "schema_version: 1\ncadences:\n  monthly: {{cron: \"0 14 1 * *\", \
                         timezone: {}}}\n",
                        megabyte("Z")
                    ),
                )
                .replace("cadence: saturday_sf", "cadence: weekday_sf")
            }),
            &format!(
                "long_time_zone.yaml:3: field cadences.monthly.timezone: unknown time zone \
                 \"{}\"…; use an IANA name such as America/New_York or UTC",
                sixty("Z")
            ),
        ),
        (
            "long_cadence.yaml",
            minimal_with(|text| {
                text.replace(
                    "cadence: saturday_sf",
                    &format!("cadence: {}", megabyte("s")),
                )
            }),
            &format!(
                "long_cadence.yaml:6: artifact pit_parity: field cadence: unknown cadence \
                 \"{}\"…; known cadences: saturday_sf, weekday_sf, eod_sf, continuous",
                sixty("s")
            ),
        ),
        (
            "long_id.yaml",
            minimal_with(|text| {
                text.replace(
                    "artifact_id: pit_parity",
                    &format!("artifact_id: {}", megabyte("a b")),
                )
            }),
            &format!(
                "long_id.yaml:3: artifact {}…: field artifact_id: artifact_id \"{}\"… contains \
                 ' '; only letters, digits, `_`, `.` and `-` are allowed",
                &megabyte("a b")[..60],
                &megabyte("a b")[..60]
            ),
        ),
        (
            "long_placeholder.yaml",
            minimal_with(|text| {
                text.replace(
                    "\"backtest/{date}/pit_parity.json\"",
                    &format!("\"{{{}}}\"", megabyte("y")),
                )
            }),
            &format!(
                "long_placeholder.yaml:5: artifact pit_parity: field s3_key_template: unknown \
                 placeholder {{{}…}}; known: {{date}}, {{date:FORMAT}}, {{cycle_label}}, \
                 {{trading_day}}, {{trading_day:FORMAT}} (write {{{{ and }}}} for literal braces)",
                sixty("y")
            ),
        ),
    ]);
}

#[test]
fn validate_accepts_windows_line_endings_and_a_byte_order_mark() {
    let dir = tempfile::tempdir().unwrap();
    let crlf = minimal_with(|text| text.replace('\n', "\r\n"));
    let bom = [b"\xef\xbb\xbf".to_vec(), crlf.clone()].concat();
    for (name, bytes) in [("crlf.yaml", crlf), ("bom.yaml", bom)] {
        std::fs::write(dir.path().join(name), bytes).unwrap();
        let run = validate(dir.path(), &[name]);
        assert_eq!(run.status.code(), Some(0), "{name}: {}", run.stderr);
        assert_eq!(
            run.stdout.lines().next(),
            Some(format!("{name}: valid: 1 artifact").as_str())
        );
    }
}

/// The cases of issue 16 (what can never work or cannot be meaningful) stay in the corpus.
#[test]
fn validate_corpus_covers_what_can_never_work() {
    let names = yaml_files(&fixtures("bad"));
    for required in [
        "grace_past_year_9999.yaml",
        "grace_past_year_9999_on_a_leap_day_cron.yaml",
        "interval_over_a_century.yaml",
        "bucket_name_uppercase.yaml",
        "defaults_bucket_name_underscore.yaml",
        "key_too_long.yaml",
        "recovery_is_canonical.yaml",
        "empty_artifact_item.yaml",
        "number_beyond_i64.yaml",
    ] {
        assert!(
            names.iter().any(|n| n == required),
            "missing fixture {required}"
        );
    }
}

/// Warnings (an extra closure on a weekend or listed twice, a `created_at` far ahead) are
/// printed as `file:line: warning: ...` and counted, and leave the exit code alone.
#[test]
fn validate_prints_warnings_and_still_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let text = minimal_with(|text| {
        text.replace(
            "schema_version: 1\n",
            "schema_version: 1\ncalendar:\n  extra_closures: [2025-01-09, 2025-01-11, 2025-01-09]\n",
        )
        .replace("created_at: 2026-05-27", "created_at: 2999-01-01")
    });
    std::fs::write(dir.path().join("warned.yaml"), text).unwrap();

    let run = validate(dir.path(), &["warned.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    assert_eq!(
        run.stdout.lines().next(),
        Some("warned.yaml: valid: 1 artifact, 3 warnings")
    );
    let stderr: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(stderr.len(), 3, "{}", run.stderr);
    assert_eq!(
        stderr[..2],
        [
            "warned.yaml:3: warning: field calendar.extra_closures[1]: 2025-01-11 is a Saturday; \
             the market is closed on weekends anyway",
            "warned.yaml:3: warning: field calendar.extra_closures[2]: 2025-01-09 is listed twice \
             (first as extra_closures[0], line 3)",
        ]
    );
    let future = regex::Regex::new(concat!(
        r"^warned\.yaml:5: warning: artifact pit_parity: field created_at: 2999-01-01 is \d+ ",
        r"days after today \(\d{4}-\d{2}-\d{2}\): the artifact will sit in its grace period ",
        r"until 2999-01-15T00:00:00Z$",
    ))
    .unwrap();
    assert!(future.is_match(stderr[2]), "{}", stderr[2]);

    let run = validate(dir.path(), &["--json", "warned.yaml"]);
    assert_eq!(run.status.code(), Some(0), "{}", run.stderr);
    let json: serde_json::Value = serde_json::from_str(&run.stdout).expect("JSON summary");
    assert_eq!(json["valid"], true);
    assert_eq!(json["warnings"].as_array().map(Vec::len), Some(3), "{json}");
}
