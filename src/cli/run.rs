//! `run`: the Lambda's pass from a shell (a plain cron box), with its side effects.
//!
//! Same env contract as the function (`REGISTRY_BUCKET`, `RESULTS_*`, the observe flag, …),
//! same S3 store, same outputs; it prints the response the Lambda would return.

use std::process::ExitCode;

use clap::Args;

#[derive(Debug, Args)]
pub struct RunArgs {}

pub async fn run(_args: &RunArgs) -> anyhow::Result<ExitCode> {
    freshness_monitor::telemetry::init_json_logging_to_stderr();
    let response = freshness_monitor::lambda::handler::run_from_env().await?;
    println!("{}", serde_json::to_string_pretty(&response)?);
    let alerting = response["would_alert"].as_u64().unwrap_or(0) > 0;
    Ok(ExitCode::from(if alerting { 2 } else { 0 }))
}
