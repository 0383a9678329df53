//! `calendar`: the market's closed weekdays, to check the calendar against the exchange's
//! published schedule or see what an `extra_closures` entry changes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{Datelike, Utc};
use clap::Args;

use freshness_monitor::calendar::TradingCalendar;
use freshness_monitor::registry;

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// First year (default: this year).
    #[arg(long)]
    from: Option<i32>,
    /// Last year (default: the first year).
    #[arg(long)]
    to: Option<i32>,
    /// Include the registry's `calendar.extra_closures`.
    #[arg(long)]
    registry: Option<PathBuf>,
}

pub fn run(args: &CalendarArgs) -> anyhow::Result<ExitCode> {
    let from = args.from.unwrap_or_else(|| Utc::now().year());
    let to = args.to.unwrap_or(from);
    if !(1900..=2200).contains(&from) || !(1900..=2200).contains(&to) {
        bail!("years must be between 1900 and 2200");
    }
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let calendar = match &args.registry {
        Some(path) => registry::load_file(path)?.calendar,
        None => TradingCalendar::nyse([]),
    };
    let mut out = String::new();
    for year in from..=to {
        for (date, reason) in calendar.closed_weekdays(year) {
            out.push_str(&format!("{date} {reason}\n"));
        }
    }
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
