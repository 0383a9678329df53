//! The history's compacted log read in step with the scan: the scan goes through the
//! artifacts in registry order, a batch at a time, and the compacted log was written by the
//! last scan in that same order, so each artifact's line is read when the scan comes to it and
//! dropped with its batch. The log of the whole window (~12 million cycles at 300,000
//! artifacts, 32 bytes each in an index) is never held.
//!
//! A line read while looking for an artifact that is not the one sought (the registry was
//! edited since the last scan) is routed by the artifact's place in the plan: one further on
//! is kept read ahead (an index of those lines, bounded by [`READ_AHEAD_RECORDS`]); one
//! already judged (moved earlier in the registry, or a line duplicated) and one not planned
//! (removed, or left out by `only`) are dropped. An artifact the log has no line for (new in
//! the registry) reads ahead until that bound or the end: the next artifacts then find their
//! lines read ahead. Past the bound, an artifact whose line is still further on is not looked
//! for: its cycles are probed (`not_in_log`), as for a new artifact, and its line is dropped
//! when read, counted in a warning. A line read ahead that repeats an artifact collapses into
//! it as the whole index did (docs/outputs.md#from-the-outcome-log).

use std::io::BufRead;

use chrono::{DateTime, Utc};

use super::LogIndex;
use super::compacted::{Problems, add_line, parse_line};
use super::packed::PackedArtifact;
use crate::ledger::LedgerTime;

/// How many records the lines read ahead may hold (32 bytes each, ~16 MB): ~12,000 artifacts
/// of 40 cycles, so a registry edit that moves an artifact less far than that, or adds that
/// many at once, still finds every line.
pub const READ_AHEAD_RECORDS: usize = 500_000;

/// The packed lines after the compacted log's header, read as the scan asks for them.
pub struct InStep {
    name: String,
    /// `None` once the end (or a break in the stream) was reached.
    lines: Option<Box<dyn BufRead + Send>>,
    /// The temporary file the lines are read from, removed when this is dropped.
    _staged: Option<tempfile::NamedTempFile>,
    now: LedgerTime,
    problems: Problems,
    broken: Option<String>,
    ahead: LogIndex,
    ahead_records: usize,
    read_ahead: usize,
    /// Lines of artifacts already judged (out of registry order, or repeated), dropped.
    passed: usize,
    /// The place in the plan of the last artifact asked for.
    asked: Option<usize>,
    line: String,
}

impl std::fmt::Debug for InStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InStep")
            .field("name", &self.name)
            .field("ahead_records", &self.ahead_records)
            .finish_non_exhaustive()
    }
}

impl InStep {
    /// Reads `lines` (the header already read) of the object `name` at `now`, keeping
    /// `staged` until dropped.
    pub fn new(
        name: String,
        lines: Box<dyn BufRead + Send>,
        staged: Option<tempfile::NamedTempFile>,
        now: DateTime<Utc>,
    ) -> InStep {
        InStep {
            name,
            lines: Some(lines),
            _staged: staged,
            now: LedgerTime::saturating_from(now),
            problems: Problems::default(),
            broken: None,
            ahead: LogIndex::default(),
            ahead_records: 0,
            read_ahead: READ_AHEAD_RECORDS,
            passed: 0,
            asked: None,
            line: String::new(),
        }
    }

    /// At most `records` read ahead (tests).
    pub fn with_read_ahead(mut self, records: usize) -> InStep {
        self.read_ahead = records;
        self
    }

    /// Moves the records of `id`, at `at` in the plan, into `into`: from the lines read
    /// ahead, or reading on until its line (lines of artifacts further on kept read ahead
    /// until they hold more than the bound: in registry order nothing is). `position` gives a planned artifact's place by id. Artifacts are asked
    /// for in plan order.
    pub fn take(
        &mut self,
        id: &str,
        at: usize,
        position: impl Fn(&str) -> Option<usize>,
        into: &mut LogIndex,
    ) {
        self.asked = Some(at);
        let moved = self.ahead.move_artifact(id, into);
        if moved > 0 {
            self.ahead_records -= moved;
            return;
        }
        while self.ahead_records <= self.read_ahead {
            if !self.read_line() {
                return;
            }
            let Some(artifact) = parse_line(self.line.trim_end(), &mut self.problems) else {
                continue;
            };
            match position(&artifact.id) {
                Some(q) if q == at => {
                    add_line(&artifact, self.now, into, &mut self.problems);
                    return;
                }
                Some(q) if q > at => {
                    let ahead = &mut self.ahead;
                    self.ahead_records += add_line(&artifact, self.now, ahead, &mut self.problems);
                }
                Some(_) => {
                    self.passed += 1;
                    check_and_drop(&artifact, self.now, &mut self.problems);
                }
                None => check_and_drop(&artifact, self.now, &mut self.problems),
            }
        }
    }

    /// The next line into `self.line`; `false` at the end or at a break (named).
    fn read_line(&mut self) -> bool {
        let Some(lines) = self.lines.as_mut() else {
            return false;
        };
        self.line.clear();
        match lines.read_line(&mut self.line) {
            Ok(n) if n > 0 => return true,
            Ok(_) => {}
            Err(e) => self.broken = Some(e.to_string()),
        }
        self.lines = None;
        false
    }

    /// Reads what is left (its problems counted, its records dropped; a line of an artifact
    /// asked for already counted as out of order), unless `read_rest` is false (a scan cut
    /// short by its deadline: what it did not read is not checked), and says what was wrong
    /// with the object: a break, bad lines or cycles, cycles from the future, lines out of
    /// registry order.
    pub fn finish(
        mut self,
        position: impl Fn(&str) -> Option<usize>,
        read_rest: bool,
    ) -> Vec<String> {
        while read_rest && self.read_line() {
            if let Some(artifact) = parse_line(self.line.trim_end(), &mut self.problems) {
                let asked = position(&artifact.id).zip(self.asked);
                if asked.is_some_and(|(q, asked)| q <= asked) {
                    self.passed += 1;
                }
                check_and_drop(&artifact, self.now, &mut self.problems);
            }
        }
        let name = &self.name;
        let mut warnings = Vec::new();
        if let Some(e) = self.broken {
            warnings.push(format!(
                "{name}: not a whole gzip stream of text ({e}); the cycles after the break \
                 probed instead"
            ));
        }
        warnings.extend(self.problems.warnings(name, self.now));
        if self.passed > 0 {
            warnings.push(format!(
                "{name}: {} line(s) of artifacts already judged dropped (an artifact moved \
                 earlier in the registry by more than {} records read ahead: its cycles were \
                 probed instead; or a line repeated)",
                self.passed, self.read_ahead
            ));
        }
        warnings
    }
}

/// A line no batch takes (already judged, or no longer planned): its problems are counted,
/// its records dropped.
fn check_and_drop(artifact: &PackedArtifact<'_>, now: LedgerTime, problems: &mut Problems) {
    add_line(artifact, now, &mut LogIndex::default(), problems);
}
