//! `ack`: acknowledge an alerting artifact (docs/cli.md#ack), list the acknowledgements, or
//! remove one. The ack is an object under the results prefix that every pass reads
//! (docs/alerts.md#acknowledgements): no redeploy.

use std::process::ExitCode;

use anyhow::bail;
use chrono::{DateTime, Utc};
use clap::Args;

use freshness_monitor::alert::gather;
use freshness_monitor::alert::policy::ack::Ack;
use freshness_monitor::ledger;
use freshness_monitor::registry_source::{self, RegistrySource};
use freshness_monitor::report::files;
use freshness_monitor::store::ObjectStore;
use freshness_monitor::store::local::LocalDirStore;
use freshness_monitor::text::rfc3339;

use super::aws_setup::{self, Alternative};
use super::parse_now;
use super::remembered::results_location;

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").args(["id", "list"]).required(true)))]
pub struct AckArgs {
    /// The artifact to acknowledge (or, with --remove, whose ack to remove).
    id: Option<String>,
    /// List the acknowledgements and whether each still holds.
    #[arg(long, conflicts_with_all = ["remove", "until", "until_resolved", "by", "note"])]
    list: bool,
    /// Remove ID's acknowledgement.
    #[arg(long, requires = "id", conflicts_with_all = ["until", "until_resolved", "by", "note"])]
    remove: bool,
    /// The ack holds until a pass sees the artifact fresh again (the default).
    #[arg(long, conflicts_with = "until")]
    until_resolved: bool,
    /// The ack holds until this time (RFC 3339).
    #[arg(long, value_parser = parse_now, value_name = "TIME")]
    until: Option<DateTime<Utc>>,
    /// Who acknowledges (shown in the row and the digest).
    #[arg(long, value_name = "NAME")]
    by: Option<String>,
    /// Why, or what is being done.
    #[arg(long, value_name = "TEXT")]
    note: Option<String>,
    /// Where the Lambda writes its results: s3://BUCKET/PREFIX/ (default: RESULTS_BUCKET or
    /// REGISTRY_BUCKET, and RESULTS_PREFIX, as the Lambda reads them).
    #[arg(long, value_name = "S3_URL")]
    results: Option<String>,
    /// The time the ack is made (RFC 3339; default: the clock).
    #[arg(long, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    /// The registry the id must be in (a file, or s3://bucket/key); not needed by --list.
    #[arg(long, required_unless_present = "list")]
    registry: Option<RegistrySource>,
    /// Use a local directory as the object store (DIR/<bucket>/<key>) instead of S3.
    #[arg(long, value_name = "DIR")]
    store: Option<std::path::PathBuf>,
}

pub async fn run(args: &AckArgs) -> anyhow::Result<ExitCode> {
    match &args.store {
        Some(dir) => run_with(&LocalDirStore::new(dir), args).await,
        None => {
            let clients = aws_setup::clients(Alternative::LocalStore).await?;
            run_with(&clients.s3_store(), args).await
        }
    }
}

async fn run_with<S: ObjectStore>(store: &S, args: &AckArgs) -> anyhow::Result<ExitCode> {
    let (bucket, prefix) = results_location(args.results.as_deref())?;
    if args.list {
        return list(store, &bucket, &prefix, args.now.unwrap_or_else(Utc::now)).await;
    }
    let id = args
        .id
        .as_deref()
        .expect("clap requires an id without --list");
    let registry = args.registry.as_ref().expect("clap requires --registry");
    let loaded = registry_source::load(store, registry).await?;
    if !loaded.registry.entries.iter().any(|e| e.label() == id) {
        let known: Vec<&str> = loaded.registry.entries.iter().map(|e| e.label()).collect();
        let hint = freshness_monitor::text::did_you_mean(id, &known)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        bail!("no artifact {id:?} in {}{hint}", loaded.name);
    }
    if args.remove {
        let removed = gather::remove_ack(store, &bucket, &prefix, id).await?;
        println!(
            "{}",
            if removed {
                format!("removed the acknowledgement of {id}")
            } else {
                format!("{id} had no acknowledgement")
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    let Some(by) = args.by.as_deref().filter(|b| !b.trim().is_empty()) else {
        bail!("say who acknowledges: --by NAME");
    };
    let now = args.now.unwrap_or_else(Utc::now);
    if let Some(until) = args.until
        && until <= now
    {
        bail!("--until {} is not in the future", rfc3339(until));
    }
    let ack = Ack {
        artifact_id: id.to_string(),
        by: by.to_string(),
        note: args.note.clone(),
        at: now,
        until: args.until,
        until_resolved: args.until.is_none(),
    };
    let key = gather::write_ack(store, &bucket, &prefix, &ack).await?;
    println!(
        "acknowledged {id} by {by} ({}): s3://{bucket}/{key}",
        ack.until_text()
    );
    Ok(ExitCode::SUCCESS)
}

/// One line per ack: id, who, until what, whether it still holds, the note.
async fn list<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let read = gather::read_acks(store, bucket, prefix).await;
    let ledger_key = format!("{prefix}{}", files::LEDGER);
    let ledger = ledger::store::read(store, bucket, &ledger_key).await.ledger;
    for problem in &read.problems {
        eprintln!("warning: {problem}");
    }
    if read.acks.is_empty() {
        println!(
            "no acknowledgements in s3://{bucket}/{prefix}{}",
            files::ACKS
        );
    }
    for a in &read.acks {
        let entry = ledger.artifacts.get(&a.artifact_id);
        let status = if a.is_active(now, entry) {
            "active"
        } else if a.resolved_by(entry) {
            "ended (fresh again)"
        } else {
            "ended (time passed)"
        };
        println!(
            "{}  by {} at {}  {}  {status}{}",
            a.artifact_id,
            a.by,
            rfc3339(a.at),
            a.until_text(),
            a.note
                .as_deref()
                .map(|n| format!("  note: {n}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}
