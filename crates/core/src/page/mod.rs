//! The status page, `status.html`: what a pass found, for people who would rather look than
//! read JSON (docs/outputs.md#statushtml).
//!
//! One self-contained HTML file (styles inline, no fonts, images or required scripts), so it
//! opens from a presigned URL, a static website bucket, a laptop or an email. The renderer is
//! pure: [`render_status_page`] is a function of the pass's outcome, an optional history digest
//! and `now`; the shells (the Lambda's outputs, `check --html`, `history --html`) fetch and
//! write. Every piece of registry or S3 text goes through maud's escaping `(…)` splices: there
//! is no string concatenation of markup anywhere in this module.
//!
//! Most urgent first: [`headline`] (the verdict, when the pass ran, how old the page is,
//! observe mode), [`alerting`] (every alerting artifact, up to [`ALERTING_ROWS_SHOWN`]),
//! [`verdicts`] (the cycle verdicts), then [`by_owner`] (the rest, summarised per owner and
//! listed up to [`OTHER_ROWS_SHOWN`] rows). [`strip`] draws an artifact's recent cycles from
//! [`digest`], [`times`] writes instants, [`style`] holds the inline stylesheet and the one
//! optional script.

pub mod alerting;
pub mod by_owner;
pub mod digest;
pub mod digest_file;
pub mod document;
pub mod headline;
pub mod strip;
pub mod style;
pub mod times;
pub mod verdicts;

use chrono::{DateTime, Duration, Utc};

use crate::outcome::PassOutcome;
pub use digest::{ArtifactStrip, CellMark, HistoryDigest, StripCell};
pub use document::render_status_page;

/// The deployed schedule runs a pass every 15 minutes (deploy.sh's `cron(*/15 * * * ? *)`):
/// the page says when the next one is due and calls itself stale after two.
pub const DEFAULT_PASS_INTERVAL: Duration = Duration::minutes(15);

/// Alerting rows listed in full; above this the page says how many more there are and where
/// to find them (`check_results.json`). At 100,000 artifacts in an outage every one may alert.
pub const ALERTING_ROWS_SHOWN: usize = 1_000;

/// Non-alerting rows listed (grouped by owner, owners sorted); the per-owner summary above
/// them always counts every artifact. Keeps a 100,000-artifact page a few megabytes.
pub const OTHER_ROWS_SHOWN: usize = 2_000;

/// What the page is drawn from.
#[derive(Debug, Clone, Copy)]
pub struct PageInput<'a> {
    pub outcome: &'a PassOutcome,
    pub history: &'a PageHistory,
    /// When the page is rendered: its age is measured from the pass's `run_at` to this.
    pub now: DateTime<Utc>,
    /// How often passes run, for "next pass expected by" and "older than two passes".
    pub pass_interval: Duration,
}

/// The history the strips and SLA hit rates come from.
#[derive(Debug, Clone, Default)]
pub enum PageHistory {
    /// No `history.json` (the daily scan has not run yet, or `check --html` without one).
    #[default]
    None,
    /// There is one, but it could not be used: the reason is shown on the page.
    Unavailable(String),
    Digest(HistoryDigest),
}

impl PageHistory {
    pub fn digest(&self) -> Option<&HistoryDigest> {
        match self {
            PageHistory::Digest(digest) => Some(digest),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;

impl PageInput<'_> {
    /// The zone of a row's cadence, when it has one (user cron cadences).
    pub fn zone_of(&self, row: &crate::report::ResultRow) -> Option<chrono_tz::Tz> {
        let cadence = row.cadence()?;
        self.outcome.cadence_zones.get(cadence).copied()
    }
}
