//! The history's compacted log, `history_outcomes.ndjson.gz` under the results prefix: what
//! the last history scan knew of every expected cycle of its window (records in the outcome
//! log's schema, after one header line), and which of the passes' log objects it had read.
//!
//! The next scan reads it (one GET), then only the passes' objects written since (keys sort
//! by the writing pass's time), instead of every object of a 12-week window (~8,000 at 96
//! passes a day). It is written after each scan (one PUT, staged on disk and streamed: ~40
//! bytes a cycle gzipped). An unreadable one is named in the warnings and the passes' objects
//! of the window are read instead; it is not part of the log's contract (docs/outputs.md).

use serde::{Deserialize, Serialize};

/// Its name under the results prefix.
pub const COMPACTED: &str = "history_outcomes.ndjson.gz";

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// The format's version (1).
    pub history_outcomes: u32,
    /// The last of the passes' log objects (by key) whose records it holds.
    pub through: Option<String>,
    pub written_at: String,
}

/// The header, when `line` is one this build reads.
pub fn parse_header(line: &str) -> Option<Header> {
    let header: Header = serde_json::from_str(line).ok()?;
    (header.history_outcomes == 1).then_some(header)
}
