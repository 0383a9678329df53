//! `calendar`: a calendar's closed weekdays and early closes, to check it against the
//! exchange's published schedule or see what a registry's `calendars:` entry or
//! `extra_closures` changes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chrono::{Datelike, Utc};
use clap::Args;

use freshness_monitor::calendar::Calendars;
use freshness_monitor::registry;
use freshness_monitor::text::did_you_mean;

#[derive(Debug, Args)]
pub struct CalendarArgs {
    /// First year (default: this year), 1900 to 2200.
    #[arg(long, value_parser = super::parse_year, allow_hyphen_values = true)]
    from: Option<i32>,
    /// Last year (default: the first year), 1900 to 2200.
    #[arg(long, value_parser = super::parse_year, allow_hyphen_values = true)]
    to: Option<i32>,
    /// Which calendar: a built-in one (nyse, lse, xetr) or one of the registry's `calendars:`.
    #[arg(long, default_value = "nyse")]
    calendar: String,
    /// Include the registry's `calendars:` and its `calendar.extra_closures` (for nyse).
    #[arg(long)]
    registry: Option<PathBuf>,
}

pub fn run(args: &CalendarArgs) -> anyhow::Result<ExitCode> {
    let from = args.from.unwrap_or_else(|| Utc::now().year());
    let to = args.to.unwrap_or(from);
    // The default (this year) is checked as a typed one is.
    let from = super::parse_year(&from.to_string()).map_err(|e| anyhow::anyhow!("--from {e}"))?;
    if to < from {
        bail!("--to {to} is before --from {from}");
    }
    let calendars = match &args.registry {
        Some(path) => registry::load_file(path)?.calendars,
        None => Calendars::builtin([]),
    };
    let Some(calendar) = calendars.get(&args.calendar) else {
        let names = calendars.names();
        let hint = did_you_mean(&args.calendar, &names)
            .map(|s| format!("did you mean `{s}`? "))
            .unwrap_or_default();
        bail!(
            "unknown calendar {:?}; {hint}known calendars: {}",
            args.calendar,
            names.join(", ")
        );
    };
    let mut lines: Vec<(chrono::NaiveDate, String)> = Vec::new();
    for year in from..=to {
        for (date, reason) in calendar.closed_weekdays(year) {
            lines.push((date, format!("{date} {reason}")));
        }
        for (date, close, name) in calendar.early_closes(year) {
            lines.push((date, format!("{date} early close {close} ({name})")));
        }
    }
    lines.sort_by_key(|(date, _)| *date);
    let out: String = lines.into_iter().map(|(_, line)| line + "\n").collect();
    print!("{out}");
    Ok(ExitCode::SUCCESS)
}
