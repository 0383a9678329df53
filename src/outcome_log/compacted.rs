//! The history's compacted log, `history_outcomes.ndjson.gz` under the results prefix: what
//! the last history scan knew of every expected cycle of its window, after one header line,
//! and which of the passes' log objects it had read.
//!
//! The next scan reads it (one GET), then only the passes' objects written since (keys sort
//! by the writing pass's time), instead of every object of a 12-week window (~8,000 at 96
//! passes a day). It is written after each scan (one PUT, staged on disk and streamed). Since
//! format 2 its lines are packed, one per artifact (`outcome_log::packed`: ~25 bytes a cycle
//! gzipped); a format 1 object (records in the log's schema, as the first builds wrote it) is
//! still read. An unreadable one is named in the warnings and the passes' objects of the
//! window are read instead; it is not part of the log's contract (docs/outputs.md).

use serde::{Deserialize, Serialize};

use super::LogIndex;
use super::packed::{PACKED_FORMAT, PackedArtifact};
use crate::ledger::LedgerTime;

/// Its name under the results prefix.
pub const COMPACTED: &str = "history_outcomes.ndjson.gz";

/// The first line.
#[derive(Debug, Serialize, Deserialize)]
pub struct Header {
    /// The format: 1, records in the log's schema; 2 ([`PACKED_FORMAT`]), packed lines.
    pub history_outcomes: u32,
    /// The last of the passes' log objects (by key) whose records it holds.
    pub through: Option<String>,
    pub written_at: String,
}

/// The header, when `line` is one this build reads.
pub fn parse_header(line: &str) -> Option<Header> {
    let header: Header = serde_json::from_str(line).ok()?;
    (1..=PACKED_FORMAT)
        .contains(&header.history_outcomes)
        .then_some(header)
}

/// One packed line after the header, counted; `None` when it is empty or unreadable (counted,
/// the first named).
pub(super) fn parse_line<'l>(line: &'l str, problems: &mut Problems) -> Option<PackedArtifact<'l>> {
    problems.lines += 1;
    if line.is_empty() {
        return None;
    }
    match serde_json::from_str(line) {
        Ok(artifact) => Some(artifact),
        Err(e) => {
            problems.bad_lines += 1;
            problems
                .first_bad
                .get_or_insert(format!("line {}: {e}", problems.lines + 1));
            None
        }
    }
}

/// One packed line's cycles (and a set's counts) into `index`, those of cycles that had not
/// ticked at `now` or with numbers this build does not write counted instead. Returns the
/// records added.
pub(super) fn add_line(
    artifact: &PackedArtifact<'_>,
    now: LedgerTime,
    index: &mut LogIndex,
    problems: &mut Problems,
) -> usize {
    let mut added = 0;
    for cycle in &artifact.cycles {
        match cycle.recorded() {
            Some(r) if r.tick > now => problems.future_cycles += 1,
            Some(r) => {
                index.add_recorded(&artifact.id, r);
                added += 1;
            }
            None => problems.bad_cycles += 1,
        }
    }
    for set in &artifact.sets {
        match set.set_cycle() {
            Some((tick, counts)) if tick <= now => index.add_set_cycle(&artifact.id, tick, counts),
            Some(_) => {} // its cycle was counted among the future ones
            None => problems.bad_cycles += 1,
        }
    }
    added
}

/// What was wrong with a packed object, for its warnings.
#[derive(Debug, Default)]
pub(super) struct Problems {
    lines: usize,
    bad_lines: usize,
    first_bad: Option<String>,
    bad_cycles: usize,
    future_cycles: usize,
}

impl Problems {
    pub(super) fn warnings(self, name: &str, now: LedgerTime) -> Vec<String> {
        let mut warnings = Vec::new();
        if let Some(first) = self.first_bad {
            warnings.push(format!(
                "{name}: {} unreadable line(s), their artifacts' cycles probed instead ({first})",
                self.bad_lines
            ));
        }
        if self.bad_cycles > 0 {
            warnings.push(format!(
                "{name}: {} cycle(s) with numbers this build does not write, probed instead",
                self.bad_cycles
            ));
        }
        if self.future_cycles > 0 {
            warnings.push(format!(
                "{name}: {} record(s) of cycles that had not ticked yet at {now} ignored",
                self.future_cycles
            ));
        }
        warnings
    }
}
