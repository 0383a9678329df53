//! The command line: `validate`, `check`, `explain`, `history`, `calendar`, `ack` (and the
//! subcommands other modules add). A thin shell over the library: parsing arguments, choosing the store,
//! printing, and mapping outcomes to exit codes. `anyhow` lives here and nowhere else.

/// `print!` for the subcommands below: through [`out::print`], so a closed stdout ends the
/// output quietly instead of panicking. Defined before the modules, so it is theirs.
macro_rules! print {
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!($($arg)*))
    };
}

/// `println!` for the subcommands below (see `print!`).
macro_rules! println {
    ($($arg:tt)*) => {
        $crate::cli::out::print(format_args!("{}\n", format_args!($($arg)*)))
    };
}

mod out;

mod ack;
mod aws_setup;
mod calendar;
mod check;
mod coverage;
mod history;
mod remembered;
mod run;
mod validate;

use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand};
use freshness_monitor::history::lookback::LookbackOutOfRange;

#[derive(Debug, Parser)]
#[command(
    name = "freshness-monitor",
    version,
    about = "Absence-driven monitor for data artifacts in S3: alerts on what is missing or \
             stale past its SLA."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Under an AWS configuration error (no region, no credentials), also print the SDK's
    /// details (as RUST_LOG does).
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a registry file; exit 0 when valid, 1 with every error listed.
    Validate(validate::ValidateArgs),
    /// One pass with no side effects: a table (or --json); exit 0 when nothing alerts, 2 when
    /// something would, 1 on error.
    Check(check::CheckArgs),
    /// Why one artifact did (or did not) alert: its cycle, keys, calendar and grace decisions.
    Explain(check::ExplainArgs),
    /// The history scan with no side effects: did each artifact land in its last N cycles,
    /// on time? An SLA table and the gaps (or --json: what history.json would hold); exit 0,
    /// 1 on error.
    History(history::HistoryArgs),
    /// The market's closed weekdays, one `YYYY-MM-DD name` per line.
    Calendar(calendar::CalendarArgs),
    /// The producer-side guard: every S3 write site in a repo is pinned; exit 0 when all
    /// match, 1 on coverage failures, 2 on input errors.
    Coverage(coverage::CoverageArgs),
    /// The Lambda's pass from a shell, same env, with side effects (writes the results);
    /// prints the Lambda's response; exit 0, 2 when something alerts, 1 on error. With
    /// --historical, the Lambda's history scan (writes history.json).
    Run(run::RunArgs),
    /// Acknowledge an alerting artifact (no escalation until it is fresh again or --until),
    /// list the acknowledgements (--list) or remove one (--remove); exit 0, 1 on error.
    Ack(ack::AckArgs),
}

/// Runs the CLI and returns the process exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    aws_setup::set_verbose(cli.verbose);
    let result = match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Check(args) => with_runtime(Box::pin(check::run_check(&args))),
        Command::Explain(args) => with_runtime(Box::pin(check::run_explain(&args))),
        Command::History(args) => with_runtime(Box::pin(history::run_history(&args))),
        Command::Calendar(args) => calendar::run(&args),
        Command::Coverage(args) => coverage::run(&args),
        Command::Run(args) => with_runtime(Box::pin(run::run(&args))),
        Command::Ack(args) => with_runtime(Box::pin(ack::run(&args))),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Runs a command's future on a new runtime. Boxed by the caller: a command's future (a pass,
/// with its SDK setup) is tens of KiB, and unboxed it was copied through each of `block_on`'s
/// frames on the main thread's stack (BENCHMARKS.md, "A small pass's memory, fifth round").
fn with_runtime(
    future: std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<ExitCode>> + '_>>,
) -> anyhow::Result<ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(future)
}

/// Where a command reads the registry and what it probes: S3, or a local directory.
#[derive(Debug, clap::Args)]
pub struct SourceArgs {
    /// The registry: a file, or s3://bucket/key.
    #[arg(long)]
    pub registry: freshness_monitor::registry_source::RegistrySource,
    /// Use a local directory as the object store (DIR/<bucket>/<key>, LastModified = mtime)
    /// instead of S3.
    #[arg(long, value_name = "DIR")]
    pub store: Option<std::path::PathBuf>,
}

/// `--now`: an RFC 3339 time.
pub fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time such as 2026-05-30T12:00:00Z ({e})"))
}

/// `--lookback CADENCE=N`: a cadence name and a whole number of cycles from 1 to 1000.
pub fn parse_lookback(s: &str) -> Result<(String, usize), String> {
    let (name, count) = s
        .split_once('=')
        .filter(|(name, _)| !name.trim().is_empty())
        .ok_or_else(|| format!("{s:?} is not CADENCE=N (for example weekday_sf=60)"))?;
    let out_of_range = || {
        let got = freshness_monitor::text::quote_short(count.trim());
        format!(
            "{name}: the number of cycles {}",
            LookbackOutOfRange { got }
        )
    };
    let cycles = (count.trim().parse::<u64>().ok())
        .and_then(|n| freshness_monitor::history::lookback::checked_count(n).ok())
        .ok_or_else(out_of_range)?;
    Ok((name.trim().to_string(), cycles))
}

/// `calendar --from`/`--to`: a year the calendars compute, 1900 to 2200.
pub fn parse_year(s: &str) -> Result<i32, String> {
    s.trim()
        .parse::<i32>()
        .ok()
        .filter(|year| (MIN_YEAR..=MAX_YEAR).contains(year))
        .ok_or_else(|| {
            format!(
                "must be a year from {MIN_YEAR} to {MAX_YEAR}, got {}",
                freshness_monitor::text::quote_short(s)
            )
        })
}

/// The years `calendar` lists.
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2200;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_numeric_value_out_of_range_says_the_range() {
        for bad in ["-1", "0", "1001", "18446744073709551616", "1e3", "ten", ""] {
            let message = parse_lookback(&format!("weekday_sf={bad}")).expect_err(bad);
            assert!(
                message.starts_with(
                    "weekday_sf: the number of cycles must be a whole number of cycles from 1 \
                     to 1000, got "
                ),
                "{bad}: {message}"
            );
        }
        assert_eq!(
            parse_lookback("weekday_sf=1000"),
            Ok(("weekday_sf".into(), 1000))
        );
        for bad in ["1899", "2201", "-5", "99999999999", "twenty"] {
            let message = parse_year(bad).expect_err(bad);
            assert!(
                message.starts_with("must be a year from 1900 to 2200, got "),
                "{bad}: {message}"
            );
        }
        assert_eq!(parse_year("2200"), Ok(2200));
    }
}
