//! `freshness-monitor coverage`: the producer-side guard (docs/coverage.md) as a CI step.
//!
//! Exit codes: 0 when every producer file matches its pin (and after `--update`), 1 when the
//! check found coverage failures, 2 when it could not run (not a git work tree, a pins file or
//! registry that cannot be read or is malformed, an invalid regex or glob).

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use freshness_monitor::coverage::git;
use freshness_monitor::coverage::update::{self, PinChanges};
use freshness_monitor::coverage::{Pins, report, scan};
use freshness_monitor::registry;

/// Check that every S3 write site in a producer repo is pinned (registered or grandfathered).
#[derive(Debug, Clone, clap::Args)]
pub struct CoverageArgs {
    /// The producer repository to scan (a git work tree, or a directory inside one).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
    /// The pins file: include globs, exempt prefixes, write-site patterns, pinned counts.
    #[arg(long, value_name = "PINS.yaml")]
    pub pins: PathBuf,
    /// Rewrite the pins with the current counts (after registering or grandfathering);
    /// creates the pins file when it does not exist.
    #[arg(long)]
    pub update: bool,
    /// A registry whose `grandfathered_paths` are shown for each unpinned file.
    #[arg(long, value_name = "REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Print a machine-readable report instead of text.
    #[arg(long)]
    pub json: bool,
}

const INPUT_ERROR: u8 = 2;
const COVERAGE_FAILED: u8 = 1;

/// Runs the guard. Input errors are printed here (`error: ...` on stderr) and give exit 2,
/// so the `Err` case is left for failures to write the output itself.
pub fn run(args: &CoverageArgs) -> anyhow::Result<ExitCode> {
    match check(args) {
        Ok(code) => Ok(code),
        Err(InputFailure(message)) => {
            eprintln!("error: {message}");
            Ok(ExitCode::from(INPUT_ERROR))
        }
    }
}

/// Something about the inputs that stops the check from running (exit 2).
struct InputFailure(String);

impl<E: std::fmt::Display> From<E> for InputFailure {
    fn from(e: E) -> Self {
        InputFailure(e.to_string())
    }
}

fn check(args: &CoverageArgs) -> Result<ExitCode, InputFailure> {
    let pins_name = args.pins.display().to_string();
    let original = read_pins(&args.pins, args.update)?;
    let pins = match &original {
        Some(text) => Pins::parse(text).map_err(|e| InputFailure(e.in_file(&pins_name)))?,
        None => Pins::defaults(),
    };
    let grandfathered = match &args.registry {
        Some(path) => {
            // Only the shared sections must be valid; an error inside one artifact's entry
            // is no reason to fail a producer repo's CI.
            let registry = registry::load_file(path).map_err(|e| {
                let sep = if e.errors.len() > 1 { "\n" } else { " " };
                InputFailure(format!("registry cannot be used:{sep}{e}"))
            })?;
            Some(registry.grandfathered_paths)
        }
        None => None,
    };

    let tracked = git::tracked_files(&args.repo)?;
    let counts = scan::count_sites(&tracked, &pins.scope, &pins.counter)?;

    if args.update {
        return write_update(args, &pins_name, original.as_deref(), &pins, &counts);
    }

    let tracked_paths: HashSet<&str> = tracked.iter().map(|f| f.path.as_str()).collect();
    let report = report::compare(
        &pins,
        &counts,
        |p| tracked_paths.contains(p),
        grandfathered.as_deref(),
    );
    let output = if args.json {
        format!(
            "{}\n",
            serde_json::to_string_pretty(&report.to_json(&pins_name)).expect("JSON renders")
        )
    } else {
        report.to_text(&pins_name)
    };
    print(&output)?;
    Ok(if report.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(COVERAGE_FAILED)
    })
}

/// The pins file's text; `None` when it does not exist and `--update` will create it.
fn read_pins(path: &Path, update: bool) -> Result<Option<String>, InputFailure> {
    let name = path.display();
    match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| InputFailure(format!("pins file {name} is not UTF-8 text"))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && update => Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(InputFailure(format!(
            "cannot read pins file {name}: it does not exist (create it with \
             `freshness-monitor coverage --update`)"
        ))),
        Err(e) => Err(InputFailure(format!("cannot read pins file {name}: {e}"))),
    }
}

fn write_update(
    args: &CoverageArgs,
    pins_name: &str,
    original: Option<&str>,
    pins: &Pins,
    counts: &scan::SiteCounts,
) -> Result<ExitCode, InputFailure> {
    let new = update::new_pins(counts);
    let changes = PinChanges::between(pins, &new);
    let text = update::updated_text(original, pins, &new);
    let written = original != Some(text.as_str());
    if written {
        write_atomically(&args.pins, &text)
            .map_err(|e| InputFailure(format!("cannot write pins file {pins_name}: {e}")))?;
    }
    let sites: usize = new.values().sum();
    let output = if args.json {
        let json = serde_json::json!({
            "ok": true,
            "pins": pins_name,
            "written": written,
            "pinned_files": new.len(),
            "pinned_sites": sites,
            "added": changes.added.iter().map(|(p, n)| serde_json::json!({"path": p, "sites": n})).collect::<Vec<_>>(),
            "removed": changes.removed.iter().map(|(p, n)| serde_json::json!({"path": p, "was": n})).collect::<Vec<_>>(),
            "changed": changes.changed.iter().map(|(p, old, n)| serde_json::json!({"path": p, "was": old, "sites": n})).collect::<Vec<_>>(),
        });
        format!(
            "{}\n",
            serde_json::to_string_pretty(&json).expect("JSON renders")
        )
    } else {
        let mut out = String::new();
        for line in changes.lines() {
            out += &line;
            out.push('\n');
        }
        let verb = if written { "wrote" } else { "unchanged:" };
        out += &format!(
            "{verb} {pins_name}: {} pinned file{}, {} S3 write site{}\n",
            new.len(),
            freshness_monitor::text::plural(new.len() as usize),
            sites,
            freshness_monitor::text::plural(sites as usize)
        );
        out
    };
    print(&output)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes through a temporary file in the same directory and a rename, so an interrupted run
/// never leaves a half-written pins file in the repo.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file path"))?;
    let tmp_name = format!(
        ".{}.tmp-{}",
        file_name.to_string_lossy(),
        std::process::id()
    );
    let tmp = match dir {
        Some(d) => d.join(&tmp_name),
        None => PathBuf::from(&tmp_name),
    };
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn print(text: &str) -> Result<(), InputFailure> {
    let mut stdout = super::out::stdout();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| InputFailure(format!("cannot write the report: {e}")))
}
