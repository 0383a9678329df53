//! `validate REGISTRY`: every error in one run, or a summary of what the registry declares.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use freshness_monitor::registry::{self, Registry, ValidationError};

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// The registry file (ARTIFACT_REGISTRY.yaml).
    registry: PathBuf,
    /// Print the result as JSON (valid, artifacts, buckets, cadences, errors).
    #[arg(long)]
    json: bool,
}

pub fn run(args: &ValidateArgs) -> anyhow::Result<ExitCode> {
    let (registry, errors): (Option<Registry>, Vec<ValidationError>) =
        match registry::load_file(&args.registry) {
            Ok(registry) => {
                let errors = registry.artifact_errors().cloned().collect();
                (Some(registry), errors)
            }
            Err(e) => (None, e.errors),
        };
    let summary = registry.as_ref().map(Summary::of);
    if args.json {
        let value = json!({
            "valid": errors.is_empty(),
            "artifacts": summary.as_ref().map(|s| s.artifacts),
            "buckets": summary.as_ref().map(|s| s.buckets.keys().collect::<Vec<_>>()),
            "cadences": summary.as_ref().map(|s| &s.cadences),
            "errors": errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else if errors.is_empty() {
        let s = summary.expect("a registry without errors parsed");
        println!(
            "{}: valid: {} artifact{}",
            args.registry.display(),
            s.artifacts,
            if s.artifacts == 1 { "" } else { "s" }
        );
        println!("buckets: {}", joined_counts(&s.buckets));
        println!("cadences: {}", joined_counts(&s.cadences));
    } else {
        for e in &errors {
            eprintln!("{e}");
        }
        eprintln!(
            "{}: {} error{}",
            args.registry.display(),
            errors.len(),
            if errors.len() == 1 { "" } else { "s" }
        );
    }
    Ok(ExitCode::from(if errors.is_empty() { 0 } else { 1 }))
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
            *buckets.entry(spec.s3_bucket.clone()).or_insert(0) += 1;
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
