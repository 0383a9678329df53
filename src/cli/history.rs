//! `history`: the history scan with no side effects, printed as an SLA table and the gaps per
//! artifact (or as the exact `history.json`).

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::Args;

use freshness_monitor::history::cell::CellOutcome;
use freshness_monitor::history::lookback::known_cadence_names;
use freshness_monitor::history::{
    History, HistoryFile, Lookback, ScanSettings, SlaCounts, scan_history,
};
use freshness_monitor::page::{HistoryDigest, PageHistory};
use freshness_monitor::pass::{PassSettings, run_pass};
use freshness_monitor::registry_source;
use freshness_monitor::store::ObjectStore;
use freshness_monitor::store::local::LocalDirStore;
use freshness_monitor::text::rfc3339;

use super::aws_setup::{self, Alternative};
use super::{SourceArgs, parse_lookback, parse_now};

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Scan back from this moment instead of the clock (RFC 3339).
    #[arg(long, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    /// Walk N cycles of this cadence instead of its default (repeatable; N from 1 to 1000).
    #[arg(long, value_name = "CADENCE=N", value_parser = parse_lookback)]
    lookback: Vec<(String, usize)>,
    /// Only this artifact (repeatable).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// Print exactly what history.json would hold.
    #[arg(long)]
    json: bool,
    /// Also write the status page to FILE: a pass at the same moment (as `check` runs it,
    /// no side effects) with this scan's history strips and SLA hit rates.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
}

pub async fn run_history(args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    match &args.source.store {
        Some(dir) => history_with(&LocalDirStore::new(dir), args).await,
        None => {
            let clients = aws_setup::clients(Alternative::LocalStore).await?;
            history_with(&clients.s3_store(), args).await
        }
    }
}

async fn history_with<S: ObjectStore>(store: &S, args: &HistoryArgs) -> anyhow::Result<ExitCode> {
    let now = args.now.unwrap_or_else(Utc::now);
    let loaded = registry_source::load(store, &args.source.registry).await?;
    let registry = &loaded.registry;
    let mut settings = ScanSettings {
        only: args.only.clone(),
        ..ScanSettings::default()
    };
    for (name, cycles) in &args.lookback {
        settings.lookback.set(name.clone(), *cycles);
    }
    check_names(&settings.lookback, &args.only, registry)?;
    let history = scan_history(store, registry, &settings, now).await;
    if let Some(path) = &args.html {
        let pass_settings = PassSettings::for_cli(args.only.clone(), None);
        let outcome = run_pass(store, &loaded, &pass_settings, now, None).await;
        let digest = PageHistory::Digest(HistoryDigest::of(&history));
        super::check::write_page(path, &outcome, &digest, now)?;
    }
    if args.json {
        // Streamed: a big scan never exists as one string in memory.
        let mut out = std::io::BufWriter::new(super::out::stdout());
        serde_json::to_writer_pretty(&mut out, &HistoryFile(&history))?;
        writeln!(out)?;
        out.flush()?;
    } else {
        print!("{}", render(&history));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--lookback` cadences and `--only` ids must be the registry's.
fn check_names(
    lookback: &Lookback,
    only: &[String],
    registry: &freshness_monitor::registry::Registry,
) -> anyhow::Result<()> {
    let unknown = lookback.unknown_names(registry);
    if !unknown.is_empty() {
        let known: Vec<&str> = known_cadence_names(registry).collect();
        bail!(
            "--lookback names cadences the registry does not have: {} (known: {})",
            unknown.join(", "),
            known.join(", ")
        );
    }
    let unknown: Vec<&str> = only
        .iter()
        .filter(|id| !registry.entries.iter().any(|e| e.label() == id.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        bail!(
            "--only names no artifact in the registry: {}",
            unknown.join(", ")
        );
    }
    Ok(())
}

const SLA_HEADERS: [&str; 6] = [
    "EXPECTED", "ON TIME", "LATE", "MISSING", "UNKNOWN", "HIT RATE",
];

/// The SLA table per artifact and per owner, the gaps and errors, and a summary line.
fn render(history: &History<'_>) -> String {
    let report = history.sla();
    let mut headers = vec!["ARTIFACT", "OWNER", "CADENCE", "CYCLES"];
    headers.extend(SLA_HEADERS);
    let rows: Vec<Vec<String>> = history
        .artifacts
        .iter()
        .zip(&report.artifacts)
        .map(|(a, (_, counts))| {
            let mut row = vec![
                a.spec.id.to_string(),
                a.spec.owner_repo.to_string(),
                a.spec.cadence.name().to_string(),
                a.cells.len().to_string(),
            ];
            row.extend(sla_cells(&counts.counts()));
            row
        })
        .collect();
    let mut out = columns(&headers, &rows);
    let mut headers = vec!["OWNER"];
    headers.extend(SLA_HEADERS);
    let mut rows: Vec<Vec<String>> = report
        .owners
        .iter()
        .map(|(owner, counts)| [vec![owner.to_string()], sla_cells(counts)].concat())
        .collect();
    rows.push([vec!["(all)".to_string()], sla_cells(&report.overall)].concat());
    out.push('\n');
    out.push_str(&columns(&headers, &rows));
    out.push_str(&gaps_and_errors(history));
    out.push_str(&summary(history));
    out
}

fn sla_cells(counts: &SlaCounts) -> Vec<String> {
    let rate = counts
        .hit_rate()
        .map_or_else(|| "-".to_string(), |r| format!("{:.1}%", r * 100.0));
    vec![
        counts.expected.to_string(),
        counts.on_time.to_string(),
        counts.late.to_string(),
        counts.missing.to_string(),
        counts.unknown.to_string(),
        rate,
    ]
}

/// Left-aligned columns two spaces apart.
fn columns(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (w, c) in widths.iter().zip(cells) {
            s.push_str(&format!("{c:<w$}  "));
        }
        s.trim_end().to_string() + "\n"
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// The most gaps listed per artifact (a 5-minute feed can have 168); `--json` has them all.
const GAPS_LISTED: usize = 12;

/// Per artifact, the labels of the cycles with nothing for them (the newest
/// [`GAPS_LISTED`]) and of those that could not be probed, newest first.
fn gaps_and_errors(history: &History<'_>) -> String {
    let mut gaps = String::new();
    let mut errors = String::new();
    for a in &history.artifacts {
        let mut missing = Vec::new();
        for (cycle, cell) in a.cycles() {
            match cell {
                CellOutcome::Absent { .. } => missing.push(cycle.label.as_str()),
                CellOutcome::Failed(e) => errors.push_str(&format!(
                    "  {} {}: {} ({})\n",
                    a.spec.id, cycle.label, e.code, e.message
                )),
                _ => {}
            }
        }
        if missing.len() > GAPS_LISTED {
            let more = missing.len() - GAPS_LISTED;
            missing.truncate(GAPS_LISTED);
            gaps.push_str(&format!(
                "  {}: {}, and {more} more\n",
                a.spec.id,
                missing.join(", ")
            ));
        } else if !missing.is_empty() {
            gaps.push_str(&format!("  {}: {}\n", a.spec.id, missing.join(", ")));
        }
    }
    let mut out = String::from("\ngaps (expected cycles with nothing for them, newest first):\n");
    out.push_str(if gaps.is_empty() { "  none\n" } else { &gaps });
    if !errors.is_empty() {
        out.push_str("\nnot seen (probe errors: neither present nor a gap):\n");
        out.push_str(&errors);
    }
    out
}

fn summary(history: &History<'_>) -> String {
    let lookback: Vec<String> = history
        .lookback
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    format!(
        "\n{} artifacts back from {}: {} cycles probed ({} HEAD requests), gap count {}; \
         lookback: {}; {} entries skipped (invalid, or a cadence without a cycle)\n",
        history.artifacts.len(),
        rfc3339(history.generated_at),
        history.n_cycles_probed(),
        history.n_head_requests,
        history.gap_count(),
        if lookback.is_empty() {
            "-".to_string()
        } else {
            lookback.join(", ")
        },
        history.skipped_unsupported
    )
}
