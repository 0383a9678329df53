//! The docs are tested (issue 27): what README.md and docs/ show is what the binary does.
//!
//! - Every `$ freshness-monitor …` example of README.md and docs/*.md runs against the demo
//!   store (`examples/demo/store.sh`, which the pages call `/tmp/demo-store`) and must print
//!   what the page shows, elisions (`...` lines, `[..]`) aside; `DOCS_BLESS=1` rewrites the
//!   shown output from what was printed.
//! - Every whole registry shown in a page passes `validate` (or fails it, when the page says it
//!   is a bad one).
//! - Every JSON example is compared by its keys with the real output it stands for, made by a
//!   real pass against moto's server.
//! - The README's "Getting started" runs as written against moto's server: registry,
//!   validate, check against a bucket, deploy in observe mode, the pass's outputs.
//! - No markdown file names a `src/` path that does not exist.
//!
//! The conventions (directives, elisions, what is not run) are in CONTRIBUTING.md and
//! `support/docs.rs`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::docs::{self, Block};
use crate::support::function::Function;
use crate::support::{self, moto};

/// The path the pages use for the demo store.
const DEMO_STORE: &str = "/tmp/demo-store";

/// A directory the examples of one page run in: the repository's `examples/` linked in,
/// the demo store built, the binary first on PATH, and an environment that reaches nothing
/// real unless `env` points it at moto.
struct Sandbox {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
}

impl Sandbox {
    fn new() -> Sandbox {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(docs::root().join("examples"), dir.path().join("examples"))
            .unwrap();
        for shared in ["deploy.sh", "scripts", "tests"] {
            std::os::unix::fs::symlink(docs::root().join(shared), dir.path().join(shared)).unwrap();
        }
        std::os::unix::fs::symlink(
            docs::root().join("iam-policy.json"),
            dir.path().join("iam-policy.json"),
        )
        .unwrap();
        std::fs::create_dir(dir.path().join("tmp")).unwrap();
        let sandbox = Sandbox {
            dir,
            env: Vec::new(),
        };
        let out = sandbox.shell(&format!("bash examples/demo/store.sh {DEMO_STORE}"));
        assert!(out.status.success(), "store.sh: {}", support::stderr(&out));
        sandbox
    }

    /// Where the pages' `/tmp/` is: the sandbox's own `tmp/`, so pages write `/tmp/demo-store`
    /// and `/tmp/producer` as a reader would, and parallel tests do not meet.
    fn tmp(&self) -> PathBuf {
        self.dir.path().join("tmp")
    }

    /// The command as the page writes it, its `/tmp/` paths made the sandbox's.
    fn shell(&self, command: &str) -> Output {
        let command = command.replace("/tmp/", &format!("{}/", self.tmp().display()));
        let bin = support::bin();
        let template = support::command_in(self.dir.path());
        let mut cmd = Command::new("bash");
        cmd.current_dir(self.dir.path());
        for (name, value) in template.get_envs() {
            match value {
                Some(v) => cmd.env(name, v),
                None => cmd.env_remove(name),
            };
        }
        let path = format!(
            "{}:{}",
            bin.parent().unwrap().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("FRESHNESS_MONITOR_BIN", &bin)
            .env("NO_COLOR", "1")
            .env("COLUMNS", "100");
        for (name, value) in &self.env {
            cmd.env(name, value);
        }
        cmd.args(["-c", &format!("exec 2>&1\n{command}")])
            .output()
            .expect("run bash")
    }

    /// What the command printed, as the page would show it: the sandbox's paths as the page
    /// writes them.
    fn printed(&self, out: &Output) -> Vec<String> {
        let text = support::stdout(out)
            .replace(&format!("{}/", self.tmp().display()), "/tmp/")
            .replace(&format!("{}/", self.dir.path().display()), "");
        docs::output_lines(&text)
    }
}

/// Runs the example blocks `pick` chooses, in page order, each page in a sandbox of its own
/// (`setup` may prepare it); returns the failures, and re-blesses the pages under DOCS_BLESS.
fn run_examples(
    pages: &[PathBuf],
    pick: impl Fn(&Block) -> bool,
    setup: impl Fn(&mut Sandbox),
) -> (usize, Vec<String>) {
    let mut failures = Vec::new();
    let mut ran = 0;
    for page in pages {
        let blocks: Vec<Block> = docs::blocks(page).into_iter().filter(&pick).collect();
        if blocks.is_empty() {
            continue;
        }
        let mut sandbox = Sandbox::new();
        setup(&mut sandbox);
        let mut edits = Vec::new();
        for block in &blocks {
            // A file the page asks the reader to save (`file FILE`, or `moto FILE` in the
            // walkthrough).
            if !block.is_example() {
                if let Some(file) = block
                    .directive
                    .as_deref()
                    .and_then(|d| d.split_whitespace().nth(1))
                {
                    std::fs::write(sandbox.dir.path().join(file), block.text()).unwrap();
                }
                continue;
            }
            for step in docs::steps(block) {
                ran += 1;
                let out = sandbox.shell(&step.command);
                let printed = sandbox.printed(&out);
                let code = out.status.code();
                if !matches!(code, Some(0..=2)) {
                    failures.push(format!(
                        "{} `{}` exited {code:?} (a panic, or not found):\n{}",
                        block.at(),
                        step.command,
                        printed.join("\n")
                    ));
                    continue;
                }
                if docs::output_matches(&step.expected, &printed) {
                    continue;
                }
                if docs::blessing() {
                    let blessed = docs::bless(&step.expected, &printed);
                    edits.push((
                        block.first_line + step.output_start,
                        step.expected.len(),
                        blessed,
                    ));
                } else {
                    failures.push(format!(
                        "{} `{}` prints other than the page shows:\n{}",
                        block.at(),
                        step.command,
                        docs::diff_report(&step.expected, &printed)
                    ));
                }
            }
        }
        docs::rewrite(page, edits);
    }
    (ran, failures)
}

#[test]
fn docs_examples_print_what_the_pages_show() {
    let pages = docs::example_pages();
    let (ran, failures) = run_examples(
        &pages,
        |b| (b.is_example() && b.directive_word().is_none()) || b.directive_word() == Some("file"),
        |_| {},
    );
    assert!(ran >= 10, "only {ran} examples found in {pages:?}");
    assert!(
        failures.is_empty(),
        "{} of {ran} examples do not match (DOCS_BLESS=1 rewrites the pages; review with git diff):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn docs_every_example_runs_or_says_why_not() {
    let mut unmarked = Vec::new();
    for page in docs::example_pages() {
        for block in docs::blocks(&page) {
            let word = block.directive_word();
            if let Some(word) = word
                && !["skip", "moto", "keys", "invalid", "file"].contains(&word)
            {
                unmarked.push(format!("{}: unknown directive {word:?}", block.at()));
            }
            if word == Some("skip")
                && block
                    .directive
                    .as_deref()
                    .unwrap_or("")
                    .split_whitespace()
                    .count()
                    < 2
            {
                unmarked.push(format!("{}: `skip` without a reason", block.at()));
            }
            if block.info == "json" && word.is_none() {
                unmarked.push(format!(
                    "{}: a JSON example with neither `keys SOURCE` nor `skip REASON`",
                    block.at()
                ));
            }
            // A command line shown with its output but without the `$ ` that makes it run.
            if !block.is_example()
                && block
                    .lines
                    .iter()
                    .skip(1)
                    .any(|l| !l.trim().is_empty() && !l.starts_with("freshness-monitor "))
                && block.lines.first().is_some_and(|l| {
                    l.starts_with("freshness-monitor ") && !l.contains('[') && !l.contains('|')
                })
                && word.is_none()
            {
                unmarked.push(format!(
                    "{}: `{}` with output but no `$ `: make it an example or mark it",
                    block.at(),
                    block.lines[0]
                ));
            }
        }
    }
    assert!(unmarked.is_empty(), "{}", unmarked.join("\n"));
}

/// What a registry excerpt is validated inside: the `defaults:` every page's examples
/// assume and, for an excerpt without artifacts, one artifact its silences can match.
const BASE_REGISTRY: &str = "schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
";

const BASE_ARTIFACTS: &str = "artifacts:
  - artifact_id: pit_parity
    s3_key_template: \"backtest/{date}/pit_parity.json\"
    cadence: saturday_sf
    sla_minutes_after_cron: 180
    owner_repo: backtester
";

/// The registries the pages show pass `validate`: a whole one (with `schema_version:`) as it
/// is; an excerpt (a section, or artifacts of a list) inside [`BASE_REGISTRY`]. A YAML block
/// that is not a registry (a pins file) says so with `skip`.
#[test]
fn docs_registry_examples_pass_validate() {
    let sandbox = Sandbox::new();
    let mut failures = Vec::new();
    let (mut whole, mut excerpts) = (0, 0);
    for page in docs::markdown_files() {
        for block in docs::blocks(&page) {
            if block.info != "yaml" || block.directive_word() == Some("skip") {
                continue;
            }
            let text = block.text();
            let registry = if block.lines.iter().any(|l| l.starts_with("schema_version:")) {
                whole += 1;
                text
            } else if block.lines.first().is_some_and(|l| l.starts_with("  - ")) {
                excerpts += 1;
                format!("{BASE_REGISTRY}artifacts:\n{text}")
            } else {
                excerpts += 1;
                format!("{BASE_REGISTRY}{text}{BASE_ARTIFACTS}")
            };
            let file = sandbox.dir.path().join("example.yaml");
            std::fs::write(&file, &registry).unwrap();
            let out = sandbox.shell("freshness-monitor validate example.yaml");
            let printed = sandbox.printed(&out).join("\n");
            let want = if block.directive_word() == Some("invalid") {
                1
            } else {
                0
            };
            if out.status.code() != Some(want) {
                failures.push(format!(
                    "{}: validate exits {:?}, the page means {want}:\n{printed}\n(validated:\n{registry})",
                    block.at(),
                    out.status.code()
                ));
            }
        }
    }
    assert!(
        whole >= 3 && excerpts >= 5,
        "only {whole} registries and {excerpts} excerpts found"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A merge that left its markers in a page shows readers both sides and neither: no
/// markdown file may hold a line that is one.
#[test]
fn docs_hold_no_merge_conflict_markers() {
    // `=======` alone may be a setext heading's underline: the two ends are enough.
    let marker = regex::Regex::new(r"^(<<<<<<< |>>>>>>> )").unwrap();
    let mut found = Vec::new();
    for page in docs::markdown_files() {
        let text = std::fs::read_to_string(docs::root().join(&page)).unwrap();
        for (n, line) in text.lines().enumerate() {
            if marker.is_match(line) {
                found.push(format!("{}:{}: {line}", page.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "merge conflict markers:\n{}",
        found.join("\n")
    );
}

#[test]
fn docs_name_only_src_paths_that_exist() {
    let path =
        regex::Regex::new(r"(?:crates/[A-Za-z0-9_.-]+/)?\bsrc/[A-Za-z0-9_./-]*[A-Za-z0-9_/]")
            .unwrap();
    let mut missing = Vec::new();
    let mut seen = 0;
    for page in docs::markdown_files() {
        let text = std::fs::read_to_string(docs::root().join(&page)).unwrap();
        for (n, line) in text.lines().enumerate() {
            for found in path.find_iter(line) {
                // `foo/src/bar` is a path inside another tree (a crate's registry checkout).
                let before = &line[..found.start()];
                if before
                    .ends_with(|c: char| c.is_alphanumeric() || c == '/' || c == '_' || c == '-')
                {
                    continue;
                }
                seen += 1;
                if !docs::root().join(found.as_str()).exists() {
                    missing.push(format!("{}:{}: {}", page.display(), n + 1, found.as_str()));
                }
            }
        }
    }
    assert!(
        seen > 20,
        "only {seen} src/ paths found: is the walk right?"
    );
    assert!(
        missing.is_empty(),
        "paths in markdown that do not exist (resolved from the repository root):\n{}",
        missing.join("\n")
    );
}

/// A moto account of its own with the demo registry and the demo store's objects in
/// `research-bucket`, and a sandbox whose commands act in it.
fn demo_on_moto() -> Sandbox {
    let server = moto::shared();
    let account = server.new_account();
    let mut sandbox = Sandbox::new();
    sandbox.env = server
        .env_in(&account)
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let out = sandbox.shell(&format!(
        "set -e
         aws s3 mb s3://research-bucket >/dev/null
         aws s3 cp examples/demo/ARTIFACT_REGISTRY.yaml \
           s3://research-bucket/_freshness_monitor/ARTIFACT_REGISTRY.yaml >/dev/null
         aws s3 cp --recursive {DEMO_STORE}/research-bucket s3://research-bucket >/dev/null"
    ));
    assert!(out.status.success(), "{}", support::stdout(&out));
    sandbox
}

/// The real outputs a pass writes and prints, by the names the pages' `keys` directives use.
fn real_outputs() -> BTreeMap<String, Value> {
    let sandbox = demo_on_moto();
    let mut outputs = BTreeMap::new();
    let run = |command: &str| -> (String, String) {
        let out = sandbox.shell(&format!(
            "{{ export REGISTRY_BUCKET=research-bucket; {command}; }} 2>stderr.txt"
        ));
        let stderr = std::fs::read_to_string(sandbox.dir.path().join("stderr.txt")).unwrap();
        (support::stdout(&out), stderr)
    };
    // The EMF lines: the Lambda prints them (`run` does not), so one scheduled pass of the
    // binary served by a loopback Runtime API, before the passes whose files are read.
    let env: Vec<(&str, &str)> = sandbox
        .env
        .iter()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .chain([("REGISTRY_BUCKET", "research-bucket")])
        .collect();
    let endpoint = moto::shared().endpoint();
    let function = Function::start(&endpoint, &env);
    function.pass("2026-07-03T15:00:00Z");
    function.await_log_lines("pass complete", 1);
    let emf = (0..100)
        .find_map(|_| {
            let found = function
                .all_logs()
                .lines()
                .filter_map(|l| serde_json::from_str::<Value>(l).ok())
                .find(|v| v.get("_aws").is_some() && v.get("Cadence").is_some());
            if found.is_none() {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            found
        })
        .expect("an EMF line with a Cadence from the Lambda's pass");
    outputs.insert("emf".into(), emf);
    // An observe-mode pass, then one with alerts on and an SNS topic, so the heartbeat has
    // its channels and the dedup prefix a published marker.
    run("freshness-monitor run");
    let (topic, _) = run("aws sns create-topic --name docs-alerts --query TopicArn --output text");
    let (response, log) = run(&format!(
        "FRESHNESS_MONITOR_ENABLED=true SNS_TOPIC_ARN={} freshness-monitor run",
        topic.trim()
    ));
    outputs.insert("response".into(), parse(&response, "run's response"));
    for line in log.lines().filter(|l| l.starts_with('{')) {
        let value = parse(line, "a log line");
        if value["message"] == "pass complete" {
            outputs.insert("log".into(), value);
        }
    }
    let (markers, _) = run(
        "aws s3api list-objects-v2 --bucket research-bucket --prefix _alerts/_dedup/ \
           --query 'Contents[0].Key' --output text",
    );
    let (marker, _) = run(&format!(
        "aws s3 cp s3://research-bucket/{} -",
        markers.trim()
    ));
    outputs.insert("dedup-marker".into(), parse(&marker, "a dedup marker"));
    let (ack, _) = run(
        "freshness-monitor ack weekly_signals --by alice --note 'vendor feed late' \
           --registry examples/demo/ARTIFACT_REGISTRY.yaml \
           --results s3://research-bucket/_freshness_monitor/ >/dev/null && \
         aws s3 cp s3://research-bucket/_freshness_monitor/acks/weekly_signals.json -",
    );
    outputs.insert("ack".into(), parse(&ack, "an ack"));
    let (history_response, _) = run("freshness-monitor run --historical");
    outputs.insert(
        "historical-response".into(),
        parse(&history_response, "run --historical's response"),
    );
    // `check --json` is exactly what check_results.json would hold; on the demo store at the
    // demo's moment its rows have every state (grace period and closed market included).
    let (rows, _) = run(&format!(
        "freshness-monitor check --json --registry examples/demo/ARTIFACT_REGISTRY.yaml \\
           --store {DEMO_STORE} --now 2026-07-03T15:00:00Z"
    ));
    outputs.insert("check_results.json".into(), parse(&rows, "check --json"));
    for name in [
        "heartbeat.json",
        "cycle_verdict.json",
        "ledger.json",
        "history.json",
    ] {
        let (body, _) = run(&format!(
            "aws s3 cp s3://research-bucket/_freshness_monitor/{name} -"
        ));
        outputs.insert(name.into(), parse(&body, name));
    }
    // Last, the heartbeat of a pass whose registry is not valid YAML.
    let (heartbeat, _) = run(&format!(
        "printf 'schema_version: 1\\nartifacts:\\n  - [\\n' >broken.yaml && \\
         aws s3 cp broken.yaml s3://research-bucket/_freshness_monitor/ARTIFACT_REGISTRY.yaml >/dev/null; \\
         FRESHNESS_MONITOR_ENABLED=true SNS_TOPIC_ARN={} freshness-monitor run >/dev/null; \\
         aws s3 cp s3://research-bucket/_freshness_monitor/heartbeat.json -",
        topic.trim()
    ));
    outputs.insert(
        "heartbeat-registry-error".into(),
        parse(&heartbeat, "the heartbeat after a registry error"),
    );
    if let Ok(dir) = std::env::var("DOCS_DUMP_OUTPUTS") {
        std::fs::create_dir_all(&dir).unwrap();
        for (name, value) in &outputs {
            let text = serde_json::to_string_pretty(value).unwrap();
            std::fs::write(Path::new(&dir).join(name), text).unwrap();
        }
    }
    outputs
}

fn parse(text: &str, what: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("{what} is not JSON ({e}): {text}"))
}

/// A JSON example as the page shows it; a fragment (`"policy": {...}`) is read as the one
/// value it shows. `…` and `...` stand for left-out entries and are dropped.
fn example_json(block: &Block) -> Result<Value, String> {
    let text: String = block
        .lines
        .iter()
        .filter(|l| !matches!(l.trim(), "…" | "..." | "\"…\": \"…\"" | "\"…\": \"…\","))
        .cloned()
        .collect::<Vec<_>>()
        .join("\n");
    let text = regex::Regex::new(r",(\s*[}\]])")
        .unwrap()
        .replace_all(&text, "$1")
        .into_owned();
    if let Ok(value) = serde_json::from_str(&text) {
        return Ok(value);
    }
    let wrapped = format!("{{{text}}}");
    match serde_json::from_str::<Value>(&wrapped) {
        Ok(Value::Object(map)) if map.len() == 1 => Ok(map.into_iter().next().unwrap().1),
        _ => serde_json::from_str::<Value>(&text).map_err(|e| e.to_string()),
    }
}

#[test]
fn docs_json_examples_have_the_fields_of_the_real_outputs() {
    let outputs = real_outputs();
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in docs::example_pages() {
        for block in docs::blocks(&page) {
            if block.directive_word() != Some("keys") {
                continue;
            }
            let words: Vec<&str> = block
                .directive
                .as_deref()
                .unwrap()
                .split_whitespace()
                .collect();
            let source = words.get(1).copied().unwrap_or("");
            let mut at = "";
            let mut maps = Vec::new();
            for pair in words[2..].chunks(2) {
                match pair {
                    ["at", path] => at = path,
                    ["maps", list] => maps = list.split(',').map(str::to_string).collect(),
                    other => failures.push(format!("{}: directive words {other:?}", block.at())),
                }
            }
            let Some(real) = outputs.get(source) else {
                failures.push(format!(
                    "{}: no real output named {source:?} (known: {:?})",
                    block.at(),
                    outputs.keys().collect::<Vec<_>>()
                ));
                continue;
            };
            let Some(real) = docs::at_path(real, at) else {
                failures.push(format!(
                    "{}: the real {source} has nothing at {at:?}",
                    block.at()
                ));
                continue;
            };
            let example = match example_json(&block) {
                Ok(v) => v,
                Err(e) => {
                    failures.push(format!("{}: the example is not JSON: {e}", block.at()));
                    continue;
                }
            };
            checked += 1;
            let differences = docs::key_differences(&example, real, &maps);
            if !differences.is_empty() {
                failures.push(format!(
                    "{}: the example of {source} differs from the real one:\n  {}",
                    block.at(),
                    differences.join("\n  ")
                ));
            }
        }
    }
    assert!(checked >= 5, "only {checked} JSON examples found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The README's "Getting started", as written, against moto's server: the blocks marked
/// `moto`, in order, in one sandbox whose AWS environment is an account of its own on moto
/// with the user's bucket (`my-data-bucket`) holding one artifact already.
#[test]
fn docs_getting_started_walks_from_a_registry_to_an_observe_mode_pass_on_moto() {
    let readme = Path::new("README.md");
    let moto_blocks = docs::blocks(readme)
        .into_iter()
        .filter(|b| b.directive_word() == Some("moto"))
        .count();
    assert!(
        moto_blocks >= 4,
        "the walkthrough has {moto_blocks} blocks run on moto"
    );
    let (ran, failures) = run_examples(
        &[readme.to_path_buf()],
        |b| b.directive_word() == Some("moto"),
        |sandbox| {
            let server = moto::shared();
            let account = server.new_account();
            sandbox.env = server
                .env_in(&account)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            // deploy.sh ships a release build, stripped; the test binary stripped the same
            // way is a third of the size to zip and upload.
            let shipped = sandbox.dir.path().join("bootstrap-under-test");
            let out = Command::new("strip")
                .arg("-o")
                .arg(&shipped)
                .arg(support::bin())
                .output()
                .expect("run strip (binutils)");
            assert!(out.status.success(), "strip: {}", support::stderr(&out));
            sandbox.env.push((
                "FRESHNESS_MONITOR_BINARY".into(),
                shipped.to_string_lossy().into_owned(),
            ));
            // advzip's recompression takes minutes for the debug binary; the zip it makes is
            // tested in tests/it/bootstrap.rs.
            sandbox
                .env
                .push(("FRESHNESS_MONITOR_ZIP".into(), "fast".into()));
            let out = sandbox.shell(
                "set -e
                 aws s3 mb s3://my-data-bucket >/dev/null
                 echo 'id,value' >export.csv
                 aws s3 cp export.csv s3://my-data-bucket/exports/latest.csv >/dev/null
                 rm export.csv",
            );
            assert!(out.status.success(), "{}", support::stdout(&out));
        },
    );
    assert!(ran >= 5, "only {ran} walkthrough commands ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} walkthrough commands do not match (DOCS_BLESS=1 rewrites the page):\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
