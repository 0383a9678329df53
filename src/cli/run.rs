//! `run`: the Lambda's pass from a shell (a plain cron box), with its side effects; with
//! `--historical`, the Lambda's history scan (`{"mode": "historical"}`), writing
//! `history.json`.
//!
//! Same env contract as the function (`REGISTRY_BUCKET`, `RESULTS_*`, the observe flag, …),
//! same S3 store, same outputs; it prints the response the Lambda would return.

use std::process::ExitCode;

use clap::Args;

use freshness_monitor::aws::CallTimeouts;
use freshness_monitor::history::Lookback;
use freshness_monitor::lambda::event::Invocation;

use super::aws_setup::{self, Alternative};
use super::parse_lookback;

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Run the history scan instead of a pass, as the event {"mode": "historical"} does.
    #[arg(long)]
    historical: bool,
    /// With --historical: walk N cycles of this cadence instead of its default (repeatable).
    #[arg(long, value_name = "CADENCE=N", value_parser = parse_lookback, requires = "historical")]
    lookback: Vec<(String, usize)>,
    /// With --historical: only this artifact (repeatable).
    #[arg(long, value_name = "ID", requires = "historical")]
    only: Vec<String>,
}

pub async fn run(args: &RunArgs) -> anyhow::Result<ExitCode> {
    // Region and credentials first: without them every call of the pass would fail, each
    // with the SDK's account of what it tried.
    let config = freshness_monitor::aws::load_sdk_config(CallTimeouts::default()).await;
    aws_setup::check(&config, Alternative::None).await?;
    freshness_monitor::telemetry::init_json_logging_to_stderr();
    let invocation = if args.historical {
        let mut lookback = Lookback::default();
        for (name, cycles) in &args.lookback {
            lookback.set(name.clone(), *cycles);
        }
        Invocation::Historical {
            lookback,
            only: args.only.clone(),
        }
    } else {
        Invocation::Manual
    };
    // On the heap: the pass's future is tens of KiB (`freshness_monitor::boxed`).
    let response = freshness_monitor::boxed::boxed(|| {
        freshness_monitor::lambda::handler::run_invocation_from_env(&invocation)
    })
    .await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    let alerting = response["would_alert"].as_u64().unwrap_or(0) > 0;
    Ok(ExitCode::from(if alerting { 2 } else { 0 }))
}
