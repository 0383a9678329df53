//! The history scan: for each artifact, did it land in each of its last N cycles, on time?
//!
//! A pass judges one instant; operators also ask "did it land last weekend? the weekend
//! before? are there gaps?". The scan answers that once a day (`{"mode": "historical"}`,
//! `freshness-monitor history`): it walks each artifact's cadence back N cycles
//! ([`cycles`], [`lookback`]), plans which of them are expected ([`plan`]: a closed market day
//! is not, and is never a gap), probes the rest (the shell's `history::scan`), judges each ([`cell`]), and writes
//! `history.json` in the original monitor's shape ([`report`]) with an SLA roll-up per
//! artifact and owner ([`sla`]). docs/outputs.md#historyjson is the contract.

pub mod cell;
pub mod cycles;
pub mod from_log;
pub mod lookback;
pub mod plan;
pub mod positions;
pub mod report;
pub mod set_cell;
pub mod sla;
pub mod to_log;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::cadence::Cycle;
use crate::outcome_log::SetCycle;
use crate::registry::ArtifactSpec;
use cell::CellOutcome;

pub use lookback::{Lookback, MAX_LOOKBACK};
pub use report::{
    CompactPieces, CompactTail, HistoryFile, write_compact_artifact, write_compact_head,
};
pub use sla::{ArtifactCounts, SlaCounts, SlaReport};

/// What a scan found.
#[derive(Debug, Clone, Default)]
pub struct History<'r> {
    /// The scan's `now`.
    pub generated_at: DateTime<Utc>,
    /// Cycles walked per schedule (`continuous_{N}m` for continuous feeds).
    pub lookback: BTreeMap<String, usize>,
    pub duration: Duration,
    /// The scanned artifacts, in registry order.
    pub artifacts: Vec<ArtifactHistory<'r>>,
    /// Selected entries that could not be scanned (invalid, or a cadence without a cycle).
    pub skipped_unsupported: usize,
    /// Artifacts left (wholly or partly) unprobed at the deadline, in registry order.
    pub not_scanned: Vec<String>,
    /// HEAD requests sent.
    pub n_head_requests: usize,
    /// LIST requests sent: pages of the listings that answered probed cycles' keys.
    pub n_list_requests: usize,
    /// Expected cycles the outcome log answered, without a probe.
    pub n_cycles_from_log: usize,
    /// Cycles probed, by why the log could not answer them ([`from_log::ProbeReason`]).
    pub probes_by_reason: [usize; 4],
    /// Requests made reading the outcome log (LIST pages and GETs), and objects read.
    pub n_log_requests: usize,
    pub n_log_objects: usize,
    /// What could not be used (log objects unreadable, of a later schema, from the future).
    pub warnings: Vec<String>,
    /// Whether the history's compacted log was written (`None`: not asked to), and why not.
    pub compacted: Option<Result<(), String>>,
    /// Where the scan's time went.
    pub phases: ScanPhases,
    /// What the judged artifacts add up to, counted as each is judged: a scan that writes
    /// its artifacts as it goes and keeps none of them (`artifacts` empty) still heads and
    /// closes `history.json` with these.
    pub totals: Totals<'r>,
}

/// The counts of every judged artifact (kept in [`History::artifacts`] or not).
#[derive(Debug, Clone, Default)]
pub struct Totals<'r> {
    pub n_artifacts: usize,
    /// Expected cycles with nothing for them.
    pub gaps: usize,
    pub sla: SlaReport<'r>,
}

impl<'r> Totals<'r> {
    /// Adds `artifact`'s cycles.
    pub fn count(&mut self, artifact: &ArtifactHistory<'r>) {
        self.n_artifacts += 1;
        self.gaps += artifact.gap_count();
        self.sla.add(artifact);
    }
}

/// The scan's wall time by phase (logged with its summary; the benchmark prints it).
#[derive(Debug, Clone, Copy, Default)]
pub struct ScanPhases {
    /// Reading the outcome log: the compacted log, the ledger, the passes' objects.
    pub read_log: Duration,
    /// Answering or probing every planned cycle.
    pub cycles: Duration,
    /// Writing the compacted log (during the scan, a batch of artifacts at a time).
    pub write_log: Duration,
    /// Writing `history.json` and the page's digest during the scan (0 when the scan keeps
    /// its artifacts for the caller to write).
    pub write_files: Duration,
}

impl<'r> History<'r> {
    /// Keeps `artifact` and counts it.
    pub fn push(&mut self, artifact: ArtifactHistory<'r>) {
        self.totals.count(&artifact);
        self.artifacts.push(artifact);
    }

    /// The judged artifacts (kept or only counted).
    pub fn n_artifacts(&self) -> usize {
        self.totals.n_artifacts
    }

    /// The SLA report of every judged artifact.
    pub fn sla(&self) -> &SlaReport<'r> {
        &self.totals.sla
    }

    /// The deadline cut the scan short.
    pub fn truncated(&self) -> bool {
        !self.not_scanned.is_empty()
    }

    /// Past cycles that were probed (expected ones; a pointer's one), those the outcome log
    /// answered left out.
    pub fn n_cycles_probed(&self) -> usize {
        let expected = self.totals.sla.overall.expected;
        expected.saturating_sub(self.n_cycles_from_log)
    }

    /// Expected cycles with nothing for them, over every artifact.
    pub fn gap_count(&self) -> usize {
        self.totals.gaps
    }

    /// `probes_by_reason` by name.
    pub fn probes_by_reason(&self) -> std::collections::BTreeMap<&'static str, usize> {
        from_log::ProbeReason::ALL
            .iter()
            .map(|r| (r.name(), self.probes_by_reason[r.index()]))
            .collect()
    }

    /// Seconds, rounded to the millisecond.
    pub fn duration_seconds(&self) -> f64 {
        (self.duration.as_secs_f64() * 1000.0).round() / 1000.0
    }
}

/// One artifact's history: `cells[i]` is the outcome of `cycles[first + i]`, newest first.
#[derive(Debug, Clone)]
pub struct ArtifactHistory<'r> {
    pub spec: &'r ArtifactSpec,
    pub cycles: Arc<[Cycle]>,
    pub first: usize,
    pub cells: Vec<CellOutcome>,
    /// Per cell, whether the scan probed it (false: not expected, or the outcome log answered).
    pub probed: Vec<bool>,
    /// A set's (`partitions:`) counts per cell, when known; empty for an artifact that is
    /// not a set.
    pub set_cycles: Vec<Option<SetCycle>>,
}

impl ArtifactHistory<'_> {
    /// Each cycle with its outcome, newest first.
    pub fn cycles(&self) -> impl Iterator<Item = (&Cycle, &CellOutcome)> {
        self.cycles[self.first..].iter().zip(&self.cells)
    }

    /// The set's counts in its `cell`-th cycle, when it is a set and they are known.
    pub fn set_cycle(&self, cell: usize) -> Option<SetCycle> {
        self.set_cycles.get(cell).copied().flatten()
    }

    /// Expected cycles with nothing for them (not found, or only an older object). A failed
    /// probe is not a gap: nothing is known about that cycle.
    pub fn gap_count(&self) -> usize {
        self.cells
            .iter()
            .filter(|c| matches!(c, CellOutcome::Absent { .. }))
            .count()
    }
}
