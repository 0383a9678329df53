//! The command line. (Temporary wiring on the `coverage` branch until the full CLI lands on
//! main: only the `coverage` subcommand.)

pub mod coverage;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "freshness-monitor", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The producer-side guard: every S3 write site in a repo is pinned.
    Coverage(coverage::CoverageArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Coverage(args) => coverage::run(args),
    };
    result.unwrap_or_else(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })
}
