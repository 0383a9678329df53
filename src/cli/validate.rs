//! `validate REGISTRY`: every error in one run, or a summary of what the registry declares;
//! warnings (what the registry allows but is likely a mistake) either way, without changing
//! the exit code.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use chrono::Utc;
use clap::Args;
use serde_json::json;

use freshness_monitor::registry::{self, Registry, ValidationError};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The registry file (ARTIFACT_REGISTRY.yaml).
    registry: PathBuf,
    /// Print the result as JSON (valid, artifacts, buckets, cadences, errors, warnings).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (registry, mut errors): (Option<Registry>, Vec<ValidationError>) =
        match registry::load_file(&args.registry) {
            Ok(registry) => {
                let errors = registry.artifact_errors().cloned().collect();
                (Some(registry), errors)
            }
            Err(e) => (None, e.errors),
        };
    // `created_at` and silences are judged against the clock: loading itself has no clock.
    let now = Utc::now();
    let mut warnings = registry
        .as_ref()
        .map(|r| r.warnings_on(now.date_naive()))
        .unwrap_or_default();
    if let Some(registry) = &registry {
        let (silence_errors, silence_warnings) = registry.silence_problems(now);
        errors.extend(silence_errors);
        errors.sort_by_key(|e| e.line);
        warnings.extend(silence_warnings);
        warnings.sort_by_key(|w| w.line);
    }
    let summary = registry.as_ref().map(Summary::of);
    if args.json {
        let value = json!({
            "valid": errors.is_empty(),
            "artifacts": summary.as_ref().map(|s| s.artifacts),
            "buckets": summary.as_ref().map(|s| s.buckets.keys().collect::<Vec<_>>()),
            "cadences": summary.as_ref().map(|s| &s.cadences),
            "errors": errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
            "warnings": warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(exit_code(&errors));
    }
    print_problems(&errors, &warnings);
    let name = args.registry.display();
    let warned = match warnings.len() {
        0 => String::new(),
        n => format!(", {}", plural(n, "warning")),
    };
    if errors.is_empty() {
        let s = summary.expect("a registry without errors parsed");
        println!("{name}: valid: {}{warned}", plural(s.artifacts, "artifact"));
        println!("buckets: {}", joined_counts(&s.buckets));
        println!("cadences: {}", joined_counts(&s.cadences));
    } else {
        eprintln!("{name}: {}{warned}", plural(errors.len(), "error"));
    }
    Ok(exit_code(&errors))
}

/// Errors and warnings on stderr: the errors in their order, each warning before the first
/// error of a later line.
fn print_problems(errors: &[ValidationError], warnings: &[ValidationError]) {
    let mut warnings = warnings.iter().peekable();
    for error in errors {
        while let Some(warning) = warnings.next_if(|w| w.line < error.line) {
            eprintln!("{}", warning.as_warning());
        }
        eprintln!("{error}");
    }
    for warning in warnings {
        eprintln!("{}", warning.as_warning());
    }
}

fn exit_code(errors: &[ValidationError]) -> ExitCode {
    ExitCode::from(if errors.is_empty() { 0 } else { 1 })
}

fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", freshness_monitor::text::plural(n))
}

struct Summary {
    artifacts: usize,
    buckets: BTreeMap<String, usize>,
    cadences: BTreeMap<String, usize>,
}

impl Summary {
    fn of(registry: &Registry) -> Summary {
        let mut buckets = BTreeMap::new();
        let mut cadences = BTreeMap::new();
        for spec in registry.valid_artifacts() {
            *buckets.entry(spec.s3_bucket.to_string()).or_insert(0) += 1;
            *cadences.entry(spec.cadence.name().to_string()).or_insert(0) += 1;
        }
        Summary {
            artifacts: registry.entries.len(),
            buckets,
            cadences,
        }
    }
}

fn joined_counts(counts: &BTreeMap<String, usize>) -> String {
    if counts.is_empty() {
        return "none".to_string();
    }
    counts
        .iter()
        .map(|(name, n)| format!("{name} ({n})"))
        .collect::<Vec<_>>()
        .join(", ")
}
