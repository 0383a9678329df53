//! `freshness-monitor coverage` on throwaway git repositories: the real binary, real git.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support;

/// A git work tree in a temp dir. Files are staged with `git add` (tracked), which is all
/// `git ls-files` needs: no commit, so no author identity is required.
struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let repo = Repo {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        repo.git(&["init", "-q"]);
        repo
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .arg("-C")
            .arg(self.path())
            .args(args)
            .output()
            .expect("git must be installed for the coverage tests");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Writes a file without tracking it.
    fn write(&self, path: &str, content: &str) {
        let full = self.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, content).unwrap();
    }

    /// Writes a file and tracks it.
    fn add(&self, path: &str, content: &str) {
        self.write(path, content);
        self.git(&["add", "--", path]);
    }

    fn rm(&self, path: &str) {
        self.git(&["rm", "-q", "-f", "--", path]);
    }

    fn pins_path(&self) -> PathBuf {
        // Outside the repo, as a CI config might be, so it is never scanned itself.
        self.path().join("coverage-pins.yaml")
    }

    fn write_pins(&self, text: &str) {
        std::fs::write(self.pins_path(), text).unwrap();
    }

    fn pins(&self) -> String {
        std::fs::read_to_string(self.pins_path()).unwrap()
    }

    fn coverage(&self, extra: &[&str]) -> Output {
        let repo = self.path().to_str().unwrap().to_string();
        let pins = self.pins_path().to_str().unwrap().to_string();
        let mut args = vec!["coverage", "--repo", &repo, "--pins", &pins];
        args.extend_from_slice(extra);
        support::run_in(self.path(), &args)
    }
}

/// Python source with `n` boto3 write calls and some prose that mentions them.
fn python_with_sites(n: usize) -> String {
    let mut text = String::from(
        "\"\"\"Writes the signals. Uses put_object and upload_file (see docs).\"\"\"\nimport boto3\n\n",
    );
    for i in 0..n {
        if i % 2 == 0 {
            text += &format!("s3.put_object(Bucket=BUCKET, Key=f\"signals/{i}.json\", Body=b)\n");
        } else {
            text += &format!("s3.upload_file(path, BUCKET, \"signals/{i}.parquet\")\n");
        }
    }
    text
}

fn code(out: &Output) -> i32 {
    out.status.code().expect("exited normally")
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        support::stdout(out),
        support::stderr(out)
    )
}

/// A repo with two pinned producer files that match.
fn pinned_repo() -> Repo {
    let repo = Repo::new();
    repo.add("pipelines/signals.py", &python_with_sites(2));
    repo.add("pipelines/manifest.py", &python_with_sites(1));
    repo.add("lib/util.py", "def helper():\n    return 1\n");
    repo.write_pins(
        "# what counts as a producer file and an S3 write site\n\
         include: [\"*.py\"]\n\
         exempt: [\"tests/\"]\n\
         files:\n  pipelines/manifest.py: 1\n  pipelines/signals.py: 2\n",
    );
    repo
}

#[test]
fn coverage_all_pins_match_exits_zero_with_a_summary() {
    let repo = pinned_repo();
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert_eq!(
        support::stdout(&out),
        "coverage ok: 2 pinned files match; 3 producer files scanned, 2 with write sites, \
         3 S3 write sites\n"
    );
}

#[test]
fn coverage_new_file_with_a_write_site_is_unpinned() {
    let repo = pinned_repo();
    repo.add("pipelines/parity.py", &python_with_sites(3));
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let stdout = support::stdout(&out);
    assert!(
        stdout.contains(
            "unpinned producer file: pipelines/parity.py has 3 S3 write sites and no pin; \
             register the artifact in ARTIFACT_REGISTRY.yaml or grandfather the path, then run \
             `freshness-monitor coverage --update`"
        ),
        "{}",
        show(&out)
    );
    assert!(
        stdout.ends_with(
            "coverage failed: 1 problem (1 unpinned, 0 stale, 0 drift); 4 producer files \
             scanned, 3 with write sites, 6 S3 write sites\n"
        ),
        "{}",
        show(&out)
    );
}

#[test]
fn coverage_removed_file_leaves_a_stale_pin() {
    let repo = pinned_repo();
    repo.rm("pipelines/manifest.py");
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let pins = repo.pins_path().display().to_string();
    assert!(
        support::stdout(&out).contains(&format!(
            "stale pin: pipelines/manifest.py (1 S3 write site pinned at {pins}:5) is no longer \
             tracked by git; if the artifact it wrote is retired, remove it from \
             ARTIFACT_REGISTRY.yaml; then run `freshness-monitor coverage --update` to drop the pin"
        )),
        "{}",
        show(&out)
    );
}

#[test]
fn coverage_file_whose_sites_are_all_gone_is_a_stale_pin() {
    let repo = pinned_repo();
    repo.add(
        "pipelines/manifest.py",
        "# the manifest moved to put_object-free code\n",
    );
    let out = repo.coverage(&["--json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["stale"][0]["path"], "pipelines/manifest.py");
    assert_eq!(json["stale"][0]["reason"], "no_sites");
}

#[test]
fn coverage_count_going_up_and_down_is_drift() {
    let repo = pinned_repo();
    repo.add("pipelines/signals.py", &python_with_sites(4));
    repo.add("pipelines/manifest.py", &python_with_sites(2));
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let stdout = support::stdout(&out);
    assert!(
        stdout.contains("count drift: pipelines/signals.py has 4 S3 write sites, pinned at 2"),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains("pinned at 2 (")
            && stdout.contains("register the artifact of each new write"),
        "{}",
        show(&out)
    );

    // Down: one site removed from signals.py, manifest.py back to its pin.
    repo.add("pipelines/signals.py", &python_with_sites(1));
    repo.add("pipelines/manifest.py", &python_with_sites(1));
    let out = repo.coverage(&["--json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["ok"], false);
    assert_eq!(json["drift"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["drift"][0]["path"], "pipelines/signals.py");
    assert_eq!(json["drift"][0]["pinned"], 2);
    assert_eq!(json["drift"][0]["found"], 1);
    assert_eq!(json["drift"][0]["pin_line"], 6);
    assert!(
        json["drift"][0]["resolution"]
            .as_str()
            .unwrap()
            .contains("retire it in ARTIFACT_REGISTRY.yaml"),
        "{json}"
    );
}

#[test]
fn coverage_reports_every_failure_class_together() {
    let repo = pinned_repo();
    repo.add("pipelines/parity.py", &python_with_sites(1));
    repo.rm("pipelines/manifest.py");
    repo.add("pipelines/signals.py", &python_with_sites(5));
    let out = repo.coverage(&["--json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["unpinned"][0]["path"], "pipelines/parity.py");
    assert_eq!(json["unpinned"][0]["sites"], 1);
    assert_eq!(json["stale"][0]["path"], "pipelines/manifest.py");
    assert_eq!(json["stale"][0]["reason"], "not_tracked");
    assert_eq!(json["drift"][0]["found"], 5);
    assert_eq!(
        json["totals"],
        serde_json::json!({
            "producer_files": 3, "files_with_sites": 2, "sites": 6,
            "pinned_files": 2, "pinned_sites": 3
        })
    );
    for list in ["unpinned", "stale", "drift"] {
        assert!(
            json[list][0]["resolution"]
                .as_str()
                .unwrap()
                .contains("--update"),
            "{json}"
        );
    }
}

#[test]
fn coverage_ignores_untracked_files() {
    let repo = pinned_repo();
    repo.write("scratch/try_upload.py", &python_with_sites(7));
    repo.write("pipelines/signals_v2.py", &python_with_sites(1));
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 0, "{}", show(&out));
}

#[test]
fn coverage_does_not_count_a_tracked_symlink_twice() {
    let repo = pinned_repo();
    std::os::unix::fs::symlink("signals.py", repo.path().join("pipelines/signals_link.py"))
        .unwrap();
    repo.git(&["add", "pipelines/signals_link.py"]);
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 0, "{}", show(&out));
}

#[test]
fn coverage_skips_exempt_prefixes_and_files_not_included() {
    let repo = pinned_repo();
    repo.add("tests/test_signals.py", &python_with_sites(4));
    repo.add("tests/fixtures/upload.py", &python_with_sites(1));
    repo.add(
        "docs/howto.md",
        "Call `s3.put_object(Bucket=...)` to write.\n",
    );
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 0, "{}", show(&out));

    // A pinned file that becomes exempt is a stale pin that says why.
    repo.write_pins(
        "exempt: [tests/, pipelines/manifest]\n\
         files:\n  pipelines/manifest.py: 1\n  pipelines/signals.py: 2\n",
    );
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    assert!(
        support::stdout(&out).contains(&format!(
            "stale pin: pipelines/manifest.py (1 S3 write site pinned at {}:3) is now under the \
             exempt prefix pipelines/manifest;",
            repo.pins_path().display()
        )),
        "{}",
        show(&out)
    );
}

#[test]
fn coverage_custom_patterns_for_go_and_rust_sdks() {
    let repo = Repo::new();
    repo.add(
        "cmd/publisher/main.go",
        "// Publishes via PutObject; see docs.\n\
         _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: b, Key: k})\n\
         _, err = uploader.Upload(ctx, &s3.PutObjectInput{Bucket: b, Key: k2})\n",
    );
    repo.add(
        "src/publish.rs",
        "// put_object without a call does not count\n\
         client.put_object().bucket(b).key(k).send().await?;\n\
         client\n    .put_object()\n    .bucket(b);\n",
    );
    // Python is not included by these pins: its writes do not count.
    repo.add("tools/backfill.py", &python_with_sites(2));
    repo.write_pins(
        "include: ['*.go', 'src/**/*.rs']\n\
         patterns:\n  - '\\.PutObject\\('\n  - '\\buploader\\.Upload\\('\n  - '\\.put_object\\(\\)'\n",
    );
    let out = repo.coverage(&["--json"]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unpinned: Vec<(String, u64)> = json["unpinned"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["path"].as_str().unwrap().to_string(),
                u["sites"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        unpinned,
        [
            ("cmd/publisher/main.go".to_string(), 2),
            ("src/publish.rs".to_string(), 2)
        ]
    );
    assert_eq!(json["totals"]["producer_files"], 2);
}

#[test]
fn coverage_update_round_trip_keeps_settings_and_comments() {
    let repo = pinned_repo();
    repo.add("pipelines/parity.py", &python_with_sites(2));
    repo.rm("pipelines/manifest.py");
    repo.add("pipelines/signals.py", &python_with_sites(3));
    repo.write_pins(
        "# what counts as a producer file and an S3 write site\n\
         include: [\"*.py\"]\n\
         exempt: [\"tests/\"]   # tests write to moto\n\
         patterns: ['\\b(?:put_object|upload_file)\\(']\n\
         files:\n\
         \x20 pipelines/manifest.py: 1\n\
         \x20 # signals and their manifest\n\
         \x20 pipelines/signals.py: 2  # see ARTIFACT_REGISTRY.yaml: signals_daily\n",
    );
    assert_eq!(code(&repo.coverage(&[])), 1);

    let out = repo.coverage(&["--update"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let pins = repo.pins_path().display().to_string();
    assert_eq!(
        support::stdout(&out),
        format!(
            "pinned pipelines/parity.py: 2\nunpinned pipelines/manifest.py (was 1)\n\
             re-pinned pipelines/signals.py: 2 -> 3\nwrote {pins}: 2 pinned files, 5 S3 write sites\n"
        )
    );
    let written = repo.pins();
    assert_eq!(
        written,
        "# what counts as a producer file and an S3 write site\n\
         include: [\"*.py\"]\n\
         exempt: [\"tests/\"]   # tests write to moto\n\
         patterns: ['\\b(?:put_object|upload_file)\\(']\n\
         files:\n\
         \x20 pipelines/parity.py: 2\n\
         \x20 # signals and their manifest\n\
         \x20 pipelines/signals.py: 3  # see ARTIFACT_REGISTRY.yaml: signals_daily\n"
    );

    // The check now passes, and a second update changes nothing.
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let out = repo.coverage(&["--update"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(
        support::stdout(&out).starts_with("unchanged:"),
        "{}",
        show(&out)
    );
    assert_eq!(repo.pins(), written);
}

#[test]
fn coverage_update_creates_a_missing_pins_file() {
    let repo = Repo::new();
    repo.add("b.py", &python_with_sites(1));
    repo.add("a/x.py", &python_with_sites(2));
    let out = repo.coverage(&[]);
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(
        support::stderr(&out).contains("does not exist (create it with"),
        "{}",
        show(&out)
    );

    let out = repo.coverage(&["--update", "--json"]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["written"], true);
    assert_eq!(json["pinned_sites"], 3);
    let text = repo.pins();
    assert!(text.starts_with("# Producer coverage pins"), "{text}");
    assert!(text.ends_with("files:\n  a/x.py: 2\n  b.py: 1\n"), "{text}");
    assert_eq!(code(&repo.coverage(&[])), 0);
}

#[test]
fn coverage_registry_shows_grandfathered_paths() {
    let repo = pinned_repo();
    repo.add("rag/pipelines/corpus.py", &python_with_sites(2));
    repo.add("pipelines/parity.py", &python_with_sites(1));
    let registry = repo.path().join("ARTIFACT_REGISTRY.yaml");
    std::fs::write(
        &registry,
        "schema_version: 1\n\
         grandfathered_paths:\n\
         \x20 - {path: rag/pipelines/, reason: \"writes the RAG corpus bucket, not monitored\"}\n\
         artifacts: []\n",
    )
    .unwrap();
    let out = repo.coverage(&["--registry", registry.to_str().unwrap()]);
    assert_eq!(code(&out), 1, "{}", show(&out));
    let stdout = support::stdout(&out);
    assert!(
        stdout.contains(
            "unpinned producer file: rag/pipelines/corpus.py has 2 S3 write sites and no pin; it \
             is under the grandfathered path rag/pipelines/ (registry line 3: \"writes the RAG \
             corpus bucket, not monitored\"), so the decision is taken: run \
             `freshness-monitor coverage --update` to pin it"
        ),
        "{}",
        show(&out)
    );
    assert!(
        stdout.contains(
            "pipelines/parity.py has 1 S3 write site and no pin; it is under no grandfathered \
             path; register the artifact"
        ),
        "{}",
        show(&out)
    );
}

#[test]
fn coverage_input_errors_exit_two_with_a_clear_message() {
    let repo = pinned_repo();
    let cases: &[(&str, &str)] = &[
        (
            "include: ['*.py']\npatern: ['x']\n",
            ":2: unknown key `patern` in the pins file; did you mean `patterns`?",
        ),
        (
            "patterns: ['put_object(']\n",
            ":1: `patterns[0]` \"put_object(\" is not a valid regex",
        ),
        (
            "files:\n  a.py: two\n",
            ":2: `files`: a.py: expected a whole number of write sites",
        ),
        ("files: [a.py\n", "not valid YAML"),
    ];
    for (pins, needle) in cases {
        repo.write_pins(pins);
        let out = repo.coverage(&[]);
        assert_eq!(code(&out), 2, "{pins:?}\n{}", show(&out));
        let stderr = support::stderr(&out);
        assert!(stderr.starts_with("error: "), "{}", show(&out));
        assert!(stderr.contains("coverage-pins.yaml"), "{}", show(&out));
        assert!(stderr.contains(needle), "{pins:?}\n{}", show(&out));
        assert!(support::stdout(&out).is_empty(), "{}", show(&out));
    }

    // A directory that is not a git work tree.
    repo.write_pins("");
    let plain = tempfile::tempdir().unwrap();
    let out = support::run_in(
        plain.path(),
        &[
            "coverage",
            "--repo",
            plain.path().to_str().unwrap(),
            "--pins",
            repo.pins_path().to_str().unwrap(),
        ],
    );
    assert_eq!(code(&out), 2, "{}", show(&out));
    let stderr = support::stderr(&out);
    assert!(
        stderr.starts_with("error: ") && stderr.contains("is not a git work tree"),
        "{}",
        show(&out)
    );

    // A pins file that cannot be read.
    let out = support::run_in(
        repo.path(),
        &["coverage", "--repo", ".", "--pins", "no/such/pins.yaml"],
    );
    assert_eq!(code(&out), 2, "{}", show(&out));
    assert!(
        support::stderr(&out).contains("cannot read pins file no/such/pins.yaml"),
        "{}",
        show(&out)
    );
}

#[test]
fn coverage_in_a_subdirectory_sees_only_that_project() {
    let repo = Repo::new();
    repo.add("projects/signals/jobs/daily.py", &python_with_sites(2));
    repo.add("projects/other/jobs/upload.py", &python_with_sites(5));
    let project = repo.path().join("projects/signals");
    let pins = repo.path().join("signals-pins.yaml");
    std::fs::write(&pins, "files:\n  jobs/daily.py: 2\n").unwrap();
    let out = support::run_in(&project, &["coverage", "--pins", pins.to_str().unwrap()]);
    assert_eq!(code(&out), 0, "{}", show(&out));
    assert!(
        support::stdout(&out).contains("1 producer file scanned"),
        "{}",
        show(&out)
    );
}
